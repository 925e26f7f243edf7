import Foundation
import Testing
import HFSIngest
import HFSImaging
import HFSTestSupport

@Suite struct WebDatasetGrouperTests {
    /// Shards written by the `webdataset` package's TarWriter, read back as samples.
    @Test func groupsWebDatasetShards() throws {
        try withTemporaryDirectory { dir in
            try runPython(#"""
import io, os, sys, json
import webdataset as wds
from PIL import Image
out = sys.argv[1]
def jpeg(w, h):
    b = io.BytesIO(); Image.new('RGB', (w, h), (w % 256, 10, 20)).save(b, 'JPEG'); return b.getvalue()
def png(w, h):
    b = io.BytesIO(); Image.new('L', (w, h)).save(b, 'PNG'); return b.getvalue()
for shard in range(2):
    with wds.TarWriter(os.path.join(out, f'train-{shard:04d}.tar')) as sink:
        for i in range(5):
            k = shard * 5 + i
            sample = {'__key__': f'sample{k:05d}', 'jpg': jpeg(10 + k, 20), 'cls': f' {k % 3}\n'.encode(),
                      'json': json.dumps({'k': k}).encode()}
            if k == 3:
                sample = {'__key__': 'sub/dir/sample00003', 'png': png(7, 9), 'txt': b'a caption', 'seg.png': png(7, 9)}
            if k == 4:
                sample = {'__key__': 'broken00004', 'jpg': jpeg(30, 30)[:100], 'cls': b'1'}
            if k == 6:
                sample = {'__key__': 'textonly00006', 'txt': b'no image here'}
            sink.write(sample)
"""#, arguments: [dir.path])
            var samples: [Sample] = []
            for name in try ShardPattern.expand("train-{0000..0001}.tar") {
                let grouper = WebDatasetGrouper(reader: try TarReader(path: dir.appendingPathComponent(name).path))
                while let s = try grouper.next() { samples.append(s) }
            }
            #expect(samples.map(\.key) == ["sample00000", "sample00001", "sample00002", "sub/dir/sample00003", "broken00004",
                                           "sample00005", "textonly00006", "sample00007", "sample00008", "sample00009"])
            let s0 = samples[0]
            #expect(s0.image?.path == "sample00000.jpg")
            #expect(s0.probe == .image(ImageInfo(format: .jpeg, width: 10, height: 20, channels: 3)))
            #expect(s0.label == "0")
            #expect(Set(s0.sidecars.map(\.ext)) == ["cls", "json"])
            #expect(samples[2].label == "2")
            let s3 = samples[3]
            #expect(s3.image?.path.hasPrefix("sub/dir/sample00003.") == true)
            #expect(s3.probe?.info?.format == .png)
            #expect(s3.label == nil)
            #expect(s3.sidecars.count == 2)
            let broken = samples[4]
            #expect(broken.image?.path == "broken00004.jpg")
            #expect(broken.probe?.invalidReason == "truncated JPEG (no EOI marker)")
            #expect(broken.label == "1")
            #expect(samples[6].image == nil && samples[6].probe == nil && samples[6].sidecars.count == 1)
        }
    }

    /// An entry above the cap throws; the grouper keeps what it collected and continues.
    @Test func tooLargeEntryIsRecoverable() throws {
        try withTemporaryDirectory { dir in
            _ = try TarFixtures.generate(in: dir)
            let grouper = WebDatasetGrouper(reader: try TarReader(path: dir.appendingPathComponent("gnu.tar").path, entryBytesMax: 600))
            var keys: [String] = [], errors = 0
            while true {
                do {
                    guard let s = try grouper.next() else { break }
                    keys.append(s.key)
                } catch let e as IngestError where e.kind == .entryTooLarge {
                    errors += 1
                }
            }
            #expect(errors == 1)
            #expect(keys == ["a", "dir/b", "dir/c", "dir/sub/d", "dotslash", String(repeating: "q", count: 150)])
        }
    }

    @Test func keyAndExtensionLikeWebDataset() {
        #expect(WebDatasetGrouper.split("a/b/0001.seg.png") == ("a/b/0001", "seg.png"))
        #expect(WebDatasetGrouper.split("a.b/c.jpg") == ("a.b/c", "jpg"))
        #expect(WebDatasetGrouper.split("noext") == ("noext", ""))
        #expect(WebDatasetGrouper.split("dir/.hidden") == ("dir/", "hidden"))
    }
}
