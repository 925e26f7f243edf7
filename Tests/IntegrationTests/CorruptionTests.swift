import Foundation
import HFSCore
import Testing

/// A replica damaged on disk: readers still get the right bytes from the other replica, report
/// the bad one, fsck says so, and the namenode replaces it. On a cluster of its own, since the
/// last test leaves a block with no good replica.
@Suite("corrupt replica", .serialized, .hfsCluster, .timeLimit(.minutes(5)))
struct CorruptionTests {
    typealias Stat = StatBlocks

    /// Puts `data` at `remote` (one small file: one block) and returns that block as stat sees it.
    static func put(_ data: Data, as remote: String, from dir: URL, on c: TestCluster) async throws -> Stat.Block {
        try #require(try await c.put(data, as: remote, in: dir).blocks.first)
    }

    /// Inverts the bits of one byte of a block file, as a failing disk would.
    static func flipByte(_ c: TestCluster, _ node: TestCluster.Node, block: Int64, at offset: UInt64) throws {
        let handle = try FileHandle(forUpdating: c.dataDir(node).appendingPathComponent("blocks/blk_\(block)"))
        defer { try? handle.close() }
        try handle.seek(toOffset: offset)
        let old = try #require(try handle.read(upToCount: 1)?.first)
        try handle.seek(toOffset: offset)
        try handle.write(contentsOf: Data([~old]))
    }

    @Test("a flipped byte on one datanode never reaches a reader; fsck reports the corrupt replica")
    func flippedByte() async throws {
        let c = try currentCluster()
        let dir = try c.localDir("corrupt")
        let data = TestData.random(300_000, seed: 77)
        let block = try await Self.put(data, as: "/c.bin", from: dir, on: c)
        #expect(block.replicas.count == 2)
        let victim = try #require(c.datanodes.first { $0.id == block.replicas[0].id })
        let survivor = block.replicas[1].id

        // Flip a byte inside the first frame's data on one replica only.
        try Self.flipByte(c, victim, block: block.block, at: UInt64(block.offset) + 24 + 5000)

        // The victim is the replica readers try first (stat lists them in that order), so the
        // first read meets it. The namenode then stops offering it (fsck: corrupt) and, soon
        // after, replaces it; the loop only gives the report time to land.
        var reported = false
        for _ in 0..<40 {
            try await c.expectCat("/c.bin", data, "cat with one corrupt replica")
            let r = try await c.run(["fsck", "--json", "/c.bin"])
            let fsck = try JSONDecoder().decode(FsckResponse.self, from: r.stdout)
            let now = try JSONDecoder().decode(Stat.self, from: try await c.ok(["stat", "--json", "/c.bin"]).stdout)
            if fsck.corrupt > 0 {
                #expect(r.status == 1, "fsck exits 1 while a block has a corrupt replica")
                #expect(!fsck.healthy)
                #expect(fsck.problems.contains { $0.contains("\(block.block)") && $0.contains(victim.id) }, "\(fsck.problems)")
            }
            // Reported and already repaired: the victim lost its copy, or got a good one back.
            let victimFile = c.dataDir(victim).appendingPathComponent("blocks/blk_\(block.block)")
            let repairedInPlace = (try? Data(contentsOf: victimFile)).map { bytes in
                bytes.count > Int(block.offset) + 24 + 5000 && bytes[Int(block.offset) + 24 + 5000] == data[5000]
            } ?? true
            if fsck.corrupt > 0 || now.blocks.first?.replicas.contains(where: { $0.id == victim.id }) == false || repairedInPlace {
                reported = true
                break
            }
        }
        #expect(reported, "40 reads never reported the corrupt replica on \(victim.id)")

        // Repaired: a good copy on another node, the bad one deleted, fsck healthy again.
        try await waitFor("fsck healthy after the repair", seconds: 30) { try await c.run(["fsck", "/c.bin"]).status == 0 }
        let after = try JSONDecoder().decode(Stat.self, from: try await c.ok(["stat", "--json", "/c.bin"]).stdout)
        let holders = Set(after.blocks.first?.replicas.map(\.id) ?? [])
        #expect(holders.count == 2 && holders.contains(survivor), "replicas now on \(holders.sorted())")
        // The new copy went to the third node (the corrupt one is then deleted) or rewrote the
        // victim's file in place; either way every holder has the same bytes.
        if !holders.contains(victim.id) {
            try await waitFor("the corrupt copy removed from \(victim.id)'s disk", seconds: 15) { !c.blockIdsOnDisk(victim).contains(block.block) }
        }
        let copies = try holders.sorted().map { id -> Data in
            let node = try #require(c.datanodes.first { $0.id == id })
            let all = try Data(contentsOf: c.dataDir(node).appendingPathComponent("blocks/blk_\(block.block)"))
            return all.subdata(in: Int(block.offset)..<Int(block.offset + block.storedLength))
        }
        let same = copies.count == 2 && copies[0] == copies[1]  // (not inside #expect: it would diff the bytes)
        #expect(same, "the two replicas of block \(block.block) differ")
        try await c.expectCat("/c.bin", data, "cat after the repair")
        let out = dir.appendingPathComponent("back.bin")
        try await c.ok(["get", "/c.bin", out.path])
        expectSameBytes(try? Data(contentsOf: out), data, "get after the repair")
    }

