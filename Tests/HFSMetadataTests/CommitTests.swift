import HFSCore
import Testing
@testable import HFSMetadata

@Suite struct CommitTests {
    let store: MetadataStore

    init() throws { store = try MetadataStore.inMemory() }

    @Test func batchIsVisibleWithExtentsInOrder() throws {
        let b1 = try store.createBlock(kind: .packed, replication: 2, now: 1)
        let b2 = try store.createBlock(kind: .dedicated, replication: 2, now: 1)
        #expect(b1.generation == 1 && b2.generation == 1 && b1.id != b2.id)
        let pieces = [
            Extent(block: b2.id, offset: 0, storedLength: 64, logicalLength: 64),
            Extent(block: b1.id, offset: 300, storedLength: 30, logicalLength: 40),
            Extent(block: b2.id, offset: 64, storedLength: 6, logicalLength: 6),
        ]
        try store.commit([
            newFile("/img/cats/1.jpg", size: 110, extents: pieces),
            newFile("/img/dogs/2.jpg", size: 10, extents: [Extent(block: b1.id, offset: 0, storedLength: 10, logicalLength: 10)]),
            newFile("/img/top.jpg", size: 0, extents: []),
        ], acks: [
            BlockAck(block: b1.id, length: 330, nodes: ["dn2", "dn1"]),
            BlockAck(block: b2.id, length: 70, nodes: ["dn3"]),
        ], overwrite: false, owner: "alice")

        #expect(try store.listedPaths("/img", recursive: true)
                == ["/img/cats", "/img/cats/1.jpg", "/img/dogs", "/img/dogs/2.jpg", "/img/top.jpg"])
        #expect(try store.status(path("/img/cats")).owner == "alice")
        #expect(try store.status(path("/img/cats")).mode == 0o755)

