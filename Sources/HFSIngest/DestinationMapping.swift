/// SOURCE/<relative path> → DEST/<relative path>: turns a path relative to a source root (or a
/// path inside an archive) into the relative hfs path it is stored at, so that a rerun lands on
/// the same paths. `./` prefixes, repeated and trailing slashes are dropped; `.` and `..`
/// components, empty paths, NUL and control characters, and components or paths above the hfs
/// limits are errors (kind `.destination`). The result still goes through `HFSPath` validation in
/// the caller (`HFSPath(dest).appending(relative:)`); these rules are the same, checked early so
/// that a bad name is reported with its source.
public enum DestinationMapping {
    /// The validated relative destination of `relativePath`, components joined with `/`.
    public static func relativeDestination(_ relativePath: String, source: String) throws -> String {
        func fail(_ why: String) -> IngestError {
            IngestError(.destination, "'\(printable(relativePath))' in \(printable(source)): \(why)")
        }
        var components: [Substring] = []
        for c in relativePath.split(separator: "/", omittingEmptySubsequences: true) {
            if c == "." && components.isEmpty { continue }          // leading ./
            if c == "." || c == ".." { throw fail("has a '\(c)' component") }
            if c.utf8.count > IngestLimits.pathComponentBytesMax {
                throw fail("has a component longer than \(IngestLimits.pathComponentBytesMax) bytes")
            }
            if c.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
                throw fail("has a control character")
            }
            components.append(c)
        }
        guard !components.isEmpty else { throw fail("is empty") }
        let joined = components.joined(separator: "/")
        if joined.utf8.count + 1 > IngestLimits.pathBytesMax { throw fail("is longer than \(IngestLimits.pathBytesMax) bytes") }
        return joined
    }

    /// `dest` (an absolute hfs path) joined with the validated `relativePath`.
    public static func destination(_ dest: String, _ relativePath: String, source: String) throws -> String {
        let relative = try relativeDestination(relativePath, source: source)
        let base = dest.hasSuffix("/") ? String(dest.dropLast()) : dest
        return base + "/" + relative
    }
}
