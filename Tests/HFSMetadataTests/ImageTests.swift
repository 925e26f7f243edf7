import HFSCore
import Testing
@testable import HFSMetadata

@Suite struct ImageTests {
    let store: MetadataStore
    let block: Int64

    init() throws {
        store = try MetadataStore.inMemory()
        block = try store.createBlock(kind: .packed, replication: 2, now: 1).id
    }

    static func sha(_ n: Int) -> String { String(repeating: String(n % 10), count: 64) }

    func image(_ raw: String, label: String?, format: String? = "jpeg", width: Int = 640, height: Int = 480,
               sha: Int, offset: Int64 = 0, invalid: String? = nil) -> NewFile {
        var f = newFile(raw, size: 100, extents: [Extent(block: block, offset: offset, storedLength: 90, logicalLength: 100)])
        f.image = ImageAttributes(format: invalid == nil ? format : nil, width: invalid == nil ? width : nil,
                                  height: invalid == nil ? height : nil, channels: invalid == nil ? 3 : nil,
                                  label: label, sha256: Self.sha(sha), invalid: invalid)
        return f
    }

    func ingestSample() throws {
        try store.registerDataset(path("/ds"), owner: "u", now: 1)
        try store.commit([
            image("/ds/cat/1.jpg", label: "cat", width: 100, height: 50, sha: 1),
            image("/ds/cat/2.png", label: "cat", format: "png", width: 200, height: 60, sha: 2, offset: 90),
            image("/ds/dog/3.jpg", label: "dog", width: 300, height: 70, sha: 3, offset: 180),
            image("/ds/dog/bad.jpg", label: "dog", sha: 4, offset: 270, invalid: "truncated JPEG (no EOI marker)"),
            newFile("/ds/README", size: 5, extents: []),
        ], acks: [BlockAck(block: block, length: 360, nodes: ["dn1", "dn2"])], overwrite: false, owner: "u")
    }

    @Test func lookupSaysWhatIsAtEachPath() throws {
        try ingestSample()
        let entries = try store.lookup([path("/ds/cat/1.jpg"), path("/ds/none.jpg"), path("/ds/cat"), path("/ds/README"),
                                        path("/ds/README/x")])
        #expect(entries[0] == LookupEntry(type: .file, size: 100, sha256: Self.sha(1)))
        #expect(entries[1] == nil)
        #expect(entries[2] == LookupEntry(type: .directory, size: 0, sha256: nil))
        #expect(entries[3] == LookupEntry(type: .file, size: 5, sha256: nil))
        #expect(entries[4] == nil)
    }

    @Test func storedContentFindsValidImagesByHash() throws {
        try ingestSample()
        let found = try store.storedContent([Self.sha(2), Self.sha(4), Self.sha(7)])
        #expect(found.keys.sorted() == [Self.sha(2)], "an invalid file is never a dedup source; unknown hashes are absent")
        #expect(found[Self.sha(2)] == StoredContent(size: 100, codec: "auto",
                                                    extents: [Extent(block: block, offset: 90, storedLength: 90, logicalLength: 100)]))
        // A second path may share those extents; deleting the first keeps the block alive.
        var copy = newFile("/other/2.png", size: 100, extents: found[Self.sha(2)]!.extents)
        copy.image = ImageAttributes(format: "png", width: 200, height: 60, channels: 3, label: nil, sha256: Self.sha(2), invalid: nil)
        try store.commit([copy], acks: [], overwrite: false, owner: "u")
        _ = try store.delete(path("/ds/cat/2.png"), recursive: false)
        #expect(try store.storedContent([Self.sha(2)])[Self.sha(2)]?.extents.first?.offset == 90)
    }

    @Test func summaryCountsClassesFormatsAndSizes() throws {
        try ingestSample()
        let s = try store.datasetSummary(path("/ds"))
        #expect(s.path == "/ds")
        #expect(s.images == 3 && s.invalid == 1)
        #expect(s.logicalBytes == 400 && s.storedBytes == 360)
        #expect(s.classes == ["cat": 2, "dog": 2])
        #expect(s.formats == ["jpeg": 2, "png": 1, "invalid": 1])
        #expect(s.width == Distribution(min: 100, p25: 100, median: 200, p75: 300, max: 300, mean: 200))
        #expect(s.height?.median == 60)
        #expect(try store.datasets().map(\.path) == ["/ds"])
    }

    @Test func datasetsFollowRenamesAndGoWithTheirDirectory() throws {
        try ingestSample()
        try store.rename(path("/ds"), path("/renamed"))
        #expect(try store.datasets().map(\.path) == ["/renamed"])
        #expect(try store.datasets().first?.images == 3)
        _ = try store.delete(path("/renamed"), recursive: true)
        #expect(try store.datasets().isEmpty)
        #expect(try store.storedContent([Self.sha(1)]).isEmpty, "image rows go with their files")
    }

    @Test func manifestPagesInPathOrder() throws {
        try ingestSample()
        let all = try store.manifest(path("/ds"), after: nil, limit: 10)
        #expect(all.rows.map(\.path) == ["/ds/cat/1.jpg", "/ds/cat/2.png", "/ds/dog/3.jpg", "/ds/dog/bad.jpg"])
        #expect(all.next == nil)
        #expect(all.rows[0] == ManifestRow(path: "/ds/cat/1.jpg", label: "cat", format: "jpeg", width: 100, height: 50, bytes: 100,
                                          sha256: Self.sha(1)))
        let first = try store.manifest(path("/ds"), after: nil, limit: 3)
        #expect(first.rows.count == 3 && first.next == "/ds/dog/3.jpg")
        let second = try store.manifest(path("/ds"), after: first.next, limit: 3)
        #expect(second.rows.map(\.path) == ["/ds/dog/bad.jpg"] && second.next == nil)
        #expect(try store.manifest(path("/ds/dog"), after: nil, limit: 10).rows.count == 2)
        expectError(.invalidArgument) { _ = try store.manifest(path("/ds/README"), after: nil, limit: 10) }
    }

    @Test func aBadHashIsRefused() throws {
        var f = image("/x.jpg", label: nil, sha: 1)
        f.image?.sha256 = "abc"
        expectError(.invalidArgument, containing: "sha256") { try store.commit([f], acks: [], overwrite: false, owner: "u") }
    }
}
