import HFSCore
import NIOCore
import Testing
import HFSTestSupport
@testable import HFSFormat

/// Pixels of a smooth picture with a little noise: `width` pixels a row, `stride` bytes a pixel.
private func smoothPixels(_ count: Int, stride: Int, width: Int = 500, noise: UInt64 = 5, seed: UInt64 = 3) -> [UInt8] {
    var rng = SeededRandom(seed: seed)
    var out = [UInt8](repeating: 0, count: count)
    for i in 0..<count {
        let pixel = i / stride, channel = i % stride
        let x = pixel % width, y = pixel / width
        let base = (x / 3 + y / 2 + channel * 40) & 0xFF
        out[i] = UInt8(truncatingIfNeeded: base + Int(rng.next() % noise) - Int(noise / 2))
    }
    return out
}

private let mib = Limits.frameLogicalBytesMax

@Suite struct LZ4DeltaTests {
    @Test(arguments: [1, 2, 3, 4, 6, 8, 16])
    func theDeltaStepIsInvertedForEveryByteValue(stride: Int) {
        let all = (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 / 255) } + TestData.random(1003, seed: 4)
        for count in [1, 2, 3, 4, 5, 6, 7, 17, 18, all.count - 1, all.count] {  // every tail length of strides 3 and 4
            let data = Array(all.prefix(count))
            var buffer = [UInt8](repeating: 0, count: data.count)
            data.withUnsafeBytes { src in buffer.withUnsafeMutableBytes { LZ4Delta.forward(src, stride: stride, into: $0.baseAddress!) } }
            if count > 16 { #expect(buffer != data) }
            buffer.withUnsafeMutableBytes { LZ4Delta.inverse($0, stride: stride) }
            #expect(buffer == data, "stride \(stride), \(count) bytes")
        }
        for v in 0...255 { #expect(LZ4Delta.unzigzag(LZ4Delta.zigzag(UInt8(v))) == UInt8(v)) }
        #expect([0, 255, 1, 254, 2].map { LZ4Delta.zigzag($0) } == [0, 1, 2, 3, 4])  // 0, -1, 1, -2, 2
    }

    @Test(arguments: [1, 3, 4, 6, 16], [0, 1, 2, 3, 17, mib, mib + 1, 2 * mib + 5])
    func roundTripsUnderLZ4(stride: Int, size: Int) throws {
        let data = smoothPixels(size, stride: stride)
        let stream = encodeFrames(data, policy: .lz4, content: .pixels(stride: stride))
        let frames = try parseAll(stream)
        #expect(frames.count == (size + mib - 1) / mib)
        #expect(frames.allSatisfy { $0.header.codec == .lz4Delta })
        #expect(frames.allSatisfy { $0.stored.getInteger(at: $0.stored.readerIndex, as: UInt8.self) == UInt8(stride) })
        #expect(Bytes(try readAll(stream)) == Bytes(data))
        #expect(Bytes(try readAll(stream, chunkBytes: 4093)) == Bytes(data), "in pieces")
        var verifier = FrameVerifier()
        try verifier.consume(stream)
    }

    /// What the codec is for: a smooth RGB picture stores much smaller than under plain lz4.
    @Test func smoothPixelsStoreFarSmallerThanUnderLZ4() throws {
        let data = smoothPixels(mib + 1000, stride: 3)
        let delta = encodeFrames(data, policy: .auto, content: .pixels(stride: 3))
        let plain = encodeFrames(data, policy: .auto, content: .other)
        #expect(try parseAll(delta).allSatisfy { $0.header.codec == .lz4Delta })
        #expect(delta.readableBytes * 2 < plain.readableBytes, "lz4-delta \(delta.readableBytes), lz4 \(plain.readableBytes)")
        #expect(Bytes(try readAll(delta)) == Bytes(data))
    }

    /// Under `auto`, pixels that neither lz4-delta nor lz4 shrinks by 10% are stored as they are.
    @Test func autoStoresNoisePixelsAsTheyAre() throws {
        let data = TestData.random(300_000, seed: 8)
        let stream = encodeFrames(data, policy: .auto, content: .pixels(stride: 3))
        #expect(try parseAll(stream).map(\.header.codec) == [.none])
        #expect(Bytes(try readAll(stream)) == Bytes(data))
    }

    /// Under `auto`, bytes flagged as pixels whose deltas do not shrink by 10% but which lz4
    /// compresses (text: its deltas look random to lz4) are stored as plain lz4.
    @Test func autoFallsBackToLZ4() throws {
        let data = TestData.text(300_000)
        let deltas = encodeFrames(data, policy: .lz4, content: .pixels(stride: 3))
        #expect(deltas.readableBytes * 10 > data.count * 9, "lz4-delta stored text in \(deltas.readableBytes) of \(data.count)")
        let stream = encodeFrames(data, policy: .auto, content: .pixels(stride: 3))
        #expect(try parseAll(stream).map(\.header.codec) == [.lz4])
        #expect(Bytes(try readAll(stream)) == Bytes(data))
    }

    /// Other policies ignore the pixel hint.
    @Test func zlibAndNoneIgnoreThePixelHint() throws {
        let data = smoothPixels(70_000, stride: 3)
        for (policy, codec) in [(CodecPolicy.zlib, Codec.zlib), (.none, .none)] {
            #expect(try parseAll(encodeFrames(data, policy: policy, content: .pixels(stride: 3))).map(\.header.codec) == [codec])
        }
    }

    @Test(arguments: [0, 17, 255])
    func aStrideOutsideTheRangeIsCorrupt(stride: UInt8) throws {
        let data = smoothPixels(10_000, stride: 3)
        let frames = try parseAll(encodeFrames(data, policy: .lz4, content: .pixels(stride: 3)))
        var stored = Array(frames[0].stored.readableBytesView)
        stored[0] = stride
        var out = ByteBuffer()
        #expect(throws: HFSError.self) {
            try stored.withUnsafeBytes { try FrameDecoder().decode(header: frames[0].header, stored: $0, into: &out) }
        }
        #expect(out.readableBytes == 0)
    }

    /// A wrong stride within the range decodes to other bytes, which the data CRC catches.
    @Test func aWrongStrideIsCaughtByTheChecksum() throws {
        let data = smoothPixels(10_000, stride: 3)
        let frames = try parseAll(encodeFrames(data, policy: .lz4, content: .pixels(stride: 3)))
        var stored = Array(frames[0].stored.readableBytesView)
        stored[0] = 4
        var out = ByteBuffer()
        do {
            try stored.withUnsafeBytes { try FrameDecoder().decode(header: frames[0].header, stored: $0, into: &out) }
            Issue.record("a frame decoded with the wrong stride")
        } catch let error as HFSError {
            #expect(error.code == .corrupt)
            #expect(error.message.contains("checksum"))
        }
    }
}
