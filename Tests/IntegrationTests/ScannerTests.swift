import Foundation
import HFSCore
import Testing

/// The block scanner finds a replica damaged on disk that nobody reads, and the namenode has it
/// replaced from the good copy. Heartbeats every 3 s (replication rounds and the commands they
/// send go at that pace) keep the replica reported corrupt long enough for fsck to see it.
@Suite("block scanner", .serialized,
       .hfsCluster(.init(cluster: ["scan_rate: 64MiB", "scan_interval: 1s"], deadNodeTimeout: "15s", heartbeatInterval: "3s")),
       .timeLimit(.minutes(3)))
struct ScannerTests {
    @Test("a flipped byte in a replica nobody reads: fsck reports it corrupt, then healthy with the replica repaired")
    func scannerFindsAndRepairs() async throws {
        let c = try currentCluster()
        let dir = try c.localDir("scan")
        let data = TestData.random(300_000, seed: 610)
        let local = dir.appendingPathComponent("s.bin")
        try TestData.write(data, to: local)
        try await c.ok(["put", local.path, "/s.bin"])
        let block = try #require(try await c.blocks("/s.bin").blocks.first)
        #expect(block.replicas.count == 2)
        let victim = c.node(block.replicas[0].id)
        let survivor = block.replicas[1].id
        try CorruptionTests.flipByte(c, victim, block: block.block, at: UInt64(block.offset) + 24 + 1000)

        // No read of /s.bin until the end: only the scanner can find it. Seen either in fsck (the
        // replica reported corrupt) or, when the repair was quicker than fsck's polls (under a
        // loaded machine: a full suite), in the scanner's own report in the log.
        var seenCorrupt = false
        let reported = "block \(block.block) is corrupt here, reporting it: block scanner"
        try await waitFor("fsck or the log reports the corrupt replica on \(victim.id)", seconds: 30) {
            let (f, status) = try await c.fsck()
            seenCorrupt = f.corrupt > 0 && status == 1 && f.problems.contains { $0.contains("\(block.block)") && $0.contains(victim.id) }
                || c.logTail(lines: 100_000).contains(reported)
            return seenCorrupt
        }
        #expect(seenCorrupt)
        try await waitFor("fsck healthy after the repair", seconds: 40) { try await c.fsck().1 == 0 }

        let holders = try await c.blocks("/s.bin").blocks.first?.holders ?? []
        #expect(holders.count == 2 && holders.contains(survivor), "replicas now on \(holders.sorted())")
        if !holders.contains(victim.id) {
            try await waitFor("the corrupt copy removed from \(victim.id)'s disk", seconds: 15) { !c.blockIdsOnDisk(victim).contains(block.block) }
        }
        let copies = try holders.sorted().map { id -> Data in
            let all = try Data(contentsOf: c.dataDir(c.node(id)).appendingPathComponent("blocks/blk_\(block.block)"))
            return all.subdata(in: Int(block.offset)..<Int(block.offset + block.storedLength))
        }
        let same = copies.count == 2 && copies[0] == copies[1]
        #expect(same, "the two replicas of block \(block.block) differ")
        try await c.expectCat("/s.bin", data, "cat after the repair")
    }
}
