import Foundation

/// Where an image's label comes from (`--labels dirs|none|FILE.csv`).
///
/// - `dirs`: the first component of the path relative to the source root (`class/image.jpg` →
///   `class`); files directly under the root have no label.
/// - `none`: no labels (WebDataset `.cls` sidecars still label their samples).
/// - a CSV file: rows `path,label`, with or without a `path,label` header; RFC 4180 quoting.
///   `path` is relative to the source root (or the path inside an archive); a leading `./` is
///   ignored. Blank lines are skipped; a row without exactly two fields, an empty path or a path
///   listed twice is an error naming the line.
public enum LabelSource: Sendable {
    case none
    case dirs
    case csv(CSVLabels)

    /// Parses the `--labels` argument; anything other than `dirs` or `none` is a CSV file to read.
    public static func parse(_ argument: String) throws -> LabelSource {
        switch argument {
        case "none": return .none
        case "dirs": return .dirs
        case "": throw IngestError(.labels, "--labels needs dirs, none or a CSV file")
        default: return .csv(try CSVLabels(contentsOfFile: argument))
        }
    }

    /// The label of the file at `relativePath` (relative to its source root or archive).
    public func label(forRelativePath relativePath: String) -> String? {
        switch self {
        case .none:
            return nil
        case .dirs:
            let parts = relativePath.split(separator: "/", omittingEmptySubsequences: true)
            return parts.count >= 2 ? String(parts[0]) : nil
        case .csv(let labels):
            return labels.label(for: relativePath)
        }
    }
}

/// Labels read from a CSV file, keyed by relative path.
public struct CSVLabels: Sendable {
    public let labels: [String: String]
    public let name: String

    public init(contentsOfFile path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw IngestError(.labels, "cannot read labels file '\(printable(path))'")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw IngestError(.labels, "labels file '\(printable(path))' is not UTF-8")
        }
        try self.init(text: text, name: path)
    }

    public init(text: String, name: String) throws {
        self.name = name
        var labels: [String: String] = [:]
        var lineOf: [String: Int] = [:]
        let records = try CSV.parse(text, name: name)
        for (index, record) in records.enumerated() {
            let f = record.fields
            if index == 0, f.count == 2,
               f[0].trimmingCharacters(in: .whitespaces).lowercased() == "path",
               f[1].trimmingCharacters(in: .whitespaces).lowercased() == "label" { continue }
            guard f.count == 2 else {
                throw IngestError(.labels, "\(name) line \(record.line): expected 2 fields (path,label), found \(f.count)")
            }
            let path = Self.normalized(f[0])
            guard !path.isEmpty else { throw IngestError(.labels, "\(name) line \(record.line): empty path") }
            if let previous = lineOf[path] {
                throw IngestError(.labels, "\(name) line \(record.line): path '\(printable(path))' already labelled on line \(previous)")
            }
            lineOf[path] = record.line
            labels[path] = f[1].trimmingCharacters(in: .whitespaces)
        }
        self.labels = labels
    }

    /// The label of `relativePath`; nil when it is not listed or its label is empty.
    public func label(for relativePath: String) -> String? {
        labels[Self.normalized(relativePath)].flatMap { $0.isEmpty ? nil : $0 }
    }

    static func normalized(_ path: String) -> String {
        var p = Substring(path.trimmingCharacters(in: .whitespaces))
        while p.hasPrefix("./") { p = p.dropFirst(2) }
        return String(p)
    }
}
