import Foundation
import HFSCore
import Testing
import HFSTestSupport

enum TestData {
    /// `count` pseudo-random (incompressible) bytes.
    static func random(_ count: Int, seed: UInt64) -> Data {
        var g = SeededRandom(seed: seed)
        var d = Data(count: count)
        d.withUnsafeMutableBytes { raw in
            var i = 0
            while i + 8 <= count {
                raw.storeBytes(of: g.next(), toByteOffset: i, as: UInt64.self)
                i += 8
            }
            while i < count {
                raw[i] = UInt8(truncatingIfNeeded: g.next())
                i += 1
            }
        }
        return d
    }

    /// A binary PPM (P6) with a diagonal gradient: very compressible.
    static func ppm(width: Int = 640, height: Int = 480) -> Data {
        var d = Data("P6\n\(width) \(height)\n255\n".utf8)
        var pixels = [UInt8](repeating: 0, count: width * 3 * height)
        for y in 0..<height {
            for x in 0..<(width * 3) { pixels[y * width * 3 + x] = UInt8(truncatingIfNeeded: x * 7 + y) }
        }
        d.append(contentsOf: pixels)
        return d
    }

    /// A binary PPM (P6) of a smooth picture with sensor noise (±2 on every sample), the kind
    /// of raw pixels lz4 alone hardly shrinks.
    static func noisyPPM(width: Int, height: Int, seed: UInt64 = 5) -> Data {
        var g = SeededRandom(seed: seed)
        var d = Data("P6\n\(width) \(height)\n255\n".utf8)
        var pixels = [UInt8](repeating: 0, count: width * 3 * height)
        for y in 0..<height {
            for x in 0..<width {
                for c in 0..<3 {
                    let smooth = (x * 200 / width + y * 50 / height + c * 30) & 0xFF
                    pixels[(y * width + x) * 3 + c] = UInt8(truncatingIfNeeded: smooth + Int(g.next() % 5) - 2)
                }
            }
        }
        d.append(contentsOf: pixels)
        return d
    }

    /// A file that starts like a JPEG (SOI + JFIF APP0 segment) followed by `count` bytes of a
    /// repeating, very compressible pattern: a writer that ignored the magic bytes would
    /// compress it, so a stored size ≥ its size shows it was stored as it is.
    static func jpegLike(_ count: Int) -> Data {
        var d = Data([0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 0x4A, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00,
                      0x00, 0x01, 0x00, 0x01, 0x00, 0x00])
        d.append(contentsOf: (0..<count - d.count).map { UInt8(truncatingIfNeeded: $0 % 61) })
        return d
    }

    static func write(_ data: Data, to url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url)
    }

    /// `count` files of 1…`maxBytes` random bytes under `dir`, spread over `subdirs` folders
    /// (`d00/f0000.bin`…); 0 subdirs puts them all at the top.
    static func tree(at dir: URL, files count: Int, subdirs: Int, minBytes: Int = 1, maxBytes: Int, seed: UInt64) throws {
        var g = SeededRandom(seed: seed)
        for i in 0..<count {
            let size = Int.random(in: minBytes...maxBytes, using: &g)
            let rel = subdirs > 0 ? String(format: "d%02d/f%04d.bin", i % subdirs, i) : String(format: "f%04d.bin", i)
            try write(random(size, seed: seed &+ UInt64(i) &* 7919), to: dir.appendingPathComponent(rel))
        }
    }

    /// Relative paths of the regular files under `dir`, sorted.
    static func files(under dir: URL) -> [String] {
        guard let e = FileManager.default.enumerator(atPath: dir.path) else { return [] }
        var out: [String] = []
        while let rel = e.nextObject() as? String {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent(rel).path, isDirectory: &isDir), !isDir.boolValue {
                out.append(rel)
            }
        }
        return out.sorted()
    }

    /// Records an issue for every file that is missing, extra or different between two trees;
    /// returns the number of differences.
    @discardableResult
    static func expectSameTree(_ a: URL, _ b: URL, sourceLocation: SourceLocation = #_sourceLocation) -> Int {
        let fa = files(under: a), fb = files(under: b)
        var bad = 0
        if fa != fb {
            let missing = Set(fa).subtracting(fb).sorted(), extra = Set(fb).subtracting(fa).sorted()
            Issue.record("trees differ: \(missing.count) missing (\(missing.prefix(5))), \(extra.count) extra (\(extra.prefix(5))) in \(b.path)",
                         sourceLocation: sourceLocation)
            bad += missing.count + extra.count
        }
        for rel in Set(fa).intersection(fb).sorted() {
            let da = try? Data(contentsOf: a.appendingPathComponent(rel))
            let db = try? Data(contentsOf: b.appendingPathComponent(rel))
            if da == nil || da != db {
                bad += 1
                if bad <= 5 { Issue.record("\(rel) differs after the round trip", sourceLocation: sourceLocation) }
            }
        }
        return bad
    }
}

