import Foundation
import HFSCore
import Testing

/// The cluster heals itself: a datanode killed for good has its blocks copied back to the
/// configured replication on the live nodes, without anyone typing a command.
@Suite("repair", .serialized, .hfsDaemons, .timeLimit(.minutes(5)))
struct RepairTests {
    @Test("kill -9 of a datanode: replication is restored on the live nodes and every byte reads back")
    func deadDatanode() async throws {
        let c = try currentCluster()
        let dir = try c.localDir("dead")
        let big = TestData.random(3_500_000, seed: 90)  // 4 dedicated blocks of 1 MiB
        try TestData.write(big, to: dir.appendingPathComponent("big.bin"))
        let tree = dir.appendingPathComponent("tree")
        let small = try writeFiles(in: tree, prefix: "f", count: 60, bytes: { 500 + $0 * 37 }, seed: 100)
        try await waitForLive(c, 3)
        try await c.ok(["put", dir.appendingPathComponent("big.bin").path, tree.path, "/"])
        try await waitFor("fsck healthy before the fault", seconds: 20) { try await c.run(["fsck", "/"]).status == 0 }

        let victim = c.datanodes[0]
        c.kill9(victim.id)
        try await waitForDead(c, victim.id)
        try await waitFor("fsck healthy again after \(victim.id) died", seconds: 60) { try await c.run(["fsck", "/"]).status == 0 }

        struct Stat: Decodable {
            struct Block: Decodable { struct R: Decodable { var id: String }; var block: Int64; var replicas: [R] }
            var blocks: [Block]
        }
        for path in ["/big.bin", "/tree/f0", "/tree/f59"] {
            let stat = try JSONDecoder().decode(Stat.self, from: try await c.ok(["stat", "--json", path]).stdout)
            for b in stat.blocks {
                let ids = Set(b.replicas.map(\.id))
                #expect(ids.count == 2, "\(path) block \(b.block) on \(ids.sorted())")
                #expect(!ids.contains(victim.id), "\(path) block \(b.block) still counted on the dead \(victim.id)")
                for n in c.datanodes where ids.contains(n.id) {
                    #expect(c.blockIdsOnDisk(n).contains(b.block), "block \(b.block) not on \(n.id)'s disk")
                }
            }
        }
        try await c.expectCat("/big.bin", big, "the large file after the repair")
        for (name, data) in small.sorted(by: { $0.key < $1.key }).prefix(10) {
            try await c.expectCat("/tree/\(name)", data, "/tree/\(name) after the repair")
        }

        // The dead node comes back with its old replicas: every block is trimmed back to 2.
        try c.restart(victim.id)
        try await waitForLive(c, 3)
        try await waitFor("blocks trimmed back to 2 replicas after \(victim.id) came back", seconds: 40) {
            let stat = try JSONDecoder().decode(Stat.self, from: try await c.ok(["stat", "--json", "/big.bin"]).stdout)
            return stat.blocks.allSatisfy { $0.replicas.count == 2 }
        }
        try await c.expectCat("/big.bin", big, "the large file after the trim")
        #expect(try await c.run(["fsck", "/"]).status == 0)
    }

    @Test("a datanode dies just before a put, before the namenode knows: the put leaves it out and succeeds")
    func deadBeforePut() async throws {
        let c = try currentCluster()
        try await waitForLive(c, 3)
        let dir = try c.localDir("deadbefore")
        let tree = dir.appendingPathComponent("batch")
        let files = try writeFiles(in: tree, prefix: "g", count: 200, bytes: { 1000 + $0 * 13 }, seed: 300)
        let victim = c.datanodes[1]
        c.kill9(victim.id)
        // Within the next 2 s the namenode still counts it live and may put it in pipelines.
        try await c.ok(["put", tree.path, "/"])
        for (name, data) in files.sorted(by: { $0.key < $1.key }).prefix(20) {
            try await c.expectCat("/batch/\(name)", data, "/batch/\(name)")
        }
        try c.restart(victim.id)
    }
}

/// Writes `count` random files `<prefix><i>` of `bytes(i)` bytes into `dir`; returns them by name.
func writeFiles(in dir: URL, prefix: String, count: Int, bytes: (Int) -> Int, seed: UInt64) throws -> [String: Data] {
    var files: [String: Data] = [:]
    for i in 0..<count {
        let d = TestData.random(bytes(i), seed: seed + UInt64(i))
        files["\(prefix)\(i)"] = d
        try TestData.write(d, to: dir.appendingPathComponent("\(prefix)\(i)"))
    }
    return files
}

/// Waits until `count` datanodes are live (a restarted one registers within a few heartbeats).
func waitForLive(_ c: TestCluster, _ count: Int) async throws {
    try await waitFor("\(count) live datanodes", seconds: 30) {
        let r = try JSONDecoder().decode(ReportResponse.self, from: try await c.ok(["report", "--json"]).stdout)
        return r.datanodes.filter { $0.state == "live" }.count >= count
    }
}

/// Until the namenode reports datanode `id` dead (its replicas no longer count, repair starts).
/// A test that killed a node waits for this before it waits for fsck to be healthy: until the
/// namenode notices, the dead node's replicas still count and fsck can be healthy already.
func waitForDead(_ c: TestCluster, _ id: String) async throws {
    try await waitFor("\(id) reported dead", seconds: 30) {
        let r = try JSONDecoder().decode(ReportResponse.self, from: try await c.ok(["report", "--json"]).stdout)
        return r.datanodes.first { $0.id == id }?.state == "dead"
    }
}

/// Polls `condition` every 250 ms for at most `seconds`; records a failure naming `what` if it
/// never holds.
func waitFor(_ what: String, seconds: Double, sourceLocation: SourceLocation = #_sourceLocation,
             _ condition: () async throws -> Bool) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(250))
    }
    Issue.record("timed out after \(Int(seconds)) s waiting for: \(what)", sourceLocation: sourceLocation)
}