        let located = try store.locations(path("/img/cats/1.jpg"))
        #expect(located.status.path == "/img/cats/1.jpg")
        #expect(located.status.size == 110 && located.status.storedSize == 100)
        #expect(located.status.owner == "alice" && located.status.group == "supergroup" && located.status.mode == 0o644)
        #expect(located.status.replication == 2 && located.status.codec == "auto" && located.status.mtime == 1_700_000_000)
        #expect(located.extents.map(\.extent) == pieces)
        #expect(located.extents.map(\.generation) == [1, 1, 1])
        #expect(located.extents.map(\.replicaNodes) == [["dn3"], ["dn1", "dn2"], ["dn3"]])
        #expect(try store.locations(path("/img/top.jpg")).extents.isEmpty)
        expectError(.isADirectory, containing: "/img") { _ = try store.locations(path("/img")) }
    }

    @Test func acksRaiseBlockLength() throws {
        let block = try store.createBlock(kind: .packed, replication: 2, now: 1).id
        #expect(try store.openPackedBlocks(replication: 2, maxLength: 100) == [block])
        try store.commit([], acks: [BlockAck(block: block, length: 150, nodes: ["dn1"])], overwrite: false, owner: "u")
        #expect(try store.openPackedBlocks(replication: 2, maxLength: 100).isEmpty)
        try store.commit([], acks: [BlockAck(block: block, length: 50, nodes: ["dn1"])], overwrite: false, owner: "u")
        #expect(try store.openPackedBlocks(replication: 2, maxLength: 151) == [block])   // length stays 150
        #expect(try store.openPackedBlocks(replication: 2, maxLength: 150).isEmpty)
        #expect(try store.replicaCounts() == ["dn1": 1])
    }

    @Test func failureMidBatchLeavesNothingVisible() throws {
        let block = try store.createBlock(kind: .packed, replication: 2, now: 1).id
        let extent = Extent(block: block, offset: 0, storedLength: 10, logicalLength: 10)
        try store.commit([newFile("/in/taken", extents: [extent])], acks: [], overwrite: false, owner: "u")

        expectError(.alreadyExists, containing: "file exists: /in/taken") {
            try store.commit([
                newFile("/in/new1", extents: [extent]),
                newFile("/fresh/dir/new2", extents: [extent]),
                newFile("/in/taken", extents: [extent]),
                newFile("/in/new3", extents: [extent]),
            ], acks: [BlockAck(block: block, length: 10, nodes: ["dn9"])], overwrite: false, owner: "u")
        }
        #expect(try store.listedPaths("/", recursive: true) == ["/in", "/in/taken"])
        #expect(try store.replicaCounts().isEmpty)
    }

    @Test func unknownOrDeletedBlockIsRejected() throws {
        let block = try store.createBlock(kind: .dedicated, replication: 2, now: 1).id
        let good = Extent(block: block, offset: 0, storedLength: 10, logicalLength: 10)
        let bad = Extent(block: 9_999, offset: 0, storedLength: 10, logicalLength: 10)
        expectError(.invalidArgument, containing: "9999") {
            try store.commit([newFile("/ok", extents: [good]), newFile("/bad", extents: [good, bad])],
                             acks: [], overwrite: false, owner: "u")
        }
        #expect(try !store.exists("/ok"))
        expectError(.invalidArgument, containing: "9999") {
            try store.commit([], acks: [BlockAck(block: 9_999, length: 1, nodes: ["dn1"])], overwrite: false, owner: "u")
        }

        try store.commit([newFile("/gone", extents: [good])], acks: [], overwrite: false, owner: "u")
        #expect(try store.delete(path("/gone"), recursive: false) == [block])
        expectError(.invalidArgument, containing: "deleted") {
            try store.commit([newFile("/again", extents: [good])], acks: [], overwrite: false, owner: "u")
        }
    }

    @Test func invalidFilesAreRejected() throws {
        expectError(.invalidArgument) {
            try store.commit([newFile("relative/path", extents: [])], acks: [], overwrite: false, owner: "u")
        }
        expectError(.invalidArgument) {
            try store.commit([newFile("/a/../b", extents: [])], acks: [], overwrite: false, owner: "u")
        }
        expectError(.invalidArgument, containing: "replication") {
            try store.commit([newFile("/r0", replication: 0, extents: [])], acks: [], overwrite: false, owner: "u")
        }
        expectError(.isADirectory) {
            try store.commit([newFile("/", extents: [])], acks: [], overwrite: false, owner: "u")
        }
        // Sizes, offsets and lengths beyond 2^53 (their sums and products in du and fsck would
        // overflow), image attributes out of range, an acknowledgement beyond 2^53.
        let block = try store.createBlock(kind: .packed, replication: 2, now: 1).id
        let huge = Limits.byteCountMax + 1
        for file in [newFile("/big", size: huge, extents: []),
                     NewFile(path: "/big2", size: 1, storedSize: .max, replication: 16, codec: "none", mtime: 0, extents: []),
                     newFile("/far", size: 1, extents: [Extent(block: block, offset: .max - 3, storedLength: 5, logicalLength: 1)]),
                     newFile("/long", size: 1, extents: [Extent(block: block, offset: 0, storedLength: huge, logicalLength: 1)])] {
            expectError(.invalidArgument, containing: file.path) { try store.commit([file], acks: [], overwrite: false, owner: "u") }
        }
        for (w, h, c) in [(Int.max, 1, 3), (1, -1, 3), (640, 480, 99)] {
            var f = newFile("/img", extents: [])
            f.image = ImageAttributes(format: "jpeg", width: w, height: h, channels: c, label: nil, sha256: String(repeating: "a", count: 64), invalid: nil)
            expectError(.invalidArgument, containing: "image attributes") { try store.commit([f], acks: [], overwrite: false, owner: "u") }
        }
        expectError(.invalidArgument) {
            try store.commit([], acks: [BlockAck(block: block, length: huge, nodes: ["dn1"])], overwrite: false, owner: "u")
        }
        #expect(try store.listedPaths("/").isEmpty)
    }

    @Test func directoryOrFileInTheWay() throws {
        try store.mkdir(path("/dir"), parents: false, owner: "u", now: 1)
        expectError(.isADirectory, containing: "is a directory: /dir") {
            try store.commit([newFile("/dir", extents: [])], acks: [], overwrite: true, owner: "u")
        }
        try store.commit([newFile("/file", extents: [])], acks: [], overwrite: false, owner: "u")
        expectError(.notADirectory, containing: "not a directory: /file") {
            try store.commit([newFile("/file/child", extents: [])], acks: [], overwrite: true, owner: "u")
        }
        expectError(.notADirectory) {   // a file and a file under it in the same batch
            try store.commit([newFile("/x/y", extents: []), newFile("/x/y/z", extents: [])],
                             acks: [], overwrite: false, owner: "u")
        }
        #expect(try !store.exists("/x"))
    }

    @Test func overwriteReplacesFileAndRetiresItsBlocks() throws {
        let old = try store.createBlock(kind: .dedicated, replication: 2, now: 1).id
        let new = try store.createBlock(kind: .dedicated, replication: 2, now: 1).id
        try store.commit([newFile("/o/f", size: 10, extents: [Extent(block: old, offset: 0, storedLength: 10, logicalLength: 10)])],
                         acks: [BlockAck(block: old, length: 10, nodes: ["dn1"])], overwrite: false, owner: "u")
        let replacement = newFile("/o/f", size: 20, extents: [Extent(block: new, offset: 0, storedLength: 20, logicalLength: 20)])

        expectError(.alreadyExists, containing: "/o/f") {
            try store.commit([replacement], acks: [], overwrite: false, owner: "u")
        }
        #expect(try store.status(path("/o/f")).size == 10)

        try store.commit([replacement], acks: [BlockAck(block: new, length: 20, nodes: ["dn1"])], overwrite: true, owner: "v")
        let located = try store.locations(path("/o/f"))
        #expect(located.status.size == 20 && located.status.owner == "v")
        #expect(located.extents.map(\.extent.block) == [new])
        #expect(try store.deletedBlocks(on: "dn1") == [old])
        #expect(try store.listedPaths("/o") == ["/o/f"])
    }

    @Test func overwriteKeepsABlockTheNewFileReuses() throws {
        let block = try store.createBlock(kind: .dedicated, replication: 1, now: 1).id
        let extent = Extent(block: block, offset: 0, storedLength: 10, logicalLength: 10)
        try store.commit([newFile("/same", extents: [extent])], acks: [BlockAck(block: block, length: 10, nodes: ["dn1"])],
                         overwrite: false, owner: "u")
        try store.commit([newFile("/same", extents: [extent])], acks: [], overwrite: true, owner: "u")
        #expect(try store.deletedBlocks(on: "dn1").isEmpty)
        #expect(try store.locations(path("/same")).extents.map(\.extent.block) == [block])
    }

    @Test func twoThousandFileBatch() throws {
        let block = try store.createBlock(kind: .packed, replication: 3, now: 1).id
        let files = (0..<2_000).map { i in
            newFile("/ingest/shard\(i % 20)/img\(i).jpg", size: 1_000, replication: 3,
                    extents: [Extent(block: block, offset: Int64(i) * 900, storedLength: 900, logicalLength: 1_000)])
        }
        try store.commit(files, acks: [BlockAck(block: block, length: 1_800_000, nodes: ["dn1", "dn2", "dn3"])],
                         overwrite: false, owner: "u")
        let usage = try store.du(path("/ingest"))
        #expect(usage.files == 2_000 && usage.directories == 21)
        #expect(usage.logicalBytes == 2_000_000 && usage.storedBytes == 1_800_000 && usage.rawBytes == 5_400_000)
        #expect(try store.list(path("/ingest/shard7"), recursive: false, limit: 1_000).entries.count == 100)
        let last = try store.locations(path("/ingest/shard19/img1999.jpg"))
        #expect(last.extents.map(\.extent) == [Extent(block: block, offset: 1_999 * 900, storedLength: 900, logicalLength: 1_000)])
        #expect(last.extents.first?.replicaNodes == ["dn1", "dn2", "dn3"])
    }

    @Test func batchLargerThanTheLimitIsRejected() throws {
        let files = (0...Limits.commitFilesMax).map { newFile("/many/\($0)", extents: []) }
        expectError(.invalidArgument, containing: "\(Limits.commitFilesMax)") {
            try store.commit(files, acks: [], overwrite: false, owner: "u")
        }
        #expect(try !store.exists("/many"))
    }
}
