import HFSCore
import NIOCore
import HFSTestSupport
import Testing
@testable import HFSFormat

/// A stream of frames of every codec and many sizes; `large` adds full 1 MiB frames.
private func mixedStream(large: Bool) -> (stream: ByteBuffer, logical: [UInt8]) {
    var pieces: [([UInt8], CodecPolicy)] = [
        (TestData.text(200_000, seed: 3), .lz4),
        (TestData.random(50_000, seed: 4), .none),
        (TestData.text(100_000, seed: 5), .zlib),
        (TestData.text(1, seed: 6), .auto),
        (TestData.text(3_000, seed: 7), .auto),
        (TestData.random(23, seed: 8), .auto),
    ]
    if large {
        pieces.insert((TestData.text(Limits.frameLogicalBytesMax * 2 + 77, seed: 10), .lz4), at: 1)
        pieces.append((TestData.random(Limits.frameLogicalBytesMax + 1, seed: 11), .auto))
        pieces.append((TestData.text(Limits.frameLogicalBytesMax, seed: 12), .zlib))
    }
    var stream = ByteBuffer()
    var logical: [UInt8] = []
    for (data, policy) in pieces {
        stream.writeImmutableBuffer(encodeFrames(data, policy: policy))
        logical += data
    }
    return (stream, logical)
}

private struct ParsedFrame: Equatable, CustomTestStringConvertible {
    var header: FrameHeader
    var stored: Bytes
    init(header: FrameHeader, stored: ByteBuffer) {
        self.header = header
        self.stored = Bytes(stored)
    }
    var testDescription: String { "\(header.codec) frame of \(header.logicalLength) logical bytes, stored \(stored.testDescription)" }
}

/// Feeds `chunks` to a parser, draining after each, and checks the memory bound as it goes.
private func parse(_ chunks: [ByteBuffer]) throws -> (frames: [ParsedFrame], consumed: Int64) {
    var parser = FrameStreamParser()
    var frames: [ParsedFrame] = []
    for chunk in chunks {
        parser.append(chunk)
        while let (header, stored) = try parser.next() {
            frames.append(ParsedFrame(header: header, stored: stored))
        }
        // After draining, only the start of one frame is held.
        #expect(parser.bufferedBytes < FrameHeader.size + FrameHeader.storedBytesMax)
    }
    try parser.finish()
    #expect(parser.bufferedBytes == 0)
    return (frames, parser.bytesConsumed)
}

@Suite struct FrameStreamParserTests {
    @Test(arguments: [1, 7, 4096, 65_536])
    func fixedSizeChunksYieldTheSameFrames(chunkBytes: Int) throws {
        let (stream, logical) = mixedStream(large: chunkBytes > 1)
        let whole = try parse([stream])
        let chunked = try parse(split(stream, chunkBytes: chunkBytes))
        #expect(whole.frames.count >= 6)
        #expect(chunked.frames == whole.frames)
        #expect(chunked.consumed == Int64(stream.readableBytes))
        #expect(whole.consumed == Int64(stream.readableBytes))
        #expect(Bytes(try readAll(stream, chunkBytes: chunkBytes)) == Bytes(logical))
    }

    /// Frames that span chunks are assembled with their stored bytes on an O_DIRECT boundary
    /// (`hfs get` writes them to the file as they are); with chunks of 7 bytes the header spans
    /// chunks too. Frames held by the caller (as get's writers do) keep their bytes.
    @Test(arguments: [7, 4_096, 100_000])
    func assembledFramesAreAligned(chunkBytes: Int) throws {
        let (stream, _) = mixedStream(large: true)
        var parser = FrameStreamParser()
        var held: [(ByteBuffer, Bytes)] = []
        var assembled = 0
        for chunk in split(stream, chunkBytes: chunkBytes) {
            parser.append(chunk)
            while let (header, stored) = try parser.next() {
                if header.frameLength > chunkBytes {
                    assembled += 1
                    let address = stored.withUnsafeReadableBytes { Int(bitPattern: $0.baseAddress) }
                    #expect(address % Limits.directWriteAlignment == 0, "\(header.frameLength)-byte frame at \(address)")
                }
                held.append((stored, Bytes(stored)))
            }
        }
        try parser.finish()
        #expect(assembled >= 4)
        for (stored, copy) in held { #expect(Bytes(stored) == copy) }
    }

    @Test(arguments: [1 as UInt64, 2, 3])
    func randomSizeChunksYieldTheSameFrames(seed: UInt64) throws {
        let (stream, logical) = mixedStream(large: true)
        var rng = SeededRandom(seed: seed)
        var rest = stream
        var chunks: [ByteBuffer] = []
        while rest.readableBytes > 0 {
            // Mostly small chunks, some larger than a frame.
            let limit = rng.next() % 8 == 0 ? 3 << 20 : 70_000
            let size = Int(rng.next() % UInt64(limit)) + 1
            chunks.append(rest.readSlice(length: min(size, rest.readableBytes))!)
        }
        let whole = try parse([stream])
        let chunked = try parse(chunks)
        #expect(chunked.frames == whole.frames)
        #expect(chunked.consumed == Int64(stream.readableBytes))

        var reader = FrameReader()
        var out = ByteBuffer()
        for chunk in chunks { try reader.consume(chunk, into: &out) }
        try reader.finish()
        #expect(Bytes(out) == Bytes(logical))
        #expect(reader.frames == whole.frames.count)
    }

    /// Appending several chunks before draining must not lose or reorder bytes.
    @Test func appendingWithoutDrainingKeepsEveryByte() throws {
        let (stream, _) = mixedStream(large: false)
        let chunks = split(stream, chunkBytes: 10_007)
        var parser = FrameStreamParser()
        var frames: [ParsedFrame] = []
        for (i, chunk) in chunks.enumerated() {
            parser.append(chunk)
            if i % 3 == 2 {
                while let (header, stored) = try parser.next() {
                    frames.append(ParsedFrame(header: header, stored: stored))
                }
            }
        }
        while let (header, stored) = try parser.next() {
            frames.append(ParsedFrame(header: header, stored: stored))
        }
        try parser.finish()
        #expect(frames == (try parse([stream])).frames)
        #expect(parser.bytesConsumed == Int64(stream.readableBytes))
    }

    @Test func emptyStreamIsFine() throws {
        var parser = FrameStreamParser()
        parser.append(ByteBuffer())
        #expect(try parser.next() == nil)
        try parser.finish()
        #expect(parser.bytesConsumed == 0)
        #expect(try readAll(ByteBuffer()) == [])
    }
}
