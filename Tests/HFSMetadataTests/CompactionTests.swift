import HFSCore
import Testing
@testable import HFSMetadata

/// Compaction candidates, the switch transaction, unreferenced blocks and stale replicas, on an
/// in-memory database with the real migrations.
@Suite struct CompactionTests {
    let store: MetadataStore

    init() throws { store = try MetadataStore.inMemory() }

    /// A sealed packed block of ten 100-byte files on dn1 and dn2, /f/0 ... /f/9 at offsets 0, 100, ...
    func sealedBlockOfTen() throws -> Int64 {
        let block = try store.createBlock(kind: .packed, replication: 2, now: 1).id
        let files = (0..<10).map { i in
            newFile("/f/\(i)", size: 100, extents: [Extent(block: block, offset: Int64(i) * 100, storedLength: 100, logicalLength: 100)])
        }
        try store.commit(files, acks: [BlockAck(block: block, length: 1000, nodes: ["dn1", "dn2"])], overwrite: false, owner: "u")
        try store.sealBlock(block)
        return block
    }

    @Test func candidatesAreSealedPackedBlocksMostlyDead() throws {
        let block = try sealedBlockOfTen()
        #expect(try store.compactionCandidates(threshold: 0.5, excluding: [], limit: 10).isEmpty)
        for i in [0, 1, 2, 4, 5, 6, 8] { _ = try store.delete(path("/f/\(i)"), recursive: false) }
        let c = try store.compactionCandidates(threshold: 0.5, excluding: [], limit: 10)
        #expect(c == [CompactionCandidate(block: block, length: 1000, replication: 2,
                                          live: [ByteRange(offset: 300, length: 100), ByteRange(offset: 700, length: 100),
                                                 ByteRange(offset: 900, length: 100)])])
        #expect(try store.compactionCandidates(threshold: 0.25, excluding: [], limit: 10).isEmpty)   // 30% live
        #expect(try store.compactionCandidates(threshold: 0, excluding: [], limit: 10).isEmpty)      // off
        #expect(try store.compactionCandidates(threshold: 0.5, excluding: [block], limit: 10).isEmpty)
        // An open block is still being filled: never a candidate.
        let open = try store.createBlock(kind: .packed, replication: 2, now: 1).id
        try store.commit([newFile("/g", size: 10, extents: [Extent(block: open, offset: 0, storedLength: 10, logicalLength: 10)])],
                         acks: [BlockAck(block: open, length: 1000, nodes: ["dn1"])], overwrite: false, owner: "u")
        #expect(try store.compactionCandidates(threshold: 0.5, excluding: [], limit: 10).map(\.block) == [block])
    }

    @Test func switchMovesEveryExtentAndRetiresTheOldBlock() throws {
        let old = try sealedBlockOfTen()
        for i in [0, 1, 2, 4, 5, 6, 8] { _ = try store.delete(path("/f/\(i)"), recursive: false) }
        let live = try #require(try store.compactionCandidates(threshold: 0.5, excluding: [], limit: 1).first).live
        let new = try store.createBlock(kind: .packed, replication: 2, now: 2).id
        let plan = CompactionPlan(newBlock: new, ranges: live)
        try store.switchCompacted(old: old, plan: plan, ack: AppendResponse(block: new, offset: 0, storedLength: 300, nodes: ["dn1", "dn3"]))

        #expect(try store.locations(path("/f/3")).extents.map(\.extent) == [Extent(block: new, offset: 0, storedLength: 100, logicalLength: 100)])
        #expect(try store.locations(path("/f/7")).extents.map(\.extent) == [Extent(block: new, offset: 100, storedLength: 100, logicalLength: 100)])
        #expect(try store.locations(path("/f/9")).extents.map(\.extent) == [Extent(block: new, offset: 200, storedLength: 100, logicalLength: 100)])
        #expect(try store.locations(path("/f/9")).extents.map(\.replicaNodes) == [["dn1", "dn3"]])
        // The old block's replicas are now to be deleted; the new block is sealed, not a candidate.
        #expect(try store.deletedBlocks(on: "dn2") == [old])
        #expect(try store.compactionCandidates(threshold: 0.99, excluding: [], limit: 10).isEmpty)
        #expect(try store.openPackedBlocks(replication: 2, maxLength: .max).isEmpty)
    }

    @Test func switchRefusesWhenAFileLiesOutsideTheCopiedRanges() throws {
        let old = try sealedBlockOfTen()
        for i in 0..<9 { _ = try store.delete(path("/f/\(i)"), recursive: false) }
        let new = try store.createBlock(kind: .packed, replication: 2, now: 2).id
        // The plan was made before /dup (same bytes as the deleted /f/0) was committed.
        try store.commit([newFile("/dup", size: 100, extents: [Extent(block: old, offset: 0, storedLength: 100, logicalLength: 100)])],
                         acks: [], overwrite: false, owner: "u")
        let plan = CompactionPlan(newBlock: new, ranges: [ByteRange(offset: 900, length: 100)])
        expectError(.conflict, containing: "outside the copied ranges") {
            try store.switchCompacted(old: old, plan: plan, ack: AppendResponse(block: new, offset: 0, storedLength: 100, nodes: ["dn1", "dn2"]))
        }
        // Nothing moved.
        #expect(try store.locations(path("/f/9")).extents.map(\.extent.block) == [old])
        #expect(try store.locations(path("/dup")).extents.map(\.extent.block) == [old])
        // A short acknowledgement is refused too.
        expectError(.conflict, containing: "plan copies") {
            try store.switchCompacted(old: old, plan: plan, ack: AppendResponse(block: new, offset: 0, storedLength: 50, nodes: ["dn1", "dn2"]))
        }
    }

    @Test func unreferencedBlocksAreRetired() throws {
        let sealed = try sealedBlockOfTen()
        let stillOpen = try store.createBlock(kind: .packed, replication: 2, now: 1).id
        let oldUpload = try store.createBlock(kind: .dedicated, replication: 2, now: 100).id
        let freshUpload = try store.createBlock(kind: .dedicated, replication: 2, now: 5000).id
        #expect(try store.unreferencedBlocks(uncommittedBefore: 1000) == [oldUpload])
        _ = try store.delete(path("/f"), recursive: true)
        #expect(try store.unreferencedBlocks(uncommittedBefore: 1000) == [sealed, oldUpload])
        #expect(try store.retireUnreferenced([sealed, oldUpload, stillOpen, freshUpload]).count == 4)
        #expect(try store.unreferencedBlocks(uncommittedBefore: 10_000).isEmpty)
        // A referenced block is never retired.
        let used = try sealedBlockOfTen()
        #expect(try store.retireUnreferenced([used]).isEmpty)
    }

    @Test func aReplicaShorterThanTheAcknowledgedLengthIsStale() throws {
        let block = try sealedBlockOfTen()
        #expect(try store.goodReplicaNodes(of: block) == ["dn1", "dn2"])
        // dn3 got a copy taken before the last batch landed: 600 of 1000 bytes.
        _ = try store.addReplicas(of: "dn3", received: [BlockReportEntry(block: block, length: 600)], removed: [])
        #expect(try store.goodReplicaNodes(of: block) == ["dn1", "dn2"])
        #expect(try store.locations(path("/f/0")).extents.map(\.replicaNodes) == [["dn1", "dn2"]])
        let row = try #require(try store.fsckScan(.root).blocks.first { $0.block == block })
        #expect(row.replicaNodes == ["dn1", "dn2"] && row.staleNodes == ["dn3"])
        // dn1 restarts with its file cut short on disk: its full report makes it stale too.
        _ = try store.replaceReplicas(of: "dn1", with: [BlockReportEntry(block: block, length: 999)])
        #expect(try store.goodReplicaNodes(of: block) == ["dn2"])
        // A late incremental report of an older length never lowers a replica.
        _ = try store.addReplicas(of: "dn2", received: [BlockReportEntry(block: block, length: 500)], removed: [])
        #expect(try store.goodReplicaNodes(of: block) == ["dn2"])
        // A full copy makes dn3 good.
        _ = try store.addReplicas(of: "dn3", received: [BlockReportEntry(block: block, length: 1000)], removed: [])
        #expect(try store.goodReplicaNodes(of: block) == ["dn2", "dn3"])
    }

    @Test func onlyAnUnusedDedicatedBlockCanBeAbandoned() throws {
        let upload = try store.createBlock(kind: .dedicated, replication: 2, now: 1).id
        _ = try store.addReplicas(of: "dn1", received: [BlockReportEntry(block: upload, length: 4096)], removed: [])
        try store.abandon(upload)
        #expect(try store.deletedBlocks(on: "dn1") == [upload])
        try store.abandon(upload)   // again: nothing to do
        let packed = try sealedBlockOfTen()
        expectError(.conflict, containing: "packed") { try store.abandon(packed) }
        let used = try store.createBlock(kind: .dedicated, replication: 2, now: 1).id
        try store.commit([newFile("/big", size: 10, extents: [Extent(block: used, offset: 0, storedLength: 10, logicalLength: 10)])],
                         acks: [], overwrite: false, owner: "u")
        expectError(.conflict, containing: "in use") { try store.abandon(used) }
        expectError(.notFound) { try store.abandon(9999) }
    }

    @Test func blockIdsAreNeverHandedOutTwice() throws {
        let a = try store.createBlock(kind: .packed, replication: 2, now: 1).id
        let b = try store.createBlock(kind: .dedicated, replication: 2, now: 1).id
        #expect(b == a + 1)
        // b is retired and, once no replica remains, forgotten: its row is gone.
        #expect(try store.retireUnreferenced([b]) == [b])
        try store.forgetBlocks([b])
        #expect(try store.unreferencedBlocks(uncommittedBefore: .infinity) == [])
        let c = try store.createBlock(kind: .dedicated, replication: 2, now: 2).id
        #expect(c == b + 1, "block id \(b) was handed out again")
    }
}