    @Test("get of a tree read in batches: a corrupt replica in the middle of a packed block never reaches a file")
    func corruptReplicaUnderBatchedGet() async throws {
        let c = try currentCluster()
        let dir = try c.localDir("corrupt-tree")
        let tree = dir.appendingPathComponent("tree")
        let files = try writeFiles(in: tree, prefix: "t", count: 40, bytes: { 8_000 + $0 * 100 }, seed: 1500)
        try await c.ok(["put", tree.path, "/"])
        let target = try #require(try await c.blocks("/tree/t20").blocks.first)
        let victim = c.node(target.replicas[0].id)
        try Self.flipByte(c, victim, block: target.block, at: UInt64(target.offset) + 24 + 100)
        // Replicas are offered in random order: six gets meet the bad one with odds of 63 in 64;
        // whichever they read, every file must come out right.
        for round in 0..<6 {
            let out = dir.appendingPathComponent("back\(round)")
            try await c.ok(["get", "/tree", out.path])
            for (name, data) in files {
                let got = try? Data(contentsOf: out.appendingPathComponent(name))
                #expect(got == data, "round \(round): \(name) differs")
            }
        }
    }

    @Test("cat of a file of several blocks, one bad on every replica: the bytes before it, then one error line")
    func catStopsAtBadBlock() async throws {
        // cat fetches the next block while it writes one: the bad block fails in the reader
        // ahead, and the read must end (not hang) with nothing after the last good byte.
        let c = try currentCluster()
        let dir = try c.localDir("catbad")
        let data = TestData.random(5 * TestCluster.blockSizeBytes + 1_000, seed: 79)
        let blocks = try await c.put(data, as: "/catbad.bin", in: dir).blocks
        try #require(blocks.count >= 3)
        let bad = blocks[2]
        for r in bad.replicas {
            try Self.flipByte(c, try #require(c.datanodes.first { $0.id == r.id }), block: bad.block, at: UInt64(bad.offset) + 24 + 100)
        }
        let r = try await c.run(["cat", "/catbad.bin"], timeoutSeconds: 60)
        expectCleanError(r, "cat with a block bad on every replica")
        #expect(r.stderr.contains("block \(bad.block)"), "\(r.stderr)")
        #expect(r.stdout.count <= 2 * TestCluster.blockSizeBytes && r.stdout == data.prefix(r.stdout.count),
                "cat wrote \(r.stdout.count) bytes: more than the blocks before the bad one, or other bytes")
    }

    @Test("when every replica is corrupt the read fails naming the file and block, and writes nothing")
    func allReplicasBad() async throws {
        let c = try currentCluster()
        let dir = try c.localDir("allbad")
        let block = try await Self.put(TestData.random(50_000, seed: 78), as: "/g.bin", from: dir, on: c)
        for r in block.replicas {
            let node = try #require(c.datanodes.first { $0.id == r.id })
            try Self.flipByte(c, node, block: block.block, at: UInt64(block.offset) + 24 + 100)
        }
        let out = dir.appendingPathComponent("g.out")
        let r = try await c.run(["get", "/g.bin", out.path])
        expectCleanError(r, "get with every replica corrupt")
        #expect(r.stderr.contains("/g.bin") && r.stderr.contains("block \(block.block)"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out.path), "a failed get left \(out.path)")
    }
}

/// Deleting files gives the space of their dedicated blocks back on the datanodes.
@Suite("space reclaimed", .serialized, .hfsCluster, .timeLimit(.minutes(5)))
struct ReclaimTests {
    @Test("rm of a large file removes its block files from every datanode")
    func rmFreesBlocks() async throws {
        let c = try currentCluster()
        let dir = try c.localDir("reclaim")
        let local = dir.appendingPathComponent("big.bin")
        try TestData.write(TestData.random(3_500_000, seed: 79), to: local)  // 4 dedicated blocks of 1 MiB
        try await c.ok(["put", local.path, "/big.bin"])
        let stat = try JSONDecoder().decode(CorruptionTests.Stat.self, from: try await c.ok(["stat", "--json", "/big.bin"]).stdout)
        let ids = Set(stat.blocks.map(\.block))
        #expect(ids.count == 4)
        let holders = c.datanodes.filter { !c.blockIdsOnDisk($0).isDisjoint(with: ids) }
        #expect(holders.count >= 2)
        try await c.ok(["rm", "/big.bin"])
        // Datanodes get the delete commands with their next heartbeats (every 1 s here).
        var left = ids
        for _ in 0..<40 {
            left = ids.filter { id in c.datanodes.contains { c.blockIdsOnDisk($0).contains(id) } }
            if left.isEmpty { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        #expect(left.isEmpty, "blocks \(left.sorted()) still on disk 10 s after rm")
        let fsck = try await c.ok(["fsck", "/"])
        #expect(fsck.status == 0)
    }
}
