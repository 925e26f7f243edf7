import Foundation
import HFSCore
import Testing

/// Compaction of packed blocks whose files were mostly deleted, and replicas that missed
/// appends (stale), on a real cluster that looks for compactable blocks every second.
@Suite("compaction and stale replicas", .serialized,
       .hfsCluster(separateDaemons: true, .init(cluster: ["compaction_interval: 1s", "compaction_threshold: 0.5"], deadNodeTimeout: "10s")),
       .timeLimit(.minutes(4)))
struct CompactionTests {
    /// The block files of `node` with their sizes, by name.
    static func blockFiles(_ c: TestCluster, _ node: TestCluster.Node) -> [(name: String, size: Int64)] {
        let dir = c.dataDir(node).appendingPathComponent("blocks").path
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasPrefix("blk_") }.sorted().map { name in
            (name, (try? FileManager.default.attributesOfItem(atPath: dir + "/" + name)[.size] as? NSNumber)?.int64Value ?? 0)
        }
    }

    /// Sum of the sizes of every block file on every datanode.
    static func bytesOnDisks(_ c: TestCluster) -> Int64 {
        c.datanodes.reduce(0) { total, n in total + blockFiles(c, n).reduce(0) { $0 + $1.size } }
    }

    /// `node: blk_id=size ...` for every datanode, to tell which file a failed size check saw.
    static func describeBlockFiles(_ c: TestCluster) -> String {
        c.datanodes.map { n in "\(n.id): " + blockFiles(c, n).map { "\($0.name)=\($0.size)" }.joined(separator: " ") }.joined(separator: "; ")
    }

    @Test("after most files of packed blocks are deleted, the blocks are rewritten: the rest read back (also while it happens) and the old block files go")
    func compactsMostlyDeletedBlocks() async throws {
        let c = try currentCluster()
        try await waitForLive(c, 3)
        let dir = try c.localDir("compact")
        let set = dir.appendingPathComponent("set")
        try FileManager.default.createDirectory(at: set, withIntermediateDirectories: true)
        var content: [String: Data] = [:]
        for i in 0..<240 {
            let name = "f" + String(1000 + i).dropFirst()
            content[name] = TestData.random(12_000 + (i * 37) % 8_000, seed: 900 + UInt64(i))
            try TestData.write(content[name]!, to: set.appendingPathComponent(name))
        }
        try await c.ok(["mkdir", "-p", "/c"])
        try await c.ok(["put", set.path, "/c/"])   // /c/set/f000 ... f239, ~3.8 MB in packed blocks
        let names = content.keys.sorted()
        let kept = stride(from: 0, to: names.count, by: 5).map { names[$0] }   // every fifth file: 20% live
        let dropped = names.filter { !kept.contains($0) }
        var oldBlocks: Set<Int64> = []
        for name in kept { for b in try await c.blocks("/c/set/\(name)").blocks { oldBlocks.insert(b.block) } }
        #expect(!oldBlocks.isEmpty)
        let diskBefore = Self.bytesOnDisks(c)

        for chunk in stride(from: 0, to: dropped.count, by: 64).map({ Array(dropped[$0..<min($0 + 64, dropped.count)]) }) {
            try await c.ok(["rm"] + chunk.map { "/c/set/\($0)" })
        }
        // Only now does a namenode restart seal every open packed block (their pipelines are not
        // remembered), so that every block of the set can be compacted, once, at 20% live. (Sealed
        // while the deletes ran, a block could be compacted half way through them: its new block
        // would then keep the files deleted after the plan, legitimately above the threshold.)
        c.kill9("namenode")
        try c.restart("namenode")
        try await waitFor("namenode back, out of safe mode, 3 live datanodes", seconds: 30) {
            guard let r = try await c.reportIfUp() else { return false }
            return r.safeMode == nil && r.datanodes.filter { $0.state == "live" }.count == 3
        }

        // Readers run while the blocks are rewritten; every read must return the right bytes.
        let expected = content
        let reader = Task { () -> (reads: Int, failures: [String]) in
            var reads = 0
            var failures: [String] = []
            while !Task.isCancelled && reads < 2_000 {
                let name = kept[reads % kept.count]
                let r = try await c.run(["cat", "/c/set/\(name)"])
                if Task.isCancelled { break }  // the cat was interrupted by the end of the wait
                if r.status != 0 || r.stdout != expected[name]! { failures.append("\(name): exit \(r.status) \(r.stderr)") }
                reads += 1
            }
            return (reads, failures)
        }
        try await waitFor("every kept file moved out of the old blocks", seconds: 90) {
            for name in kept {
                let blocks = try await c.blocks("/c/set/\(name)").blocks
                if blocks.contains(where: { oldBlocks.contains($0.block) }) { return false }
            }
            return true
        }
        reader.cancel()
        let (reads, failures) = try await reader.value
        #expect(reads > 0)
        #expect(failures.isEmpty, "reads during compaction failed: \(failures.prefix(5))")

        try await waitFor("the old block files removed from every datanode", seconds: 30) {
            c.datanodes.allSatisfy { c.blockIdsOnDisk($0).isDisjoint(with: oldBlocks) }
        }
        try await waitFor("fsck healthy", seconds: 30) { try await c.fsck().1 == 0 }
        for name in kept { try await c.expectCat("/c/set/\(name)", content[name]!) }
        let listed = try await c.ok(["ls", "/c/set"]).lines.filter { !$0.isEmpty }
        #expect(listed.count == kept.count, "ls /c/set: \(listed.count) entries")
        // What the disks hold now: the kept files, twice, plus frame headers.
        // (A copy made while the new block's replicas were still being reported is trimmed a
        // heartbeat or two later: wait for it, bounded.)
        let keptBytes = kept.reduce(Int64(0)) { $0 + Int64(content[$1]!.count) }
        let bound = keptBytes * 2 + Int64(kept.count) * 2 * 64
        try await waitFor("block files down to the kept files at replication 2", seconds: 20) { Self.bytesOnDisks(c) <= bound }
        let diskAfter = Self.bytesOnDisks(c)
        #expect(diskAfter <= bound, "block files hold \(diskAfter) bytes for \(keptBytes) live bytes at replication 2: \(Self.describeBlockFiles(c))")
        #expect(diskAfter < diskBefore / 3, "block files: \(diskBefore) bytes before, \(diskAfter) after")
    }

    @Test("a replica cut short on disk (it missed appends) is never read and is replaced")
    func staleReplicaIsReplaced() async throws {
        let c = try currentCluster()
        try await waitForLive(c, 3)
        let dir = try c.localDir("stale")
        let data = TestData.random(600_000, seed: 950)
        try TestData.write(data, to: dir.appendingPathComponent("s.bin"))
        try await c.ok(["put", dir.appendingPathComponent("s.bin").path, "/stale/s.bin"])
        let block = try #require(try await c.blocks("/stale/s.bin").blocks.first)
        let victim = c.node(try #require(block.replicas.first).id)
        let file = c.dataDir(victim).appendingPathComponent("blocks/blk_\(block.block)").path
        let fullLength = try #require((try FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?.int64Value)

        // The victim restarts with the end of its replica missing, as if it had missed the last
        // append: its full block report gives the shorter length.
        c.kill9(victim.id)
        #expect(truncate(file, off_t(fullLength - 70_000)) == 0)
        try c.restart(victim.id)
        try await waitForLive(c, 3)
        // Reads never go to the short replica (it would fail the tail and fall back, which a
        // read of every byte checks only indirectly): the file reads whole at every moment.
        for _ in 0..<5 { try await c.expectCat("/stale/s.bin", data) }
        try await waitFor("fsck healthy with every replica whole", seconds: 60) {
            guard try await c.fsck().1 == 0 else { return false }
            let holders = try await c.blocks("/stale/s.bin").blocks.first?.holders ?? []
            return holders.count == 2 && holders.allSatisfy { id in
                let path = c.dataDir(c.node(id)).appendingPathComponent("blocks/blk_\(block.block)").path
                return ((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? 0) >= fullLength
            }
        }
        try await c.expectCat("/stale/s.bin", data)
    }
}
