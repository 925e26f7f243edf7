import Foundation
import HFSImaging

/// Groups the files of a WebDataset tar into samples, streaming: files sharing a key are
/// consecutive (the WebDataset convention), so a sample ends when the key changes.
///
/// Key and extension follow webdataset's `base_plus_ext`: the key is the path up to the first dot
/// of its last component, the extension the rest (`a/b/0001.seg.png` → key `a/b/0001`, extension
/// `seg.png`). A file without a dot is a sample of its own with the extension "".
///
/// In each sample, the image is the first file that probes as a valid image and whose extension
/// is not a known sidecar (`cls`, `txt`, `json`); when none is valid, the first non-sidecar file is
/// still the image (with its invalid probe result), so that it is reported, never dropped. All
/// other files are sidecars, kept with the image; `.cls` (UTF-8, whitespace-trimmed) is the label.
/// A key that reappears later in the archive starts a new sample (as in webdataset).
public final class WebDatasetGrouper {
    public static let sidecarExtensions: Set<String> = ["cls", "txt", "json"]

    private let reader: TarReader
    private var pending: TarEntry?
    private var group: [TarEntry] = []
    private var groupKey: String?

    public init(reader: TarReader) { self.reader = reader }

    /// The next sample, or nil at the end of the archive. Errors from the reader pass through; an
    /// `.entryTooLarge` error leaves the grouper usable (that entry is skipped, the sample being
    /// collected is kept).
    public func next() throws -> Sample? {
        while true {
            let entry: TarEntry?
            if let p = pending { entry = p; pending = nil } else { entry = try reader.next() }
            guard let entry else { return flush() }
            let key = Self.split(entry.path).key
            if let groupKey, groupKey != key {
                pending = entry
                return flush()
            }
            groupKey = key
            group.append(entry)
        }
    }

    private func flush() -> Sample? {
        guard let key = groupKey else { return nil }
        defer { group = []; groupKey = nil }
        return Sample(key: key, files: group)
    }

    /// webdataset's `base_plus_ext`.
    public static func split(_ path: String) -> (key: String, ext: String) {
        let slash = path.lastIndex(of: "/").map { path.index(after: $0) } ?? path.startIndex
        guard let dot = path[slash...].firstIndex(of: ".") else { return (path, "") }
        return (String(path[..<dot]), String(path[path.index(after: dot)...]))
    }
}

/// One WebDataset sample: an image with its sidecar files.
public struct Sample: Sendable {
    public struct File: Sendable {
        public var ext: String
        public var entry: TarEntry
    }

    public var key: String
    /// The image file, or nil when the sample only has sidecars.
    public var image: TarEntry?
    /// The probe result of `image`.
    public var probe: ProbeResult?
    /// Every file except the image, in archive order.
    public var sidecars: [File]
    /// The trimmed text of the `.cls` sidecar, when there is one and it is not blank.
    public var label: String?

    init(key: String, files: [TarEntry]) {
        self.key = key
        var imageIndex: Int?
        var firstCandidate: Int?
        var probe: ProbeResult?
        for (i, f) in files.enumerated() where !WebDatasetGrouper.sidecarExtensions.contains(WebDatasetGrouper.split(f.path).ext.lowercased()) {
            let r = ImageProbe.probe(f.bytes)
            if firstCandidate == nil { firstCandidate = i; probe = r }
            if r.info != nil { imageIndex = i; probe = r; break }
        }
        let chosen = imageIndex ?? firstCandidate
        self.image = chosen.map { files[$0] }
        self.probe = chosen == nil ? nil : probe
        self.sidecars = files.enumerated().filter { $0.offset != chosen }
            .map { File(ext: WebDatasetGrouper.split($0.element.path).ext, entry: $0.element) }
        self.label = sidecars.first { $0.ext.lowercased() == "cls" }
            .map { String(decoding: $0.entry.bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) }
            .flatMap { $0.isEmpty ? nil : $0 }
    }
}
