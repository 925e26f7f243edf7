import Foundation
import HFSCore
import Testing

/// Reads while a datanode is down but not yet declared dead (a long `dead_node_timeout`): the
/// namenode still lists the node, first for the blocks whose read order starts with it, so every
/// such read has to move on to the next replica at once.
@Suite("failover of reads", .serialized, .hfsCluster(separateDaemons: true, .init(deadNodeTimeout: "120s")), .timeLimit(.minutes(3)))
struct FailoverTests {
    @Test("reads go on from the other replica at once while a killed datanode is still listed")
    func readsSkipADownNode() async throws {
        let c = try currentCluster()
        try await waitForLive(c, 3)
        let dir = try c.localDir("failover")
        let tree = dir.appendingPathComponent("tree")
        let files = try writeFiles(in: tree, prefix: "f", count: 600, bytes: { 3_000 + ($0 * 131) % 4_000 }, seed: 2100)
        let big = TestData.random(3_500_000, seed: 2101)
        try TestData.write(big, to: dir.appendingPathComponent("big.bin"))
        try await c.ok(["put", tree.path, dir.appendingPathComponent("big.bin").path, "/"], timeoutSeconds: 120)

        // The node readers go to first for the most of the tree's blocks.
        var firsts: [String: Int] = [:]
        for i in stride(from: 0, to: files.count, by: 25) {
            for b in try await c.blocks("/tree/f\(i)").blocks { firsts[try #require(b.replicas.first).id, default: 0] += 1 }
        }
        let victim = c.node(try #require(firsts.max { $0.value < $1.value }).key)
        c.kill9(victim.id)
        defer { if !c.isRunning(victim.id) { try? c.restart(victim.id) } }
        var stillFirst = 0
        for i in stride(from: 0, to: files.count, by: 25) {
            stillFirst += try await c.blocks("/tree/f\(i)").blocks.filter { $0.replicas.first?.id == victim.id }.count
        }
        #expect(stillFirst > 0, "the namenode stopped listing \(victim.id) first already")

        // Waiting out a connect timeout per file (2 s, 16 files at a time) would take ~40 s or
        // more for the files whose first replica is the dead node; failing over at once, a few.
        let out = dir.appendingPathComponent("back")
        let r = try await c.run(["get", "/tree", out.path], timeoutSeconds: 30)
        #expect(r.status == 0, "get with \(victim.id) down: \(r)")
        for (name, data) in files {
            let got = try? Data(contentsOf: out.appendingPathComponent(name))
            #expect(got == data, "\(name) \(got == nil ? "missing" : "differs") with \(victim.id) down")
        }
        try await c.expectCat("/big.bin", big, "cat with \(victim.id) down")
        try c.restart(victim.id)
        try await waitForLive(c, 3)
    }
}
