import Foundation
import HFSCore
import Testing

/// `hfs admin decommission`: a node's replicas move elsewhere, it takes no new blocks, and once
/// it shows `decommissioned` it can be stopped with no under-replicated block.
@Suite("decommission", .serialized, .hfsDaemons, .timeLimit(.minutes(5)))
struct DecommissionTests {
    @Test("decommission → decommissioned → stopped with nothing under-replicated; recommission; survives a namenode restart")
    func decommission() async throws {
        let c = try currentCluster()
        try await waitForLive(c, 3)
        let dir = try c.localDir("decom")
        let big = TestData.random(3_500_000, seed: 500)  // 4 dedicated blocks of 1 MiB
        try TestData.write(big, to: dir.appendingPathComponent("big.bin"))
        let tree = dir.appendingPathComponent("tree")
        let small = try writeFiles(in: tree, prefix: "s", count: 40, bytes: { 700 + $0 * 31 }, seed: 510)
        let three = TestData.random(200_000, seed: 520)
        try TestData.write(three, to: dir.appendingPathComponent("three.bin"))
        try await c.ok(["put", dir.appendingPathComponent("big.bin").path, tree.path, "/"])
        // Replication 3 on 3 nodes: this block can have no replica outside a decommissioning node.
        try await c.ok(["put", "--replication", "3", dir.appendingPathComponent("three.bin").path, "/three.bin"])
        try await waitFor("fsck healthy before", seconds: 20) { try await c.fsck().1 == 0 }

        // Unknown ids: one clean line.
        let unknown = try await c.run(["admin", "decommission", "dn9"])
        expectCleanError(unknown, "decommission of an unknown node")
        #expect(unknown.stderr.contains("dn9") && unknown.stderr.contains("dn1"), "\(unknown.stderr)")
        expectCleanError(try await c.run(["admin", "recommission", "nope"]), "recommission of an unknown node")

        let victim = "dn1"
        let started = try await c.ok(["admin", "decommission", victim])
        #expect(started.stdoutText == "\(victim): decommissioning\n", "\(started)")

        // Every replication-2 block gets two replicas off the victim; the replication-3 block
        // cannot, so the node stays decommissioning and fsck counts that block.
        let paths = ["/big.bin"] + small.keys.sorted().prefix(5).map { "/tree/\($0)" }
        try await waitFor("two replicas off \(victim) for every replication-2 block", seconds: 40) {
            for p in paths {
                for b in try await c.blocks(p).blocks where b.holders.subtracting([victim]).count < 2 { return false }
            }
            return true
        }
        let (during, status) = try await c.fsck()
        #expect(status == 0 && during.healthy, "decommissioning leaves the cluster healthy: \(during)")
        #expect(during.decommissioning >= 1, "the replication-3 block counts as decommissioning: \(during)")
        #expect(try await c.ok(["fsck", "/"]).stdoutText.contains("decommissioning: \(during.decommissioning)"))
        try await Task.sleep(for: .seconds(2))
        #expect(try await c.report().datanodes.first { $0.id == victim }?.adminState == "decommissioning")
        #expect(try await c.ok(["report"]).stdoutText.contains("\(victim)  \(c.node(victim).address)  rack /r1  live decommissioning"))

        // New blocks never go to it.
        let fresh = TestData.random(2_500_000, seed: 530)
        try TestData.write(fresh, to: dir.appendingPathComponent("fresh.bin"))
        try await c.ok(["put", dir.appendingPathComponent("fresh.bin").path, "/fresh.bin"])
        for b in try await c.blocks("/fresh.bin").blocks {
            #expect(!b.holders.contains(victim), "new block \(b.block) placed on decommissioning \(victim)")
        }

        // Without the replication-3 file, the decommission completes.
        try await c.ok(["rm", "/three.bin"])
        try await waitFor("\(victim) decommissioned", seconds: 90) {
            try await c.report().datanodes.first { $0.id == victim }?.adminState == "decommissioned"
        }
        #expect(try await c.fsck().0.decommissioning == 0)

        // It can now be stopped: nothing is under-replicated at any moment.
        c.kill9(victim)
        try await waitFor("\(victim) dead", seconds: 20) { try await c.report().datanodes.first { $0.id == victim }?.state == "dead" }
        let (after, afterStatus) = try await c.fsck()
        #expect(afterStatus == 0 && after.underReplicated == 0 && after.missing == 0, "\(after)")
        try await c.expectCat("/big.bin", big)
        try await c.expectCat("/fresh.bin", fresh)
        for (name, data) in small.sorted(by: { $0.key < $1.key }).prefix(8) { try await c.expectCat("/tree/\(name)", data) }

        // Back in service: surplus replicas are trimmed to 2 again.
        try c.restart(victim)
        try await waitForLive(c, 3)
        #expect(try await c.ok(["admin", "recommission", victim]).stdoutText == "\(victim): normal\n")
        try await waitFor("blocks trimmed back to 2 replicas", seconds: 40) {
            try await c.blocks("/big.bin").blocks.allSatisfy { $0.replicas.count == 2 }
        }
        #expect(try await c.report().datanodes.first { $0.id == victim }?.adminState == "normal")

        // The admin state is stored: a restarted namenode still knows dn2 is leaving.
        #expect(try await c.ok(["admin", "decommission", "dn2"]).status == 0)
        c.kill9("namenode")
        try c.restart("namenode")
        try await waitFor("namenode back", seconds: 30) { try await c.run(["report", "--json"]).status == 0 }
        let state = try await c.report().datanodes.first { $0.id == "dn2" }?.adminState
        #expect(state == "decommissioning" || state == "decommissioned", "dn2 after a namenode restart: \(state ?? "-")")
        try await c.ok(["admin", "recommission", "dn2"])
        try await waitFor("fsck healthy at the end", seconds: 40) { try await c.fsck().1 == 0 }
    }
}
