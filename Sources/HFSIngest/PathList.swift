import Foundation

/// A text file listing what to ingest, one local path or `http(s)://` URL per line; blank lines
/// and lines starting with `#` are skipped, surrounding whitespace is trimmed.
///
/// Each item gets the relative path it is stored at under DEST:
/// - a URL: `host/path` with the path percent-decoded, without port, query or fragment
///   (`https://example.com:8443/imgs/cat%201.jpg?x=1` → `example.com/imgs/cat 1.jpg`). The port is
///   left out so that the same list served from another port lands on the same paths.
/// - a relative local path: resolved against the list file's folder and stored at that relative
///   path (`class/a.jpg` → `class/a.jpg`);
/// - an absolute local path (or `file://` URL): stored at the path without its leading `/`
///   (`/data/x/a.jpg` → `data/x/a.jpg`), which is unique and does not depend on the other lines.
/// Two lines mapping to the same destination, a URL without a file name, unsupported schemes and
/// `..` components are errors naming the line.
public struct PathListItem: Sendable, Equatable {
    public enum Location: Sendable, Equatable {
        case local(path: String)
        case url(String)
    }

    public var location: Location
    /// Where it goes under DEST (validated by ``DestinationMapping``).
    public var relativePath: String
    /// 1-based line in the list file.
    public var line: Int

    public init(location: Location, relativePath: String, line: Int) {
        self.location = location
        self.relativePath = relativePath
        self.line = line
    }
}

public enum PathList {
    public static func read(contentsOfFile path: String) throws -> [PathListItem] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw IngestError(.io, "cannot read path list '\(printable(path))'")
        }
        let folder = (path as NSString).deletingLastPathComponent
        return try parse(String(decoding: data, as: UTF8.self), name: path, baseDirectory: folder.isEmpty ? "." : folder)
    }

    public static func parse(_ text: String, name: String, baseDirectory: String) throws -> [PathListItem] {
        var items: [PathListItem] = []
        var lineOf: [String: Int] = [:]
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = index + 1
            let s = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if s.isEmpty || s.hasPrefix("#") { continue }
            let where_ = "\(printable(name)) line \(line)"
            let item = try parseLine(s, line: line, where_: where_, baseDirectory: baseDirectory)
            if let previous = lineOf[item.relativePath] {
                throw IngestError(.pathList, "\(where_): destination '\(printable(item.relativePath))' is also the destination of line \(previous)")
            }
            lineOf[item.relativePath] = line
            items.append(item)
        }
        return items
    }

    static func parseLine(_ s: String, line: Int, where_: String, baseDirectory: String) throws -> PathListItem {
        let lower = s.lowercased()
        if lower.hasPrefix("http://") || lower.hasPrefix("https://") {
            guard let url = URLComponents(string: s), let host = url.host, !host.isEmpty else {
                throw IngestError(.pathList, "\(where_): '\(printable(s))' is not a valid URL")
            }
            let path = url.percentEncodedPath.removingPercentEncoding ?? url.percentEncodedPath
            guard !path.isEmpty, !path.hasSuffix("/") else {
                throw IngestError(.pathList, "\(where_): URL '\(printable(s))' has no file name")
            }
            let relative = try destination(host.lowercased() + "/" + path, where_: where_)
            return PathListItem(location: .url(s), relativePath: relative, line: line)
        }
        if lower.hasPrefix("file://") {
            guard let url = URL(string: s), url.isFileURL else {
                throw IngestError(.pathList, "\(where_): '\(printable(s))' is not a valid file URL")
            }
            return PathListItem(location: .local(path: url.path), relativePath: try destination(url.path, where_: where_), line: line)
        }
        if let colon = s.range(of: "://") {
            throw IngestError(.pathList, "\(where_): unsupported scheme '\(printable(String(s[..<colon.lowerBound])))' (http, https, file or a local path)")
        }
        let absolute = s.hasPrefix("/") ? s : (baseDirectory as NSString).appendingPathComponent(s)
        return PathListItem(location: .local(path: absolute), relativePath: try destination(s, where_: where_), line: line)
    }

    static func destination(_ path: String, where_: String) throws -> String {
        do {
            return try DestinationMapping.relativeDestination(path, source: "path list")
        } catch let e as IngestError {
            throw IngestError(.pathList, "\(where_): \(e.message)")
        }
    }
}
