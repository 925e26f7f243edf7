import AsyncHTTPClient
import Foundation
import HFSCore
import HFSFormat
import NIOCore
import Testing

/// kill -9 in the middle of writes: a datanode during a large put and during a batch of small
/// files (the put goes on elsewhere), the namenode during a loop of puts (every acknowledged file
/// survives, nothing half-committed shows).
@Suite("faults during writes", .serialized, .hfsCluster(separateDaemons: true, .init()), .timeLimit(.minutes(5)))
struct FaultTests {
    /// Waits until a datanode holds a block file that was not there in `before`, and returns
    /// that node (the one receiving a block of the put under way), or nil after `seconds`.
    static func nodeReceiving(_ c: TestCluster, before: [String: Set<Int64>], seconds: Double) async throws -> TestCluster.Node? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            for n in c.datanodes where !c.blockIdsOnDisk(n).subtracting(before[n.id] ?? []).isEmpty { return n }
            try await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    static func disks(_ c: TestCluster) -> [String: Set<Int64>] {
        Dictionary(uniqueKeysWithValues: c.datanodes.map { ($0.id, c.blockIdsOnDisk($0)) })
    }

    @Test("kill -9 of a datanode in the middle of a large put: the put succeeds, reads back, and replication is restored")
    func datanodeDiesDuringLargePut() async throws {
        let c = try currentCluster()
        try await waitForLive(c, 3)
        let dir = try c.localDir("midlarge")
        let data = TestData.random(24_000_000, seed: 1200)   // 23 blocks of 1 MiB
        let local = dir.appendingPathComponent("big.bin")
        try TestData.write(data, to: local)
        let before = Self.disks(c)
        let put = Task { try await c.run(["put", local.path, "/midlarge.bin"]) }
        let victim = try await Self.nodeReceiving(c, before: before, seconds: 30)
        if let victim { c.kill9(victim.id) }
        // Whatever fails below, the next tests get all three datanodes back.
        defer { if let victim, !c.isRunning(victim.id) { try? c.restart(victim.id) } }
        let r = try await put.value
        #expect(victim != nil, "no block file appeared while the put ran")
        #expect(r.status == 0, "put after a datanode died mid-put: \(r)")
        try await c.expectCat("/midlarge.bin", data)
        if let victim {
            let holders = try await c.blocks("/midlarge.bin").blocks.flatMap(\.holders)
            #expect(!holders.isEmpty)
            try await waitForDead(c, victim.id)
            try await waitFor("fsck healthy with \(victim.id) dead", seconds: 60) { try await c.fsck().1 == 0 }
            for b in try await c.blocks("/midlarge.bin").blocks {
                #expect(b.holders.count == 2 && !b.holders.contains(victim.id), "block \(b.block) on \(b.holders.sorted())")
            }
            try c.restart(victim.id)
            try await waitForLive(c, 3)
            // The partial block the victim was writing was abandoned: it is removed once the node is back.
            let used = Set(try await c.blocks("/midlarge.bin").blocks.map(\.block))
            let partial = c.blockIdsOnDisk(victim).subtracting(before[victim.id] ?? []).subtracting(used)
            try await waitFor("the abandoned partial block removed from \(victim.id)", seconds: 30) {
                c.blockIdsOnDisk(victim).isDisjoint(with: partial)
            }
        }
        try await c.expectCat("/midlarge.bin", data)
    }

    @Test("kill -9 of a datanode in the middle of a batch of small files: every file is stored and reads back")
    func datanodeDiesDuringSmallBatch() async throws {
        let c = try currentCluster()
        try await waitForLive(c, 3)
        let dir = try c.localDir("midbatch")
        let tree = dir.appendingPathComponent("batch")
        let files = try writeFiles(in: tree, prefix: "s", count: 600, bytes: { 20_000 + ($0 * 97) % 30_000 }, seed: 1300)
        let before = Self.disks(c)
        let put = Task { try await c.run(["put", tree.path, "/"]) }
        let victim = try await Self.nodeReceiving(c, before: before, seconds: 30)
        if let victim { c.kill9(victim.id) }
        defer { if let victim, !c.isRunning(victim.id) { try? c.restart(victim.id) } }
        let r = try await put.value
        #expect(victim != nil, "no block file appeared while the put ran")
        #expect(r.status == 0, "put after a datanode died mid-batch: \(r)")
        let listed = try await c.ok(["ls", "/batch"]).lines
        #expect(listed.count == files.count, "ls /batch: \(listed.count) of \(files.count)")
        let out = dir.appendingPathComponent("back")
        try await c.ok(["get", "/batch", out.path])
        for (name, data) in files {
            let got = try? Data(contentsOf: out.appendingPathComponent(name))
            #expect(got == data, "\(name) \(got == nil ? "missing" : "differs") after the datanode died mid-batch")
        }
        try await waitFor("fsck healthy after the repair", seconds: 60) { try await c.fsck().1 == 0 }
        if let victim {
            try c.restart(victim.id)
            try await waitForLive(c, 3)
        }
    }

