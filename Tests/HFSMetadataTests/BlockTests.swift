import Foundation
import HFSCore
import Testing
@testable import HFSMetadata

@Suite struct BlockTests {
    let store: MetadataStore

    init() throws { store = try MetadataStore.inMemory() }

    @Test func openPackedBlocksAndSealing() throws {
        let packed2 = try store.createBlock(kind: .packed, replication: 2, now: 1).id
        let packed3 = try store.createBlock(kind: .packed, replication: 3, now: 1).id
        _ = try store.createBlock(kind: .dedicated, replication: 2, now: 1)
        let another = try store.createBlock(kind: .packed, replication: 2, now: 1).id
        #expect(try store.openPackedBlocks(replication: 2, maxLength: 10) == [packed2, another])
        #expect(try store.openPackedBlocks(replication: 3, maxLength: 10) == [packed3])
        try store.sealBlock(packed2)
        try store.sealBlock(packed2)
        #expect(try store.openPackedBlocks(replication: 2, maxLength: 10) == [another])
        expectError(.notFound, containing: "424242") { try store.sealBlock(424_242) }
    }

    @Test func duSumsOverTheSubtree() throws {
        let block = try store.createBlock(kind: .packed, replication: 3, now: 1).id
        func e(_ stored: Int64) -> Extent { Extent(block: block, offset: 0, storedLength: stored, logicalLength: 0) }
        try store.mkdir(path("/d/empty"), parents: true, owner: "u", now: 1)
        try store.commit([
            newFile("/d/a", size: 100, replication: 3, extents: [e(80)]),
            newFile("/d/sub/b", size: 50, replication: 2, extents: [e(50)]),
            newFile("/elsewhere", size: 7, replication: 1, extents: [e(7)]),
        ], acks: [], overwrite: false, owner: "u")

        let usage = try store.du(path("/d"))
        #expect(usage == DuResponse(path: "/d", files: 2, directories: 3, logicalBytes: 150, storedBytes: 130,
                                    rawBytes: 80 * 3 + 50 * 2))
        let file = try store.du(path("/d/a"))
        #expect(file == DuResponse(path: "/d/a", files: 1, directories: 0, logicalBytes: 100, storedBytes: 80, rawBytes: 240))
        let root = try store.du(.root)
        #expect(root.files == 3 && root.directories == 4 && root.rawBytes == 340 + 7)
        expectError(.notFound) { _ = try store.du(path("/nothing")) }
    }

    @Test func fsckScanReportsEachBlockOnce() throws {
        let shared = try store.createBlock(kind: .packed, replication: 3, now: 1).id
        let lonely = try store.createBlock(kind: .dedicated, replication: 3, now: 1).id
        let outside = try store.createBlock(kind: .dedicated, replication: 3, now: 1).id
        func e(_ block: Int64) -> Extent { Extent(block: block, offset: 0, storedLength: 1, logicalLength: 1) }
        try store.commit([
            newFile("/f/x", replication: 2, extents: [e(shared)]),
            newFile("/f/deep/y", replication: 3, extents: [e(shared), e(lonely)]),
            newFile("/g/z", replication: 1, extents: [e(outside)]),
        ], acks: [BlockAck(block: shared, length: 2, nodes: ["dn2", "dn1"])], overwrite: false, owner: "u")

        let scan = try store.fsckScan(path("/f"))
        #expect(scan.files == 2 && scan.directories == 2)
        #expect(scan.blocks == [
            MetadataStore.BlockHealthRow(block: shared, replication: 3, replicaNodes: ["dn1", "dn2"]),
            MetadataStore.BlockHealthRow(block: lonely, replication: 3, replicaNodes: []),
        ])
        let one = try store.fsckScan(path("/f/x"))
        #expect(one.files == 1 && one.directories == 0)
        #expect(one.blocks == [MetadataStore.BlockHealthRow(block: shared, replication: 2, replicaNodes: ["dn1", "dn2"])])
        #expect(try store.fsckScan(.root).blocks.count == 3)
    }

    @Test func databaseFilePersistsAcrossReopen() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hfs-meta-\(UInt64.random(in: 0...UInt64.max))")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("nested/meta.sqlite").path
        do {
            let store = try MetadataStore(path: file)
            try store.mkdir(path("/kept/here"), parents: true, owner: "u", now: 3)
            #expect(FileManager.default.fileExists(atPath: file + "-wal"))   // WAL mode
        }
        #expect(FileManager.default.fileExists(atPath: file))
        let reopened = try MetadataStore(path: file)
        #expect(try reopened.status(path("/kept/here")).mtime == 3)
        #expect(try reopened.status(.root).owner == "root")
    }
}
