import Foundation

/// `--include` filtering: a comma-separated list of fnmatch-style globs (`*.jpg,*.png`).
///
/// - `*` matches any run of characters except `/`, `?` one character except `/`, `[abc]`,
///   `[a-z]` and `[!abc]` (or `[^abc]`) one character of a set; `\` escapes the next character.
/// - A glob without `/` is matched against the file name (`*.jpg` matches `a/b/c.jpg`); a glob
///   with `/` is matched against the whole path relative to the source root (`train/*/*.jpg`).
/// - Matching ignores case, so `*.jpg` also takes ImageNet's `.JPEG` files.
/// An empty filter (no `--include`) takes every file.
public struct GlobFilter: Sendable {
    public let globs: [String]
    private let compiled: [(pattern: [Character], wholePath: Bool)]

    public init(_ argument: String) throws {
        let globs = argument.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        for g in globs where g.isEmpty {
            throw IngestError(.pattern, "--include '\(printable(argument))' has an empty glob")
        }
        try self.init(globs: globs)
    }

    public init(globs: [String]) throws {
        for g in globs { try Self.validate(g) }
        self.globs = globs
        self.compiled = globs.map { (Array($0.lowercased()), $0.contains("/")) }
    }

    /// True when the file at `relativePath` is taken.
    public func matches(relativePath: String) -> Bool {
        if compiled.isEmpty { return true }
        let path = Array(relativePath.lowercased())
        let name = Array(path[(path.lastIndex(of: "/").map { $0 + 1 } ?? 0)...])
        return compiled.contains { Self.match($0.pattern[...], $0.wholePath ? path[...] : name[...]) }
    }

    static func validate(_ glob: String) throws {
        let c = Array(glob)
        var i = 0
        while i < c.count {
            if c[i] == "\\" { i += 2; continue }
            if c[i] == "[" {
                guard let close = classEnd(c[...], from: i) else {
                    throw IngestError(.pattern, "glob '\(printable(glob))' has an unclosed '['")
                }
                i = close
            }
            i += 1
        }
    }

    /// Index of the `]` closing the class that starts at `open`, or nil.
    static func classEnd(_ p: ArraySlice<Character>, from open: Int) -> Int? {
        var i = open + 1
        if i < p.endIndex && (p[i] == "!" || p[i] == "^") { i += 1 }
        if i < p.endIndex && p[i] == "]" { i += 1 }       // a leading ] is literal
        while i < p.endIndex && p[i] != "]" { i += 1 }
        return i < p.endIndex ? i : nil
    }

    /// fnmatch with FNM_PATHNAME semantics (wildcards never match `/`); iterative with
    /// backtracking to the last `*`.
    static func match(_ p: ArraySlice<Character>, _ s: ArraySlice<Character>) -> Bool {
        var pi = p.startIndex, si = s.startIndex
        var star: (p: Int, s: Int)?
        while si < s.endIndex {
            if pi < p.endIndex {
                switch p[pi] {
                case "*":
                    star = (pi, si)
                    pi += 1
                    continue
                case "?" where s[si] != "/":
                    pi += 1; si += 1
                    continue
                case "[":
                    if let close = classEnd(p, from: pi), s[si] != "/", classMatches(p[(pi + 1)..<close], s[si]) {
                        pi = close + 1; si += 1
                        continue
                    }
                case "\\" where pi + 1 < p.endIndex && p[pi + 1] == s[si]:
                    pi += 2; si += 1
                    continue
                case let c where c != "?" && c != "\\" && c == s[si]:
                    pi += 1; si += 1
                    continue
                default:
                    break
                }
            }
            // mismatch: let the last star absorb one more character (never a '/')
            guard let st = star, s[st.s] != "/" else { return false }
            star = (st.p, st.s + 1)
            pi = st.p + 1
            si = st.s + 1
        }
        while pi < p.endIndex && p[pi] == "*" { pi += 1 }
        return pi == p.endIndex
    }

    static func classMatches(_ body: ArraySlice<Character>, _ c: Character) -> Bool {
        var i = body.startIndex
        var negate = false
        if i < body.endIndex && (body[i] == "!" || body[i] == "^") { negate = true; i += 1 }
        var found = false
        var first = true
        while i < body.endIndex {
            let lo = body[i]
            if i + 2 < body.endIndex && body[i + 1] == "-" {
                if lo <= c && c <= body[i + 2] { found = true }
                i += 3
            } else {
                if lo == c && (lo != "]" || first) { found = true }
                i += 1
            }
            first = false
        }
        return found != negate
    }
}