    @Test("the downstream node of a pipeline dies while the writer is between two chunks: the forwarding node lives on")
    func downstreamDiesWhileWriterWaits() async throws {
        // The writer is this test, so that it knows which node forwards to which: an append of
        // two frames to a block id the namenode never gave out (the datanodes remove it later).
        let c = try currentCluster()
        try await waitForLive(c, 3)
        let (primary, downstream) = (c.datanodes[0], c.datanodes[1])
        let block = Int64(1) << 40 + Int64.random(in: 0..<(1 << 20))
        func frames(_ seed: UInt64, bytes: Int = 64 << 10) -> ByteBuffer {
            var out = ByteBuffer()
            TestData.random(bytes, seed: seed).withUnsafeBytes { _ = FrameEncoder(policy: .none).encode($0, content: .other, into: &out) }
            return out
        }
        let (body, chunks) = AsyncStream<ByteBuffer>.makeStream()
        var req = HTTPClientRequest(url: "http://\(primary.address)/api/v1/blocks/\(block)/append")
        req.method = .POST
        req.headers.add(name: "x-hfs-pipeline", value: "\(downstream.id)@\(downstream.address)")
        req.headers.add(name: "x-hfs-kind", value: "dedicated")
        req.body = .stream(body, length: .unknown)
        let append = Task { () -> UInt in
            let r = try await HTTPClient.shared.execute(req, timeout: .seconds(60))
            _ = try await r.body.collect(upTo: 1 << 20)
            return r.status.code
        }
        // More than a datanode gathers before it writes around the page cache, so that the
        // first chunk shows in the downstream node's file.
        chunks.yield(frames(1700, bytes: Limits.directAppendBufferBytes + (64 << 10)))
        let file = c.dataDir(downstream).appendingPathComponent("blocks/blk_\(block)").path
        try await waitFor("the first frame on \(downstream.id)", seconds: 30) {
            ((try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0) > 0
        }
        c.kill9(downstream.id)
        defer { if !c.isRunning(downstream.id) { try? c.restart(downstream.id) } }
        // The forward fails while the primary waits for the writer's next chunk, which comes a
        // moment later.
        try await Task.sleep(for: .milliseconds(500))
        chunks.yield(frames(1701))
        chunks.finish()
        let status = try? await append.value
        #expect(status != 200, "an append whose downstream died was acknowledged")
        try c.restart(downstream.id)
        // The primary goes on heartbeating (it used to trap: Hummingbird drained the request body
        // while the HTTP client's task was still reading it).
        try await waitForLive(c, 3)
        #expect(c.isRunning(primary.id), "\(primary.id), which forwarded to the dead \(downstream.id), exited")
        #expect(c.crashInLog() == nil, "\(c.crashInLog() ?? "")")
    }

    @Test("kill -9 of a datanode in the middle of a large put from stdin: the block is sent again",
          arguments: ["pipe", "file"])
    func datanodeDiesDuringStdinPut(stdin: String) async throws {
        // Stdin cannot always be read twice: a pipe goes through the client's spool, a regular
        // file is opened again. Without either, this put failed.
        let c = try currentCluster()
        try await waitForLive(c, 3)
        let dir = try c.localDir("midstdin-\(stdin)")
        // 39 blocks of 1 MiB: enough that the put is still running when the victim dies (with 16, a
        // put whose client skips lz4 on random frames could finish before the kill landed).
        let data = TestData.random(40_000_000, seed: 1800)
        let abandoned = { c.logTail(lines: 1_000_000).components(separatedBy: "abandoned by its writer").count }
        let abandonedBefore = abandoned()
        let before = Self.disks(c)
        let put: Task<CLIResult, any Error>
        var feeder: Task<Void, any Error>?
        if stdin == "pipe" {
            let fifo = dir.appendingPathComponent("stdin").path
            try #require(mkfifo(fifo, 0o600) == 0)
            put = Task { try await c.run(["put", "-", "/midstdin-\(stdin).bin"], stdinPath: fifo) }
            feeder = Task { try await feedFIFO(fifo, data, seconds: 60) }
        } else {
            put = Task { try await c.run(["put", "-", "/midstdin-\(stdin).bin"], stdin: data) }
        }
        let victim = try await Self.nodeReceiving(c, before: before, seconds: 30)
        if let victim { c.kill9(victim.id) }
        defer { if let victim, !c.isRunning(victim.id) { try? c.restart(victim.id) } }
        try await feeder?.value
        let r = try await put.value
        #expect(victim != nil, "no block file appeared while the put ran")
        #expect(r.status == 0, "put - (\(stdin)) after a datanode died mid-put: \(r)")
        try await c.expectCat("/midstdin-\(stdin).bin", data)
        #expect(abandoned() > abandonedBefore, "no block was given up and sent again: the kill missed the put")
    }

    @Test("kill -9 and restart of the namenode during a loop of puts: every acknowledged file is whole, nothing half-committed")
    func namenodeDiesDuringPuts() async throws {
        let c = try currentCluster()
        try await waitForLive(c, 3)
        let dir = try c.localDir("nnloop")
        var content: [String: Data] = [:]
        for i in 0..<60 {
            // Mostly small files (packed batches), every tenth larger than a block (dedicated blocks).
            let d = TestData.random(i % 10 == 9 ? 2_500_000 : 5_000 + i * 1_000, seed: 1400 + UInt64(i))
            content["p\(i)"] = d
            try TestData.write(d, to: dir.appendingPathComponent("p\(i)"))
        }
        let names = (0..<60).map { "p\($0)" }
        let loop = Task { () -> [(name: String, result: CLIResult)] in
            var results: [(name: String, result: CLIResult)] = []
            for name in names {
                results.append((name, try await c.run(["put", dir.appendingPathComponent(name).path, "/nnloop/\(name)"], timeoutSeconds: 120)))
            }
            return results
        }
        // Two crashes while the loop runs, each followed by a restart a moment later.
        for pause in [0.7, 1.5] {
            try await Task.sleep(for: .seconds(pause))
            c.kill9("namenode")
            try await Task.sleep(for: .milliseconds(300))
            try c.restart("namenode")
        }
        let results = try await loop.value
        let acknowledged = results.filter { $0.result.status == 0 }.map(\.name)
        let failed = results.filter { $0.result.status != 0 }
        #expect(acknowledged.count >= 30, "only \(acknowledged.count) of 60 puts acknowledged")
        for f in failed {
            // A client that was waiting gets one clear error line.
            let lines = f.result.stderr.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].hasPrefix("hfs: error: "), "\(f.name): \(f.result.stderr)")
        }
        try await waitFor("namenode out of safe mode", seconds: 30) {
            guard let r = try await c.reportIfUp() else { return false }
            return r.safeMode == nil
        }
        for name in acknowledged { try await c.expectCat("/nnloop/\(name)", content[name]!, "acknowledged /nnloop/\(name)") }
        // A put that failed either left nothing or (its commit landed as the namenode died) the
        // whole file: never a partial one.
        let present = Set(try await c.ok(["ls", "/nnloop"]).lines.compactMap { $0.split(separator: "/").last.map(String.init) })
        for f in failed where present.contains(f.name) {
            try await c.expectCat("/nnloop/\(f.name)", content[f.name]!, "unacknowledged but visible /nnloop/\(f.name)")
        }
        #expect(present.isSubset(of: Set(names)), "unexpected entries: \(present.subtracting(names).sorted())")
        #expect(present.isSuperset(of: acknowledged), "missing: \(Set(acknowledged).subtracting(present).sorted())")
        try await waitFor("fsck healthy", seconds: 40) { try await c.fsck().1 == 0 }
    }

    @Test("a put right after a namenode restart waits for the datanodes to register and succeeds")
    func putRightAfterNamenodeRestart() async throws {
        let c = try currentCluster()
        try await waitForLive(c, 3)
        let dir = try c.localDir("nnfresh")
        let data = TestData.random(50_000, seed: 1600)
        try TestData.write(data, to: dir.appendingPathComponent("f.bin"))
        c.kill9("namenode")
        try c.restart("namenode")
        // No wait: the namenode knows no live datanode for a heartbeat or two.
        let r = try await c.run(["put", dir.appendingPathComponent("f.bin").path, "/nnfresh.bin"])
        #expect(r.status == 0, "put right after the restart: \(r)")
        try await c.expectCat("/nnfresh.bin", data)
    }
}

/// Writes `data` into the FIFO at `path` once a reader has opened it, then closes it; never
/// blocks (non-blocking writes, bounded by `seconds`), so a reader that went away cannot hang a test.
func feedFIFO(_ path: String, _ data: Data, seconds: Double) async throws {
    signal(SIGPIPE, SIG_IGN)  // a reader gone makes write fail with EPIPE instead
    let deadline = Date().addingTimeInterval(seconds)
    var fd: Int32 = -1
    while fd < 0 {
        fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
        if fd >= 0 { break }
        guard errno == ENXIO, Date() < deadline else { throw HarnessError("open \(path) for writing: errno \(errno)") }
        try await Task.sleep(for: .milliseconds(10))
    }
    defer { close(fd) }
    var done = 0
    while done < data.count {
        let n = data.withUnsafeBytes { write(fd, $0.baseAddress! + done, data.count - done) }
        if n > 0 { done += n; continue }
        guard n < 0, errno == EAGAIN || errno == EINTR, Date() < deadline else {
            throw HarnessError("write to \(path): \(done) of \(data.count) bytes, errno \(errno)")
        }
        try await Task.sleep(for: .milliseconds(2))
    }
}
