import Foundation
@testable import HFSClient
import HFSCore
import HFSFormat
import NIOCore
import Testing

func writeTemp(_ bytes: [UInt8]) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("hfs-client-\(UUID().uuidString)").path
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return path
}

func pattern(_ n: Int) -> [UInt8] {
    var x: UInt64 = 0x1234_5678
    return (0..<n).map { _ in x = x &* 6364136223846793005 &+ 1442695040888963407; return UInt8(truncatingIfNeeded: x >> 33) }
}

/// Decodes a frame stream back to logical bytes.
func decodeAll(_ body: ByteBuffer) throws -> [UInt8] {
    var reader = FrameReader()
    var out = ByteBuffer()
    try reader.consume(body, into: &out)
    try reader.finish()
    return Array(out.readableBytesView)
}

@Suite struct FrameProducerTests {
    /// Splits a file into blocks of `blockBytes` logical bytes; returns each block's frames.
    func blocks(of bytes: [UInt8], blockBytes: Int64, prefixBytes: Int) throws -> [ByteBuffer] {
        let path = try writeTemp(bytes)
        defer { unlink(path) }
        let source = try LocalSource.open(.file(path))
        defer { source.close() }
        let prefix = try source.readPrefix(upTo: prefixBytes)
        let producer = try FrameProducer(source: source, prefix: prefix, policy: .auto)
        var out: [ByteBuffer] = []
        while !producer.atEnd {
            producer.startBlock(limit: blockBytes)
            var body = ByteBuffer()
            while var chunk = producer.next() { body.writeBuffer(&chunk) }
            try producer.check()
            #expect(producer.blockLogicalBytes <= blockBytes)
            out.append(body)
        }
        #expect(producer.totalLogicalBytes == Int64(bytes.count))
        return out
    }

    @Test func splitsAtBlockBoundaries() throws {
        let data = pattern(5 << 19)  // 2.5 MiB
        let b = try blocks(of: data, blockBytes: 1 << 20, prefixBytes: (1 << 20) + 1)
        #expect(b.count == 3)
        let decoded = try b.map(decodeAll)
        #expect(decoded.map(\.count) == [1 << 20, 1 << 20, 1 << 19])
        #expect(decoded.flatMap { $0 } == data)
    }

    @Test func blockSizeNotAMultipleOfTheFrameSize() throws {
        let data = pattern(3 << 20)
        let b = try blocks(of: data, blockBytes: 3 << 19, prefixBytes: 4096)  // 1.5 MiB blocks
        let decoded = try b.map(decodeAll)
        #expect(decoded.map(\.count) == [3 << 19, 3 << 19])
        #expect(decoded.flatMap { $0 } == data)
    }

    @Test func exactMultipleMakesNoEmptyBlock() throws {
        let data = pattern(2 << 20)
        let b = try blocks(of: data, blockBytes: 1 << 20, prefixBytes: 100)
        #expect(b.count == 2)
        #expect(try b.map(decodeAll).flatMap { $0 } == data)
    }
}

@Suite struct LocalSourceTests {
    @Test func readPrefixOfSmallAndLargeFiles() throws {
        let small = pattern(1000), large = pattern(300_000)
        let a = try writeTemp(small), b = try writeTemp(large)
        defer { unlink(a); unlink(b) }
        let s1 = try LocalSource.open(.file(a))
        #expect(try s1.readPrefix(upTo: 4096) == small)
        #expect(s1.eof)
        s1.close()
        let s2 = try LocalSource.open(.file(b))
        #expect(try s2.readPrefix(upTo: 4096) == Array(large.prefix(4096)))
        #expect(!s2.eof)
        s2.close()
        #expect(throws: HFSError.self) { try LocalSource.open(.file("/nonexistent/x")) }
    }
}

@Suite struct PackedBatchTests {
    @Test func filesSitWhereTheBatchSaysTheyDo() throws {
        var batch = PackedBatch()
        let encoder = FrameEncoder(policy: .auto)
        let contents = [pattern(10), [], pattern(70_000), Array("text text text text text".utf8)]
        for (i, c) in contents.enumerated() {
            batch.add(remote: try HFSPath("/f\(i)"), bytes: c, mtime: 0, encoder: encoder)
        }
        #expect(batch.files.map(\.size) == contents.map { Int64($0.count) })
        for (f, c) in zip(batch.files, contents) {
            let slice = batch.body.getSlice(at: Int(f.relativeOffset), length: Int(f.storedLength))!
            #expect(try decodeAll(slice) == c)
        }
        #expect(!batch.isFull)
    }

