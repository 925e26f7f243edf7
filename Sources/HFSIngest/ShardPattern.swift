/// Expands WebDataset-style shard patterns, as the `braceexpand` package does for the common
/// cases: `train-{0000..0099}.tar` (numeric ranges, zero-padded to the width of the first bound
/// when it has a leading zero or both bounds have the same width; descending ranges count down),
/// `{a,b,c}` lists, and several braces in one pattern (expanded left to right, last brace fastest).
/// Braces do not nest. A pattern without braces expands to itself.
///
/// Errors (`IngestError` of kind `.pattern`) name the pattern and the column: an unclosed or
/// stray brace, an empty `{}`, a range with non-numbers, a nested brace, or more than `limit`
/// expansions.
public enum ShardPattern {
    public static func expand(_ pattern: String, limit: Int = IngestLimits.shardPatternExpansionsMax) throws -> [String] {
        let parts = try parse(pattern)
        var count = 1
        for case .choice(let options) in parts {
            let (product, overflow) = count.multipliedReportingOverflow(by: options.count)
            guard !overflow, product <= limit else {
                throw IngestError(.pattern, "shard pattern '\(printable(pattern))' expands to more than \(limit) names")
            }
            count = product
        }
        var out = [""]
        for part in parts {
            switch part {
            case .literal(let s): out = out.map { $0 + s }
            case .choice(let options): out = out.flatMap { prefix in options.map { prefix + $0 } }
            }
        }
        return out
    }

    /// True when `s` contains a brace expression (so it is a pattern, not a plain path).
    public static func isPattern(_ s: String) -> Bool { s.contains("{") }

    enum Part { case literal(String), choice([String]) }

    static func parse(_ pattern: String) throws -> [Part] {
        func fail(_ why: String, _ column: Int) -> IngestError {
            IngestError(.pattern, "shard pattern '\(printable(pattern))': \(why) at column \(column)")
        }
        let chars = Array(pattern)
        var parts: [Part] = []
        var literal = ""
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == "}" { throw fail("'}' without '{'", i + 1) }
            guard c == "{" else { literal.append(c); i += 1; continue }
            guard let close = chars[(i + 1)...].firstIndex(of: "}") else { throw fail("unclosed '{'", i + 1) }
            let body = String(chars[(i + 1)..<close])
            if body.contains("{") { throw fail("nested '{'", i + 1) }
            if !literal.isEmpty { parts.append(.literal(literal)); literal = "" }
            parts.append(.choice(try options(body, column: i + 1, fail: fail)))
            i = close + 1
        }
        if !literal.isEmpty { parts.append(.literal(literal)) }
        return parts
    }

    static func options(_ body: String, column: Int, fail: (String, Int) -> IngestError) throws -> [String] {
        if body.isEmpty { throw fail("empty '{}'", column) }
        if let range = body.range(of: "..") {
            let lo = String(body[..<range.lowerBound]), hi = String(body[range.upperBound...])
            guard let a = Int(lo), let b = Int(hi), lo.allSatisfy(\.isNumber), hi.allSatisfy(\.isNumber) else {
                throw fail("range '{\(body)}' needs two non-negative integers", column)
            }
            let width = (lo.hasPrefix("0") && lo.count > 1) || lo.count == hi.count ? lo.count : 0
            let step = a <= b ? 1 : -1
            let span = abs(b - a) + 1
            guard span <= IngestLimits.shardPatternExpansionsMax else {
                throw fail("range '{\(body)}' has more than \(IngestLimits.shardPatternExpansionsMax) values", column)
            }
            return stride(from: a, through: b, by: step).map { String($0).leftPadded(width) }
        }
        guard body.contains(",") else { throw fail("'{\(body)}' is neither a range (a..b) nor a list (a,b)", column) }
        return body.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
