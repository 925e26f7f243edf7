import Foundation
import HFSCore
@testable import HFSDatanode
import HFSFormat
import NIOCore
import Testing

func tempDir() throws -> String {
    let d = FileManager.default.temporaryDirectory.appendingPathComponent("hfs-dn-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    return d
}

func frames(_ bytes: [UInt8], policy: CodecPolicy = .auto) -> ByteBuffer {
    var out = ByteBuffer()
    bytes.withUnsafeBytes { _ = FrameEncoder(policy: policy).encode($0, content: .other, into: &out) }
    return out
}

@Suite struct BlockStoreTests {
    @Test func appendReportReopenDelete() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try BlockStore(dataDir: dir, capacityBytes: 1 << 30)
        let body = frames(Array(repeating: 7, count: 3000))
        let file = try store.openForAppend(42)
        try body.withUnsafeReadableBytes { try file.write($0, at: 0) }
        try file.sync()
        store.setLength(42, Int64(body.readableBytes))
        #expect(store.report() == [BlockReportEntry(block: 42, length: Int64(body.readableBytes))])
        #expect(store.capacityBytes == 1 << 30)
        #expect(FileManager.default.fileExists(atPath: "\(dir)/blocks/blk_42"))

        // A restarted datanode finds its blocks on disk.
        let again = try BlockStore(dataDir: dir, capacityBytes: nil)
        #expect(again.report() == [BlockReportEntry(block: 42, length: Int64(body.readableBytes))])
        #expect(again.usedBytes == Int64(body.readableBytes))
        #expect(again.capacityBytes > again.usedBytes)

        #expect(again.delete(42))
        #expect(!again.delete(42))
        #expect(again.report().isEmpty)
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/blocks/blk_42"))
    }

    @Test func truncateCutsBackAFailedAppend() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try BlockStore(dataDir: dir, capacityBytes: nil)
        let file = try store.openForAppend(1)
        let a = frames(Array(repeating: 1, count: 100)), b = frames(Array(repeating: 2, count: 100))
        try a.withUnsafeReadableBytes { try file.write($0, at: 0) }
        try b.withUnsafeReadableBytes { try file.write($0, at: Int64(a.readableBytes)) }
        #expect(try file.size() == Int64(a.readableBytes + b.readableBytes))
        try file.truncate(Int64(a.readableBytes))
        #expect(try file.size() == Int64(a.readableBytes))
    }
}

@Suite struct AppendSinkTests {
    @Test func verifiesAndWritesAtTheOffset() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try BlockStore(dataDir: dir, capacityBytes: nil)
        let file = try store.openForAppend(5)
        let body = frames((0..<5000).map { UInt8($0 % 251) })
        let sink = try AppendSink(file: file, offset: 100, store: store)
        // Arbitrary chunking, as HTTP delivers it.
        var rest = body
        while rest.readableBytes > 0 { try sink.consume(rest.readSlice(length: min(777, rest.readableBytes))!) }
        try sink.finish()
        #expect(sink.written == Int64(body.readableBytes))
        let onDisk = try Data(contentsOf: URL(fileURLWithPath: store.path(5)))
        #expect(onDisk.count == 100 + body.readableBytes)
        #expect(Array(onDisk.suffix(body.readableBytes)) == Array(body.readableBytesView))
    }

    @Test func corruptFrameIsRefused() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try BlockStore(dataDir: dir, capacityBytes: nil)
        var body = frames(Array(repeating: 9, count: 2000), policy: .none)
        let i = body.readerIndex + FrameHeader.size + 10
        body.setInteger(body.getInteger(at: i, as: UInt8.self)! ^ 0xFF, at: i)
        let sink = try AppendSink(file: try store.openForAppend(6), offset: 0, store: store)
        let error = #expect(throws: HFSError.self) { try sink.consume(body) }
        #expect(error?.code == .corrupt)
    }

    /// Appends of odd sizes at odd offsets, in pieces of odd sizes, with the file open for
    /// O_DIRECT and buffered, on the temporary folder's disk and on /dev/shm: the same bytes, the
    /// exact length after every append. Where a folder's file system takes O_DIRECT (ext4, and
    /// tmpfs on recent kernels) the direct case must really be direct.
    @Test(arguments: [false, true], ["tmp", "shm"])
    func appendsAroundThePageCacheLandWhereBufferedOnesDo(direct: Bool, place: String) throws {
        let dir = place == "tmp" ? try tempDir() : "/dev/shm/hfs-dn-\(UUID().uuidString)"
        guard place == "tmp" || FileManager.default.fileExists(atPath: "/dev/shm") else { return }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try BlockStore(dataDir: dir, capacityBytes: nil)
        let takesDirect = Self.takesODirect(dir)
        var expected: [UInt8] = []
        var rng = SystemRandomNumberGenerator()
        // Sizes around page and buffer boundaries, and one append larger than the buffer.
        let sizes = [1, 4095, 4096, 4097, 100, Limits.directAppendBufferBytes - 3, 5000, Limits.directAppendBufferBytes * 2 + 17, 12]
        for (i, size) in sizes.enumerated() {
            let bytes = (0..<size).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let file = try store.openForAppend(9, direct: direct)
            #expect(file.direct == (direct && takesDirect))
            let appender = try BlockAppender(file: file, offset: Int64(expected.count))
            var from = 0
            while from < size {
                let n = min(size - from, [1, 333, 4096, 70_000][(from + i) % 4])
                try bytes[from..<from + n].withUnsafeBytes { try appender.write($0) }
                from += n
            }
            try appender.finish()
            try file.sync()
            expected += bytes
            #expect(appender.written == Int64(size))
            #expect(try file.size() == Int64(expected.count), "after append \(i) of \(size) bytes, direct: \(file.direct)")
        }
        let onDisk = [UInt8](try Data(contentsOf: URL(fileURLWithPath: store.path(9))))
        #expect(onDisk == expected)
    }

    /// Whether files in `dir` open with O_DIRECT (a probe beside the blocks folder).
    static func takesODirect(_ dir: String) -> Bool {
        guard Posix.oDirect != 0 else { return false }
        let probe = dir + "/odirect-probe"
        let fd = open(probe, O_RDWR | O_CREAT | O_CLOEXEC | Posix.oDirect, 0o644)
        defer { if fd >= 0 { close(fd) }; unlink(probe) }
        return fd >= 0
    }

    @Test func truncatedStreamIsRefusedAtTheEnd() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try BlockStore(dataDir: dir, capacityBytes: nil)
        let body = frames(Array(repeating: 3, count: 2000))
        let sink = try AppendSink(file: try store.openForAppend(7), offset: 0, store: store)
        try sink.consume(body.getSlice(at: body.readerIndex, length: body.readableBytes - 1)!)
        #expect(throws: HFSError.self) { try sink.finish() }
    }
}