    @Test func fullByCountOrBytes() throws {
        var batch = PackedBatch()
        let encoder = FrameEncoder(policy: .none)
        for i in 0..<Limits.packedBatchFilesMax { batch.add(remote: try HFSPath("/f\(i)"), bytes: [1], mtime: 0, encoder: encoder) }
        #expect(batch.isFull)
        var big = PackedBatch()
        big.add(remote: try HFSPath("/big"), bytes: pattern(Limits.packedBatchBytesMax), mtime: 0, encoder: encoder)
        #expect(big.isFull)
    }

    /// A small file is read straight into the body; the files sit where they say, as with bytes.
    @Test func filesReadInPlaceSitWhereTheBatchSaysTheyDo() throws {
        var batch = PackedBatch(body: ByteBuffer(string: "x"))
        batch.body.moveReaderIndex(forwardBy: 1)      // offsets count from the reader index
        let encoder = FrameEncoder(policy: .auto)
        let contents = [pattern(10), [], pattern(Limits.frameLogicalBytesMax + 3), Array(String(repeating: "text ", count: 999).utf8)]
        for (i, c) in contents.enumerated() {
            let path = try writeTemp(c)
            defer { try? FileManager.default.removeItem(atPath: path) }
            let source = try LocalSource.open(.file(path))
            defer { source.close() }
            #expect(try source.fileSize() == c.count)
            #expect(try batch.add(remote: try HFSPath("/f\(i)"), reading: source, size: c.count, mtime: 0, encoder: encoder))
        }
        #expect(batch.files.map(\.size) == contents.map { Int64($0.count) })
        for (f, c) in zip(batch.files, contents) {
            let slice = batch.body.getSlice(at: batch.body.readerIndex + Int(f.relativeOffset), length: Int(f.storedLength))!
            #expect(try decodeAll(slice) == c)
        }
        #expect(batch.files.last!.storedLength < 999 * 5)     // text: lz4 kept, compressed in place
    }

    /// A file that is not the size it had when it was looked at (written meanwhile) is not added:
    /// the body is as it was and the source is back at its first byte, to be read as a stream.
    @Test(arguments: [-1, 1])
    func aFileThatChangedSizeIsNotAdded(by change: Int) throws {
        let content = pattern(5000)
        let path = try writeTemp(content)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let source = try LocalSource.open(.file(path))
        defer { source.close() }
        var batch = PackedBatch()
        batch.add(remote: try HFSPath("/first"), bytes: [1, 2, 3], mtime: 0, encoder: FrameEncoder(policy: .none))
        let before = batch.body
        #expect(try !batch.add(remote: try HFSPath("/f"), reading: source, size: content.count - change, mtime: 0,
                               encoder: FrameEncoder(policy: .auto)))
        #expect(batch.body == before)
        #expect(batch.files.count == 1)
        #expect(try source.readPrefix(upTo: 10_000) == content)
    }

    @Test func stdinHasNoFileSizeToReadInPlace() throws {
        #expect(try LocalSource.open(.stdin).fileSize() == nil)
    }
}

@Suite struct BatchBodiesTests {
    /// A body given back is taken again empty, with its storage (warm pages), as long as nothing
    /// else holds it; the pool keeps one body per batch in flight at most.
    @Test func bodiesAreReused() {
        let bodies = BatchBodies()
        var first = bodies.take()
        #expect(first.capacity >= Limits.packedBatchBytesMax)
        first.writeBytes(pattern(1000))
        let address = first.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        bodies.give(first)
        first = ByteBuffer()                      // the only reference left is the pool's
        var again = bodies.take()
        #expect(again.readableBytes == 0)
        #expect(again.withUnsafeMutableWritableBytes { UInt(bitPattern: $0.baseAddress) } == address)

        var given: [UInt] = []
        for _ in 0..<(Limits.packedBatchesInFlightMax + 3) {
            var b = ByteBuffer(bytes: [1])
            given.append(b.withUnsafeMutableReadableBytes { UInt(bitPattern: $0.baseAddress) })
            bodies.give(b)
            b = ByteBuffer()
        }
        var taken: [UInt] = []
        for _ in 0..<(Limits.packedBatchesInFlightMax + 3) {
            var b = bodies.take()
            taken.append(b.withUnsafeMutableWritableBytes { UInt(bitPattern: $0.baseAddress) })
        }
        #expect(Set(taken).intersection(given).count == Limits.packedBatchesInFlightMax)
    }
}
