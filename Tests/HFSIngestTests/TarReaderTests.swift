import Foundation
import Testing
import HFSIngest
import HFSTestSupport

/// Archives written by Python's `tarfile` in each format, with what they hold.
struct PythonArchive: Decodable {
    var name: String
    var files: [ArchivedFile]
}

struct ArchivedFile: Decodable, Equatable {
    var path: String
    var content: String   // base64
}

enum TarFixtures {
    static let script = #"""
import base64, io, json, os, sys, tarfile, gzip
out = sys.argv[1]
def content(path, n):
    return (path.encode() * (n // max(1, len(path.encode())) + 1))[:n]
files = [
    ('a.txt', 0),
    ('dir/b.bin', 511),
    ('dir/c.bin', 512),
    ('dir/sub/d.bin', 513),
    ('x' * 60 + '/' + 'y' * 60 + '/long-name-over-100.jpg', 1000),
    ('./dotslash.txt', 10),
]
unicode = [('données/été/photo-ß-日本.jpg', 300), ('z' * 120 + '.png', 2000)]
made = []
def build(name, fmt, entries, opener=None, mode='w'):
    path = os.path.join(out, name)
    tf = tarfile.open(path, mode, format=fmt)
    expected = []
    for p, n in entries:
        data = content(p, n)
        ti = tarfile.TarInfo(p); ti.size = n; ti.mtime = 1700000000
        tf.addfile(ti, io.BytesIO(data))
        expected.append(dict(path=p[2:] if p.startswith('./') else p, content=base64.b64encode(data).decode()))
    # things that are not regular files are skipped
    d = tarfile.TarInfo('emptydir'); d.type = tarfile.DIRTYPE; tf.addfile(d)
    s = tarfile.TarInfo('link-to-a'); s.type = tarfile.SYMTYPE; s.linkname = 'a.txt'; tf.addfile(s)
    h = tarfile.TarInfo('hard-to-b'); h.type = tarfile.LNKTYPE; h.linkname = 'dir/b.bin'; tf.addfile(h)
    tf.close()
    made.append(dict(name=name, files=expected))
short = [(p, n) for p, n in files if len(p) <= 100 or p.count('/')]
build('ustar.tar', tarfile.USTAR_FORMAT, short)
build('gnu.tar', tarfile.GNU_FORMAT, files + [('q' * 150 + '.jpg', 77)])
build('pax.tar', tarfile.PAX_FORMAT, files + unicode)
build('pax.tar.gz', tarfile.PAX_FORMAT, files + unicode, mode='w:gz')
build('gnu.tgz', tarfile.GNU_FORMAT, files, mode='w:gz')
build('gz-named-plain.tar', tarfile.GNU_FORMAT, files, mode='w:gz')
# a pax archive with a global header
path = os.path.join(out, 'global.tar')
tf = tarfile.open(path, 'w', format=tarfile.PAX_FORMAT, pax_headers={'comment': 'global'})
ti = tarfile.TarInfo('g.txt'); ti.size = 3; tf.addfile(ti, io.BytesIO(b'abc')); tf.close()
made.append(dict(name='global.tar', files=[dict(path='g.txt', content=base64.b64encode(b'abc').decode())]))
# two concatenated gzip members
raw = open(os.path.join(out, 'ustar.tar'), 'rb').read()
half = len(raw) // 2
open(os.path.join(out, 'multi.tar.gz'), 'wb').write(gzip.compress(raw[:half]) + gzip.compress(raw[half:]))
made.append(dict(name='multi.tar.gz', files=made[0]['files']))
print(json.dumps(made))
"""#

    static func generate(in dir: URL) throws -> [PythonArchive] {
        try JSONDecoder().decode([PythonArchive].self, from: Data(runPython(script, arguments: [dir.path]).utf8))
    }
}

func readAll(_ reader: TarReader) throws -> [ArchivedFile] {
    var out: [ArchivedFile] = []
    while let e = try reader.next() {
        #expect(Int64(e.bytes.count) == e.size)
        out.append(ArchivedFile(path: e.path, content: Data(e.bytes).base64EncodedString()))
    }
    return out
}

func archiveError(_ body: () throws -> Void) -> IngestError? {
    do { try body(); return nil } catch let e as IngestError { return e } catch { return nil }
}

@Suite struct TarReaderTests {
    @Test func readsEveryFormatLikePython() throws {
        try withTemporaryDirectory { dir in
            let archives = try TarFixtures.generate(in: dir)
            #expect(archives.count == 8)
            for a in archives {
                let reader = try TarReader(path: dir.appendingPathComponent(a.name).path)
                #expect(reader.isGzip == (a.name.hasSuffix("gz") || a.name == "gz-named-plain.tar"), "\(a.name)")
                #expect(try readAll(reader) == a.files, "\(a.name)")
                #expect(try reader.next() == nil)
            }
        }
    }

    @Test func truncatedArchivesAreErrors() throws {
        try withTemporaryDirectory { dir in
            _ = try TarFixtures.generate(in: dir)
            for name in ["pax.tar", "gnu.tar", "pax.tar.gz"] {
                let bytes = try readBytes(dir.appendingPathComponent(name))
                // the uncompressed archives end with zero blocks: cut before them
                let cuts = name.hasSuffix(".gz") ? [10, bytes.count / 2, bytes.count - 9] : [100, 512, 700, 1024, 2048, bytes.count / 3, 7 * 1024]
                for cut in cuts {
                    let path = dir.appendingPathComponent("cut-\(cut)-\(name)")
                    try writeBytes(Array(bytes[..<cut]), to: path)
                    let error = archiveError { _ = try readAll(TarReader(path: path.path)) }
                    #expect(error?.kind == .archive, "\(name) cut at \(cut): \(String(describing: error))")
                    #expect(error?.message.contains(path.path) == true)
                    #expect(error?.message.contains("truncated") == true, "\(String(describing: error))")
                }
            }
        }
    }

    @Test func badChecksumAndCorruptGzip() throws {
        try withTemporaryDirectory { dir in
            _ = try TarFixtures.generate(in: dir)
            var tar = try readBytes(dir.appendingPathComponent("ustar.tar"))
            tar[1536 + 5] ^= 0x41                              // third header (after a.txt and b.bin): its name
            let bad = dir.appendingPathComponent("bad.tar")
            try writeBytes(tar, to: bad)
            let reader = try TarReader(path: bad.path)
            #expect(try reader.next()?.path == "a.txt")
            #expect(try reader.next()?.path == "dir/b.bin")
            let e = archiveError { _ = try reader.next() }
            #expect(e?.message.hasPrefix("archive '\(bad.path)' at offset 1536: bad tar header checksum") == true, "\(String(describing: e))")

            var gz = try readBytes(dir.appendingPathComponent("pax.tar.gz"))
            gz[gz.count / 2] ^= 0xFF
            let badGz = dir.appendingPathComponent("bad.tar.gz")
            try writeBytes(gz, to: badGz)
            let g = archiveError { _ = try readAll(TarReader(path: badGz.path)) }
            #expect(g?.kind == .archive, "\(String(describing: g))")
        }
    }

    @Test func emptyFileAndGarbage() throws {
        try withTemporaryDirectory { dir in
            let empty = dir.appendingPathComponent("empty.tar")
            try writeBytes([], to: empty)
            #expect(archiveError { _ = try TarReader(path: empty.path).next() }?.message.contains("no end-of-archive block") == true)
            let garbage = dir.appendingPathComponent("garbage.tar")
            try writeBytes([UInt8](repeating: 0x41, count: 4096), to: garbage)
            #expect(archiveError { _ = try TarReader(path: garbage.path).next() }?.message.contains("bad tar header checksum") == true)
            #expect(archiveError { _ = try TarReader(path: dir.appendingPathComponent("missing.tar").path) }?.kind == .io)
        }
    }

    @Test func largeEntriesStreamOrThrowRecoverably() throws {
        try withTemporaryDirectory { dir in
            _ = try TarFixtures.generate(in: dir)
            let path = dir.appendingPathComponent("gnu.tar").path
            let reader = try TarReader(path: path, entryBytesMax: 600)
            var seen: [String] = []
            var tooLarge: [String] = []
            while true {
                do {
                    guard let e = try reader.next() else { break }
                    seen.append(e.path)
                } catch let e as IngestError where e.kind == .entryTooLarge {
                    tooLarge.append(e.message)
                }
            }
            #expect(seen == ["a.txt", "dir/b.bin", "dir/c.bin", "dir/sub/d.bin", "dotslash.txt", "q" + String(repeating: "q", count: 149) + ".jpg"])
            #expect(tooLarge.count == 1)
            #expect(tooLarge.first?.contains("is 1000 bytes, above the 600-byte limit") == true)

            // streaming reads of any size, in small pieces
            let streaming = try TarReader(path: path, entryBytesMax: 0)
            var total = 0
            var piece = [UInt8](repeating: 0, count: 100)
            while let h = try streaming.nextHeader() {
                var got = 0
                while case let n = try piece.withUnsafeMutableBytes({ try streaming.readContent(into: $0) }), n > 0 { got += n }
                #expect(Int64(got) == h.size)
                total += got
            }
            #expect(total == 0 + 511 + 512 + 513 + 1000 + 10 + 77)
        }
    }

    /// Seeded mutations and truncations of real archives (plain and gzip) read from memory: every
    /// outcome is entries or an IngestError, never a crash or a hang.
    @Test func mutatedArchivesNeverCrash() throws {
        try withTemporaryDirectory { dir in
            _ = try TarFixtures.generate(in: dir)
            let originals = try ["gnu.tar", "pax.tar", "pax.tar.gz"].map { try readBytes(dir.appendingPathComponent($0)) }
            var rng = SeededRandom(seed: 99)
            var errors = 0
            for round in 0..<600 {
                var b = originals[round % originals.count]
                if Bool.random(using: &rng) {
                    for _ in 0..<Int.random(in: 1...6, using: &rng) {
                        // headers live in the first blocks: bias towards them
                        let limit = Bool.random(using: &rng) ? min(b.count, 2048) : b.count
                        b[Int.random(in: 0..<limit, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                    }
                } else {
                    b = Array(b[..<Int.random(in: 0..<b.count, using: &rng)])
                }
                do {
                    let (stream, gzip) = try ByteStreams.decompressing(MemoryByteStream(b), name: "fuzz-\(round)")
                    let reader = TarReader(stream: stream, name: "fuzz-\(round)", isGzip: gzip, entryBytesMax: 1 << 20)
                    var n = 0
                    while try reader.next() != nil { n += 1; #expect(n < 100) }
                } catch is IngestError {
                    errors += 1
                }
            }
            #expect(errors > 300)
        }
    }

    /// Measured (RSS asserted loosely, speed reported): a 300 MB tar and a 300 MB-inflating .tar.gz.
    @Test func bigArchivesStreamInBoundedMemory() throws {
        try withTemporaryDirectory { dir in
            try runPython(#"""
import io, os, sys, tarfile
out = sys.argv[1]
block = os.urandom(1 << 20)
import numpy as np
from PIL import Image
rng = np.random.default_rng(5)
jpegs = []
for i in range(10):
    a = rng.integers(0, 256, size=(360, 480, 3), dtype=np.uint8); a[:180] //= 4
    b = io.BytesIO(); Image.fromarray(a).save(b, 'JPEG', quality=85); jpegs.append(b.getvalue())
with tarfile.open(os.path.join(out, 'jpegs.tar.gz'), 'w:gz') as tf:
    for i in range(2000):
        for ext, data in [('jpg', jpegs[i % 10]), ('cls', str(i % 7).encode())]:
            ti = tarfile.TarInfo(f'{i:06d}.{ext}'); ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
for name, mode, data in [('big.tar', 'w', block), ('big.tar.gz', 'w:gz', bytes(1 << 20))]:
    with tarfile.open(os.path.join(out, name), mode, compresslevel=1) if mode == 'w:gz' else tarfile.open(os.path.join(out, name), mode) as tf:
        for i in range(300):
            ti = tarfile.TarInfo(f'shard/{i:05d}.bin'); ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
"""#, arguments: [dir.path])
            for name in ["big.tar", "big.tar.gz"] {
                let rssBefore = residentBytes() ?? 0
                var peak = rssBefore
                let start = ContinuousClock.now
                let reader = try TarReader(path: dir.appendingPathComponent(name).path)
                var count = 0, bytes = 0
                while let e = try reader.next() {
                    count += 1
                    bytes += e.bytes.count
                    if count % 25 == 0 { peak = max(peak, residentBytes() ?? 0) }
                }
                let seconds = (ContinuousClock.now - start) / .seconds(1)
                #expect(count == 300 && bytes == 300 << 20)
                #expect(peak - rssBefore < 64 << 20, "RSS grew by \((peak - rssBefore) >> 20) MiB")
                print("tar \(name): \(bytes >> 20) MiB in \(String(format: "%.2f", seconds)) s = \(Int(Double(bytes) / seconds / 1e6)) MB/s, RSS +\((peak - rssBefore) >> 20) MiB (peak \(peak >> 20) MiB)")
            }
            // a realistic shard: 2,000 ~95 KB JPEGs with .cls sidecars, gzip level 6, grouped and probed
            let start = ContinuousClock.now
            let grouper = WebDatasetGrouper(reader: try TarReader(path: dir.appendingPathComponent("jpegs.tar.gz").path))
            var samples = 0, imageBytes = 0
            while let s = try grouper.next() {
                #expect(s.probe?.info?.width == 480 && s.label != nil)
                samples += 1
                imageBytes += s.image?.bytes.count ?? 0
            }
            let seconds = (ContinuousClock.now - start) / .seconds(1)
            #expect(samples == 2000)
            print("webdataset jpegs.tar.gz: \(samples) samples (\(imageBytes >> 20) MiB of JPEG) grouped + probed in \(String(format: "%.2f", seconds)) s = \(Int(Double(samples) / seconds)) samples/s, \(Int(Double(imageBytes) / seconds / 1e6)) MB/s")
        }
    }
}
