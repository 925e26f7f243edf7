import Foundation
import HFSClient
import HFSCore

/// `hfs dataset export DEST --webdataset OUTDIR`: the images of a dataset as WebDataset tar
/// shards on local disk. Each sample is `<key>.<ext>` (the image as stored), `<key>.cls` (its
/// label, when it has one) and `<key>.json` (path, label, format, width, height, sha256). The key
/// is the image's path under the dataset without its extension, dots in the file name turned into
/// `_` (webdataset splits keys at the first dot). Shards are `OUTDIR/shard-000000.tar`, ...,
/// each closed once it holds `shardBytes` or more. Samples go in path order, or shuffled with a
/// seeded generator (same seed, same order).
public struct WebDatasetExport {
    public var client: HFSClient
    public var dataset: HFSPath
    public var outDir: String
    public var shardBytes: Int64
    /// nil: path order.
    public var shuffleSeed: UInt64?

    public init(client: HFSClient, dataset: HFSPath, outDir: String, shardBytes: Int64, shuffleSeed: UInt64?) {
        self.client = client; self.dataset = dataset; self.outDir = outDir; self.shardBytes = shardBytes; self.shuffleSeed = shuffleSeed
    }

    public struct Result: Sendable, Codable {
        public var samples = 0
        public var shards: [String] = []
        public var bytes: Int64 = 0
    }

    public func run() async throws -> Result {
        var rows: [ManifestRow] = []
        var after: String?
        repeat {
            let page = try await client.manifest(dataset, after: after)
            rows += page.rows.filter { $0.format != nil }
            after = page.next
        } while after != nil
        if let seed = shuffleSeed { rows = Self.shuffled(rows, seed: seed) }
        try FileManager.default.createDirectory(atPath: outDir, withIntermediateDirectories: true)
        var result = Result()
        var writer: TarWriter?
        var keys = Set<String>()
        // Read ahead in chunks, a few files at once; write in order.
        let chunk = 64
        for start in stride(from: 0, to: rows.count, by: chunk) {
            let part = Array(rows[start..<min(start + chunk, rows.count)])
            let bodies = try await read(part)
            for (row, bytes) in zip(part, bodies) {
                if writer == nil || writer!.bytesWritten >= shardBytes {
                    if let w = writer { try w.finish(); result.bytes += w.bytesWritten }
                    let name = (outDir as NSString).appendingPathComponent(String(format: "shard-%06d.tar", result.shards.count))
                    writer = try TarWriter(path: name)
                    result.shards.append(name)
                }
                var (key, ext) = key(of: row.path)
                if !keys.insert(key).inserted { key += "_\(result.samples)"; keys.insert(key) }
                try writer!.add(name: "\(key).\(ext)", bytes: bytes)
                if let label = row.label { try writer!.add(name: "\(key).cls", bytes: Array(label.utf8)) }
                try writer!.add(name: "\(key).json", bytes: Array(try JSONEncoder().encode(row)))
                result.samples += 1
            }
        }
        if let w = writer { try w.finish(); result.bytes += w.bytesWritten }
        return result
    }

    private func read(_ rows: [ManifestRow]) async throws -> [[UInt8]] {
        let client = self.client
        let files = try await client.locations(rows.map { try HFSPath($0.path) })
        return try await withThrowingTaskGroup(of: (Int, [UInt8]).self) { group in
            for (i, f) in files.enumerated() {
                group.addTask {
                    var out: [UInt8] = []
                    out.reserveCapacity(Int(f.status.size))
                    try await client.read(f) { buffer in out += buffer.readableBytesView }
                    return (i, out)
                }
            }
            var bodies = [[UInt8]](repeating: [], count: files.count)
            for try await (i, b) in group { bodies[i] = b }
            return bodies
        }
    }

    /// Key and extension of a dataset path.
    func key(of path: String) -> (String, String) {
        var relative = String(path.dropFirst(dataset.isRoot ? 1 : dataset.description.count + 1))
        var ext = "bin"
        if let slash = relative.lastIndex(of: "/").map({ relative.index(after: $0) }) ?? Optional(relative.startIndex),
           let dot = relative[slash...].lastIndex(of: ".") {
            ext = String(relative[relative.index(after: dot)...]).lowercased()
            relative = String(relative[..<dot])
        }
        let slash = relative.lastIndex(of: "/").map { relative.index(after: $0) } ?? relative.startIndex
        let name = relative[slash...].replacingOccurrences(of: ".", with: "_")
        return (String(relative[..<slash]) + name, ext)
    }

    /// Fisher–Yates with SplitMix64: the same seed gives the same order on every machine.
    static func shuffled<T>(_ items: [T], seed: UInt64) -> [T] {
        var a = items
        var state = seed
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        if a.count > 1 {
            for i in stride(from: a.count - 1, to: 0, by: -1) { a.swapAt(i, Int(next() % UInt64(i + 1))) }
        }
        return a
    }
}