// MARK: what the CLI prints

/// `hfs stat --json FILE` (the fields the tests rely on).
struct StatJSON: Decodable {
    var size: Int64
    var replication: Int
    var codec: String?
    var storedSize: Int64
    var blocks: [Block]

    struct Block: Decodable {
        /// The block id (as in the datanodes' `blk_<id>` files).
        var block: Int64
        var replicas: [Replica]
    }

    /// A replica location: an object with an `id` (DatanodeInfo) or just the datanode id.
    struct Replica: Decodable {
        var id: String
        private enum Keys: String, CodingKey { case id }
        init(from decoder: Decoder) throws {
            if let s = try? decoder.singleValueContainer().decode(String.self) {
                id = s
            } else {
                id = try decoder.container(keyedBy: Keys.self).decode(String.self, forKey: .id)
            }
        }
    }
}

extension TestCluster {
    /// `hfs stat --json PATH`, decoded; nil (with a recorded issue) when it fails or does not decode.
    func stat(_ path: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> StatJSON? {
        let r = try await ok(["stat", "--json", path], sourceLocation: sourceLocation)
        guard r.status == 0 else { return nil }
        do {
            return try JSONDecoder().decode(StatJSON.self, from: r.stdout)
        } catch {
            Issue.record("stat --json \(path) does not decode: \(error); output: \(r.stdoutText.prefix(800))", sourceLocation: sourceLocation)
            return nil
        }
    }

    /// `hfs ls --json PATH`: one JSON object per line.
    func lsJSON(_ args: [String], sourceLocation: SourceLocation = #_sourceLocation) async throws -> [[String: Any]] {
        let r = try await ok(["ls", "--json"] + args, sourceLocation: sourceLocation)
        var out: [[String: Any]] = []
        for line in r.lines {
            guard let obj = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else {
                Issue.record("ls --json line is not a JSON object: \(line)", sourceLocation: sourceLocation)
                continue
            }
            out.append(obj)
        }
        return out
    }
}

/// A clean CLI error: non-zero exit, stderr is exactly one line starting `hfs: error:`.
func expectCleanError(_ r: CLIResult, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(!r.timedOut, "\(what): did not finish in time", sourceLocation: sourceLocation)
    #expect(r.status != 0, "\(what) should fail: \(r)", sourceLocation: sourceLocation)
    let err = r.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
    #expect(err.hasPrefix("hfs: error:"), "\(what): stderr should start with 'hfs: error:': \(r.stderr.debugDescription)",
            sourceLocation: sourceLocation)
    #expect(!err.contains("\n"), "\(what): the error should be one line: \(r.stderr.debugDescription)", sourceLocation: sourceLocation)
}

func int64(_ v: Any?) -> Int64? {
    switch v {
    case let i as Int: return Int64(i)
    case let i as Int64: return i
    case let d as Double: return d == d.rounded() ? Int64(d) : nil
    case let n as NSNumber: return n.int64Value
    default: return nil
    }
}

/// Records an issue when `got` is not `want`, with both sizes and the first differing offset.
/// (Never `#expect(a == b)` on big `Data`: on failure Swift Testing diffs the two collections,
/// which takes forever for megabytes.)
func expectSameBytes(_ got: Data?, _ want: Data, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
    guard let got else {
        Issue.record("\(what): nothing to compare (want \(want.count) bytes)", sourceLocation: sourceLocation)
        return
    }
    guard got != want else { return }
    let firstDiff = zip(got, want).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(got.count, want.count)
    Issue.record("\(what): got \(got.count) bytes, want \(want.count); first difference at offset \(firstDiff)",
                 sourceLocation: sourceLocation)
}

extension TestCluster {
    /// `hfs cat PATH` succeeds and prints exactly `want`.
    func expectCat(_ path: String, _ want: Data, _ what: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let r = try await ok(["cat", path], sourceLocation: sourceLocation)
        if r.status == 0 { expectSameBytes(r.stdout, want, what ?? "cat \(path)", sourceLocation: sourceLocation) }
    }
}