@Suite struct BlockLocksTests {
    actor Log { var events: [String] = []; func add(_ e: String) { events.append(e) } }

    @Test func appendsToOneBlockAreSerialized() async {
        let locks = BlockLocks()
        let log = Log()
        await locks.acquire(1)
        let waiter = Task {
            await locks.acquire(1)
            await log.add("second")
            await locks.release(1)
        }
        // Another block is not held up.
        await locks.acquire(2)
        await locks.release(2)
        try? await Task.sleep(for: .milliseconds(50))
        await log.add("first done")
        await locks.release(1)
        await waiter.value
        #expect(await log.events == ["first done", "second"])
    }
}

@Suite struct PipelineHeaderTests {
    @Test func roundTrip() throws {
        let nodes = [DatanodeInfo(id: "dn2", address: "127.0.0.1:9862", rack: ""), DatanodeInfo(id: "dn3", address: "127.0.0.1:9863", rack: "")]
        let text = PipelineHeader.encode(nodes)
        #expect(text == "dn2@127.0.0.1:9862,dn3@127.0.0.1:9863")
        #expect(try PipelineHeader.decode(text) == nodes)
        #expect(try PipelineHeader.decode("").isEmpty)
    }

    @Test(arguments: ["dn2", "dn2@", "dn2@nowhere", "@127.0.0.1:1", "dn2@127.0.0.1:99999"])
    func badItemsAreRefused(_ text: String) {
        #expect(throws: HFSError.self) { try PipelineHeader.decode(text) }
    }
}

@Suite struct CapacityAndScanTests {
    @Test func capacityCapsAppendsAndClaimsAreReleased() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try BlockStore(dataDir: dir, capacityBytes: 1000)
        #expect(store.capacityBytes == 1000)
        try store.claim(600)
        let full = #expect(throws: HFSError.self) { try store.claim(500) }
        #expect(full?.code == .unavailable)
        #expect(full?.message.contains("no space left") == true)
        store.release(600)
        store.setLength(1, 900)
        #expect(store.usedBytes == 900)
        #expect(throws: HFSError.self) { try store.claim(101) }
        try store.claim(100)
        store.release(100)
        #expect(store.delete(1))
        #expect(store.usedBytes == 0)
        try store.claim(1000)
    }

    /// Writes `body` as block 7 and returns its path.
    func block(_ body: ByteBuffer, in dir: String) throws -> (BlockStore, String) {
        let store = try BlockStore(dataDir: dir, capacityBytes: nil)
        let file = try store.openForAppend(7)
        try body.withUnsafeReadableBytes { try file.write($0, at: 0) }
        store.setLength(7, Int64(body.readableBytes))
        return (store, store.path(7))
    }

    @Test func scanPassesAGoodBlockAndCatchesAFlippedByte() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var body = frames((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 7) }, policy: .none)
        var tail = frames(Array(repeating: 1, count: 5000))
        body.writeBuffer(&tail)
        let (_, path) = try block(body, in: dir)
        let length = Int64(body.readableBytes)
        let good = BlockScan(path: path, length: length, chunkBytes: 64 << 10)
        var read = 0
        while true { let n = try good.step(); if n == 0 { break }; read += n }
        #expect(read == body.readableBytes)

        let handle = try #require(FileHandle(forUpdatingAtPath: path))
        try handle.seek(toOffset: 200_000)
        let old = try #require(try handle.read(upToCount: 1)?.first)
        try handle.seek(toOffset: 200_000)
        try handle.write(contentsOf: Data([~old]))
        try handle.close()
        let bad = BlockScan(path: path, length: length, chunkBytes: 64 << 10)
        let error = #expect(throws: HFSError.self) { while try bad.step() > 0 {} }
        #expect(error?.code == .corrupt)
        #expect(!bad.vanished)

        // A file cut short is an error too; a file that is gone is "vanished", not corrupt.
        let short = BlockScan(path: path, length: length + 10, chunkBytes: 1 << 20)
        #expect(throws: HFSError.self) { while try short.step() > 0 {} }
        let gone = BlockScan(path: path + ".nope", length: 10, chunkBytes: 1 << 20)
        #expect(throws: HFSError.self) { _ = try gone.step() }
        #expect(gone.vanished)
    }
}
