import Foundation
import HFSCore
import Testing

/// Periodic full block reports: a replica file lost behind a datanode's back is noticed and
/// copied again; a block file nobody knows is deleted once it is old enough not to be a write
/// under way.
@Suite("full block reports", .serialized, .hfsCluster(.init(cluster: ["block_report_interval: 2s"])), .timeLimit(.minutes(3)))
struct BlockReportTests {
    @Test("a replica file deleted on disk is re-replicated without anyone reading it")
    func lostReplica() async throws {
        let c = try currentCluster()
        let dir = try c.localDir("lost")
        let data = TestData.random(300_000, seed: 900)
        try TestData.write(data, to: dir.appendingPathComponent("l.bin"))
        try await c.ok(["put", dir.appendingPathComponent("l.bin").path, "/l.bin"])
        let block = try #require(try await c.blocks("/l.bin").blocks.first)
        let victim = c.node(block.replicas[0].id)
        try FileManager.default.removeItem(at: c.dataDir(victim).appendingPathComponent("blocks/blk_\(block.block)"))

        try await waitFor("two replicas of block \(block.block), each on its holder's disk", seconds: 30) {
            guard let b = try await c.blocks("/l.bin").blocks.first, b.holders.count == 2 else { return false }
            return b.holders.allSatisfy { c.blockIdsOnDisk(c.node($0)).contains(block.block) }
        }
        try await waitFor("fsck healthy", seconds: 10) { try await c.fsck().1 == 0 }
        try await c.expectCat("/l.bin", data)
    }

    @Test("an old block file the namenode does not know is deleted; a fresh one (a write under way) is left alone")
    func strayFiles() async throws {
        let c = try currentCluster()
        let blocks = c.dataDir(c.node("dn3")).appendingPathComponent("blocks")
        let old = blocks.appendingPathComponent("blk_987654")
        let young = blocks.appendingPathComponent("blk_987655")
        try Data(repeating: 1, count: 1000).write(to: old)
        try Data(repeating: 2, count: 1000).write(to: young)
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-3600)], ofItemAtPath: old.path)

        try await waitFor("the old stray block file deleted", seconds: 20) { !FileManager.default.fileExists(atPath: old.path) }
        try await Task.sleep(for: .seconds(3))  // at least one more full report
        #expect(FileManager.default.fileExists(atPath: young.path), "a block file younger than the grace period was deleted")
        try? FileManager.default.removeItem(at: young)
    }
}
