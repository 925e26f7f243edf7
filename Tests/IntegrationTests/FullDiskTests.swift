import Foundation
import HFSCore
import Testing

/// A datanode with a tiny `capacity` (dn2, alone on rack /r2, so that every pipeline wants it):
/// writes that fill it fail over to the other nodes, and once it is full it gets no new block.
@Suite("full disks", .serialized, .hfsCluster(.init(capacities: ["dn2": "1600KiB"])), .timeLimit(.minutes(3)))
struct FullDiskTests {
    static let capacity: Int64 = 1600 << 10

    func bytesOnDisk(_ c: TestCluster, _ node: TestCluster.Node) -> Int64 {
        let blocks = c.dataDir(node).appendingPathComponent("blocks")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: blocks.path)) ?? []
        return names.reduce(0) { sum, name in
            let size = (try? FileManager.default.attributesOfItem(atPath: blocks.appendingPathComponent(name).path)[.size] as? Int64) ?? 0
            return sum + (size ?? 0)
        }
    }

    @Test("writes fail over from a node that runs out of space; a full cluster says so in one line and loses nothing")
    func tinyCapacity() async throws {
        let c = try currentCluster()
        let dn2 = c.node("dn2")
        #expect(try await c.report().datanodes.first { $0.id == "dn2" }?.capacityBytes == Self.capacity)
        let dir = try c.localDir("full")

        // One batch of ~4 MB of small files: more than dn2 can take. Its pipeline includes dn2
        // (the only node on /r2), which runs out of space mid-batch; the batch goes to dn1+dn3.
        let tree = dir.appendingPathComponent("batch")
        let files = try writeFiles(in: tree, prefix: "b", count: 40, bytes: { 100_000 + $0 }, seed: 700)
        try await c.ok(["put", tree.path, "/"])
        #expect(bytesOnDisk(c, dn2) <= Self.capacity)
        for (name, data) in files.sorted(by: { $0.key < $1.key }).prefix(10) { try await c.expectCat("/batch/\(name)", data) }

        // A large file: dn2 takes a block or two and is then left out (no space, or below the
        // reserve of one block once the namenode knows).
        let big = TestData.random(3_500_000, seed: 710)
        try TestData.write(big, to: dir.appendingPathComponent("big.bin"))
        try await c.ok(["put", dir.appendingPathComponent("big.bin").path, "/big.bin"])
        #expect(bytesOnDisk(c, dn2) <= Self.capacity)
        try await c.expectCat("/big.bin", big)
        for b in try await c.blocks("/big.bin").blocks { #expect(b.replicas.count == 2, "block \(b.block) on \(b.holders.sorted())") }

        // dn2 now holds a block of big.bin (every pipeline wants it while it has room) and has
        // less than the reserve left; 3 replicas cannot be placed.
        try await waitFor("the namenode knows dn2 is nearly full", seconds: 10) {
            let d = try await c.report().datanodes.first { $0.id == "dn2" }
            return d.map { $0.capacityBytes - $0.usedBytes < 1 << 20 } ?? false
        }
        let one = dir.appendingPathComponent("one.bin")
        try TestData.write(TestData.random(5_000, seed: 730), to: one)
        let refused = try await c.run(["put", "--replication", "3", one.path, "/one.bin"])
        expectCleanError(refused, "put with replication 3 when dn2 is full")
        // The namenode refuses it before any byte is sent: dn2 is below its reserve.
        #expect(refused.stderr.contains("no space left: cannot place 3 replica(s)") && refused.stderr.contains("below the reserve): dn2"),
                "\(refused.stderr)")
        #expect(try await c.run(["stat", "/one.bin"]).status != 0, "a refused put left /one.bin behind")

        // Nothing already stored is lost, and replication 2 still has room on dn1 and dn3.
        try await c.expectCat("/big.bin", big)
        for (name, data) in files.sorted(by: { $0.key < $1.key }).suffix(5) { try await c.expectCat("/batch/\(name)", data) }
        try await c.ok(["put", one.path, "/one.bin"])
        #expect(bytesOnDisk(c, dn2) <= Self.capacity)
        try await waitFor("fsck healthy", seconds: 20) { try await c.fsck().1 == 0 }
    }
}

/// Every datanode tiny: puts succeed until the cluster is full, then fail with one line; every
/// file acknowledged before reads back intact.
@Suite("full cluster", .serialized, .hfsCluster(.init(capacities: ["dn1": "2500KiB", "dn2": "2500KiB", "dn3": "2500KiB"])),
       .timeLimit(.minutes(3)))
struct FullClusterTests {
    @Test("puts until the cluster is full: a clear one-line error, and nothing stored is lost")
    func fillTheCluster() async throws {
        let c = try currentCluster()
        let dir = try c.localDir("fill")
        var stored: [String: Data] = [:]
        var refusal: CLIResult?
        for i in 0..<12 {
            let data = TestData.random(900_000, seed: 1000 + UInt64(i))
            let local = dir.appendingPathComponent("f\(i)")
            try TestData.write(data, to: local)
            let r = try await c.run(["put", local.path, "/f\(i)"])
            if r.status != 0 { refusal = r; break }
            stored["/f\(i)"] = data
        }
        let refused = try #require(refusal, "12 puts of 900 KB fitted in 3 × 2500 KiB at replication 2")
        expectCleanError(refused, "put into a full cluster")
        #expect(refused.stderr.contains("no space left"), "\(refused.stderr)")
        #expect(stored.count >= 2, "only \(stored.count) files fitted")

        // Once the namenode has heard every node's usage, it refuses by itself, just as clearly.
        try await Task.sleep(for: .seconds(2))
        let again = try await c.run(["put", dir.appendingPathComponent("f0").path, "/again"])
        expectCleanError(again, "put into a full cluster, later")
        #expect(again.stderr.contains("no space left: cannot place 2 replica(s)") && again.stderr.contains("below the reserve"), "\(again.stderr)")

        for (path, data) in stored.sorted(by: { $0.key < $1.key }) { try await c.expectCat(path, data) }
        for n in c.datanodes {
            let d = try await c.report().datanodes.first { $0.id == n.id }
            #expect(d.map { $0.usedBytes <= 2500 << 10 } == true, "\(n.id) stores more than its capacity: \(String(describing: d))")
        }
        try await waitFor("fsck healthy", seconds: 20) { try await c.fsck().1 == 0 }
    }
}
