/// An absolute, validated hfs path: `/`-rooted, no `.` or `..`, no empty components, no NUL or
/// control characters, components ≤ ``Limits/pathComponentBytesMax`` bytes, whole path ≤
/// ``Limits/pathBytesMax``. Repeated and trailing slashes collapse (as HDFS does).
///
/// Validated by the client and again by the namenode: never trust a path from the wire.
public struct HFSPath: Hashable, Sendable, CustomStringConvertible, Comparable {
    /// Components from the root; empty for `/`.
    public let components: [String]

    public static let root = HFSPath(validated: [])

    private init(validated components: [String]) { self.components = components }

    public init(_ raw: String) throws {
        guard raw.hasPrefix("/") else {
            throw HFSError.invalid("path '\(Self.printable(raw))' is not absolute (remote paths start with /)")
        }
        if raw.utf8.count > Limits.pathBytesMax {
            throw HFSError.invalid("path is longer than \(Limits.pathBytesMax) bytes")
        }
        var parts: [String] = []
        for sub in raw.split(separator: "/", omittingEmptySubsequences: true) {
            try Self.check(component: String(sub), in: raw)
            parts.append(String(sub))
        }
        if parts.count > Limits.pathDepthMax {
            throw HFSError.invalid("path is deeper than \(Limits.pathDepthMax) components")
        }
        self.components = parts
    }

    public static func check(component c: String, in raw: String) throws {
        if c == "." || c == ".." {
            throw HFSError.invalid("path '\(printable(raw))' has a '\(c)' component")
        }
        if c.utf8.count > Limits.pathComponentBytesMax {
            throw HFSError.invalid("path component is longer than \(Limits.pathComponentBytesMax) bytes in '\(printable(raw))'")
        }
        for u in c.unicodeScalars where u.value < 0x20 || u.value == 0x7F {
            throw HFSError.invalid("path '\(printable(raw))' has a control character (\\u{\(String(u.value, radix: 16))})")
        }
    }

    /// `raw` with control characters escaped, so an error message stays one printable line.
    public static func printable(_ raw: String) -> String {
        var out = ""
        for u in raw.unicodeScalars {
            if u.value < 0x20 || u.value == 0x7F { out += "\\u{\(String(u.value, radix: 16))}" } else { out.unicodeScalars.append(u) }
        }
        return out
    }

    public var isRoot: Bool { components.isEmpty }
    public var name: String { components.last ?? "" }
    public var parent: HFSPath? { isRoot ? nil : HFSPath(validated: Array(components.dropLast())) }
    public var description: String { "/" + components.joined(separator: "/") }

    /// `self` + one validated component.
    public func appending(_ component: String) throws -> HFSPath {
        try Self.check(component: component, in: description + "/" + component)
        return HFSPath(validated: components + [component])
    }

    /// Appends a relative local path such as `a/b/c.jpg` (each component validated).
    public func appending(relative: String) throws -> HFSPath {
        var p = self
        for c in relative.split(separator: "/", omittingEmptySubsequences: true) { p = try p.appending(String(c)) }
        return p
    }

    /// True when `self` is `other` or lies under it.
    public func isWithin(_ other: HFSPath) -> Bool {
        components.count >= other.components.count && Array(components.prefix(other.components.count)) == other.components
    }

    public static func < (a: HFSPath, b: HFSPath) -> Bool { a.components.lexicographicallyPrecedes(b.components) }
}

extension HFSPath: Codable {
    public init(from decoder: Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        try self.init(raw)
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
