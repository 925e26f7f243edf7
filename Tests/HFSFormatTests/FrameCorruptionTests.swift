import HFSCore
import NIOCore
import Testing
@testable import HFSFormat

/// One frame of `codec` holding compressible text.
private func oneFrame(_ codec: Codec, logical: Int = 100_000) throws -> (header: FrameHeader, stored: [UInt8], stream: ByteBuffer, data: [UInt8]) {
    let policy: CodecPolicy = codec == .none ? .none : codec == .zlib ? .zlib : .lz4
    let data = TestData.text(logical, seed: 21)
    let stream = encodeFrames(data, policy: policy, content: codec == .lz4Delta ? .pixels(stride: 3) : .other)
    let frames = try parseAll(stream)
    try #require(frames.count == 1)
    return (frames[0].header, Array(frames[0].stored.readableBytesView), stream, data)
}

private func framed(_ header: FrameHeader, _ stored: [UInt8]) -> ByteBuffer {
    var out = ByteBuffer()
    header.encode(into: &out)
    out.writeBytes(stored)
    return out
}

/// The logical bytes `FrameDecoder.decode` gives, or nil if it threw `.corrupt` (and then left
/// its output untouched).
private func decodeOrNil(_ header: FrameHeader, _ stored: [UInt8], _ comment: Comment) -> [UInt8]? {
    var out = ByteBuffer(string: "kept")
    do {
        try stored.withUnsafeBytes { try FrameDecoder().decode(header: header, stored: $0, into: &out) }
        return Array(out.readableBytesView.dropFirst(4))
    } catch {
        #expect((error as? HFSError)?.code == .corrupt, comment)
        #expect(out == ByteBuffer(string: "kept"), comment)
        return nil
    }
}

/// Every consumer of frames must reject `stream`.
private func expectEveryPathRejects(_ stream: ByteBuffer, _ comment: Comment, sourceLocation: SourceLocation = #_sourceLocation) {
    expectCorrupt(comment, sourceLocation: sourceLocation) { _ = try readAll(stream) }
    expectCorrupt(comment, sourceLocation: sourceLocation) {
        var verifier = FrameVerifier()
        try verifier.consume(stream)
        try verifier.finish()
    }
}

/// `FrameDecoder` must reject the frame and leave `out` untouched.
private func expectDecoderRejects(_ header: FrameHeader, _ stored: [UInt8], _ comment: Comment,
                                  sourceLocation: SourceLocation = #_sourceLocation) {
    let decoder = FrameDecoder()
    var out = ByteBuffer(string: "kept")
    expectCorrupt(comment, sourceLocation: sourceLocation) {
        try stored.withUnsafeBytes { try decoder.decode(header: header, stored: $0, into: &out) }
    }
    #expect(out == ByteBuffer(string: "kept"), comment, sourceLocation: sourceLocation)
    expectCorrupt(comment, sourceLocation: sourceLocation) {
        try stored.withUnsafeBytes { try decoder.verify(header: header, stored: $0) }
    }
}

@Suite struct FrameCorruptionTests {
    /// A flipped stored bit is caught by every path (decode, verify, FrameReader, FrameVerifier)
    /// alike. A compressed stream can hold bits whose flip changes nothing (a match offset that
    /// points at equal bytes, zlib's padding): those must decode to exactly the original data.
    @Test(arguments: Codec.allCases)
    func aFlippedStoredBitIsCaught(codec: Codec) throws {
        let (header, stored, stream, data) = try oneFrame(codec)
        var flips = 0, caught = 0
        for index in [0, 1, 2, stored.count / 4, stored.count / 3, stored.count / 2, stored.count - 6, stored.count - 1] {
            for bit in [0, 3, 5, 7] {
                var bad = stored
                bad[index] ^= UInt8(1 << bit)
                let comment = Comment(rawValue: "\(codec) byte \(index) bit \(bit)")
                let decoded = decodeOrNil(header, bad, comment)
                let badStream = flipping(stream, byte: FrameHeader.size + index, bit: bit)
                let read = try? readAll(badStream)
                var verifier = FrameVerifier()
                let verified = (try? verifier.consume(badStream)) != nil
                let verifiedAlone = (try? bad.withUnsafeBytes { try FrameDecoder().verify(header: header, stored: $0) }) != nil
                #expect(decoded.map(Bytes.init) == nil || decoded.map(Bytes.init) == Bytes(data), comment)
                #expect(read.map(Bytes.init) == decoded.map(Bytes.init), comment)
                #expect(verified == (decoded != nil), comment)
                #expect(verifiedAlone == (decoded != nil), comment)
                flips += 1
                if decoded == nil { caught += 1 }
            }
        }
        #expect(caught >= (codec == .none ? flips : flips - 2), "\(codec): \(caught) of \(flips) flips caught")
    }

    /// Every single-bit flip of a small frame's stored bytes is caught, or leaves the decoded
    /// data exactly as it was: a bad frame is never returned as data. Codec none has no such
    /// bits; compressed codecs have few (aliased match offsets, zlib's final padding bits).
    @Test(arguments: Codec.allCases)
    func everyFlippedStoredBitIsCaughtOrHarmless(codec: Codec) throws {
        let (header, stored, _, data) = try oneFrame(codec, logical: 600)
        let decoder = FrameDecoder()
        var harmless = 0
        for index in stored.indices {
            for bit in 0..<8 {
                var bad = stored
                bad[index] ^= UInt8(1 << bit)
                var out = ByteBuffer()
                do {
                    try bad.withUnsafeBytes { try decoder.decode(header: header, stored: $0, into: &out) }
                    harmless += 1
                    #expect(Bytes(out) == Bytes(data), "\(codec) byte \(index) bit \(bit) gave wrong data")
                } catch let error as HFSError {
                    #expect(error.code == .corrupt)
                    #expect(out.readableBytes == 0)
                }
            }
        }
        let bits = stored.count * 8
        #expect(harmless <= (codec == .none ? 0 : bits / 50), "\(codec): \(harmless) of \(bits) flips changed nothing")
    }

    @Test(arguments: Codec.allCases)
    func aFlippedHeaderBitIsCaughtInAStream(codec: Codec) throws {
        let (_, _, stream, _) = try oneFrame(codec)
        for byte in [0, 4, 5, 8, 12, 16, 19, 20, 23] {
            expectEveryPathRejects(flipping(stream, byte: byte, bit: 3), "\(codec) header byte \(byte)")
        }
    }

    @Test(arguments: Codec.allCases)
    func aWrongDataCRCIsCaught(codec: Codec) throws {
        let (header, stored, stream, _) = try oneFrame(codec)
        // Flipped in place: the header CRC no longer matches.
        let message = expectCorrupt { _ = try readAll(flipping(stream, byte: 16, bit: 0)) }
        #expect(message?.contains("header") == true)
        // Rewritten with a valid header CRC: the data CRC check catches it.
        var bad = header
        bad.dataCRC ^= 0x0000_0100
        expectDecoderRejects(bad, stored, "\(codec)")
        let badStream = framed(bad, stored)
        expectEveryPathRejects(badStream, "\(codec)")
        let streamMessage = expectCorrupt { _ = try readAll(badStream) }
        #expect(streamMessage?.contains("checksum") == true)
    }

    @Test(arguments: Codec.allCases)
    func aTruncatedStreamIsCaught(codec: Codec) throws {
        let (_, _, stream, _) = try oneFrame(codec)
        for keep in [1, 10, FrameHeader.size - 1, FrameHeader.size, FrameHeader.size + 1, stream.readableBytes - 1] {
            let cut = stream.getSlice(at: stream.readerIndex, length: keep)!
            let message = expectCorrupt("\(codec) keeping \(keep)") { _ = try readAll(cut) }
            #expect(message?.contains("truncated") == true)
            expectEveryPathRejects(cut, "\(codec) keeping \(keep)")
        }
    }

    @Test func aTruncatedSecondFrameSaysWhere() throws {
        let (_, _, first, _) = try oneFrame(.lz4)
        var stream = first
        stream.writeImmutableBuffer(encodeFrames(TestData.text(5000), policy: .lz4))
        let cut = stream.getSlice(at: 0, length: stream.readableBytes - 3)!
        let message = expectCorrupt { _ = try readAll(cut, chunkBytes: 1000) }
        #expect(message?.contains("offset \(first.readableBytes)") == true)
    }

    @Test func wrongMagicInAStreamIsCaught() throws {
        let data = TestData.text(1000)
        var bytes = rawHeader(magic: 0x3152_4649, codec: 0, logical: 1000, stored: 1000, dataCRC: checksum(data)) + data
        expectEveryPathRejects(ByteBuffer(bytes: bytes), "wrong magic")
        bytes = rawHeader(codec: 0, logical: 1000, stored: 1000, dataCRC: checksum(data)) + data
        #expect(Bytes(try readAll(ByteBuffer(bytes: bytes))) == Bytes(data), "the same frame with the right magic is good")
    }

    /// A corrupt frame after good ones: its error names its offset; the good frames came out.
    @Test func aBadSecondFrameIsCaughtAtItsOffset() throws {
        let first = encodeFrames(TestData.text(4000), policy: .lz4)
        let second = encodeFrames(TestData.text(4000, seed: 99), policy: .lz4)
        var stream = first
        stream.writeImmutableBuffer(flipping(second, byte: FrameHeader.size + 100, bit: 2))
        var reader = FrameReader()
        var out = ByteBuffer()
        let message = expectCorrupt { try reader.consume(stream, into: &out) }
        #expect(message?.contains("offset \(first.readableBytes)") == true)
        #expect(Bytes(out) == Bytes(TestData.text(4000)))
    }

    @Test(arguments: [Codec.lz4, .zlib, .lz4Delta])
    func storedBytesDecodingToTheWrongLengthAreCaught(codec: Codec) throws {
        let (header, stored, _, data) = try oneFrame(codec, logical: 10_000)
        for claimed in [data.count - 1, data.count + 1, 1, data.count * 2] {
            // The dataCRC is right for the bytes the stored part really decodes to.
            var bad = header
            bad.logicalLength = UInt32(claimed)
            let comment = Comment(rawValue: "\(codec) claiming \(claimed) of \(data.count)")
            expectDecoderRejects(bad, stored, comment)
            expectEveryPathRejects(framed(bad, stored), comment)
        }
    }

    @Test func storedBytesWithATrailingGarbageByteAreCaught() throws {
        for codec in [Codec.lz4, .zlib, .lz4Delta] {
            let (header, stored, _, _) = try oneFrame(codec, logical: 10_000)
            var bad = header
            bad.storedLength += 1
            expectDecoderRejects(bad, stored + [0], "\(codec)")
            expectEveryPathRejects(framed(bad, stored + [0]), "\(codec)")
        }
    }

    @Test func aTruncatedCompressedPayloadIsCaught() throws {
        for codec in [Codec.lz4, .zlib, .lz4Delta] {
            let (header, stored, _, _) = try oneFrame(codec, logical: 10_000)
            var bad = header
            bad.storedLength -= 7
            let cut = Array(stored.dropLast(7))
            expectDecoderRejects(bad, cut, "\(codec)")
            expectEveryPathRejects(framed(bad, cut), "\(codec)")
        }
    }

    @Test(arguments: Codec.allCases)
    func storedBytesOfTheWrongCountAreRejected(codec: Codec) throws {
        let (header, stored, _, _) = try oneFrame(codec)
        expectDecoderRejects(header, Array(stored.dropLast()), "\(codec) one short")
        expectDecoderRejects(header, stored + [1], "\(codec) one long")
    }

    @Test func aHandMadeHeaderBeyondTheLimitsIsRejectedByTheDecoder() {
        let header = FrameHeader(codec: .lz4, logicalLength: UInt32(Limits.frameLogicalBytesMax + 1), storedLength: 4, dataCRC: 0)
        expectDecoderRejects(header, [0, 0, 0, 0], "logical over the limit")
        let flagged = FrameHeader(codec: .none, flags: 2, logicalLength: 1, storedLength: 1, dataCRC: checksum([7]))
        expectDecoderRejects(flagged, [7], "unknown flags")
    }

    @Test func aGoodFrameStillDecodesAfterABadOne() throws {
        // The decoder's reused state (inflate stream, scratch) must recover after an error.
        let (header, stored, _, data) = try oneFrame(.zlib)
        let decoder = FrameDecoder()
        var bad = stored
        bad[bad.count / 2] ^= 0xFF
        var out = ByteBuffer()
        expectCorrupt { try bad.withUnsafeBytes { try decoder.decode(header: header, stored: $0, into: &out) } }
        try stored.withUnsafeBytes { try decoder.decode(header: header, stored: $0, into: &out) }
        #expect(Bytes(out) == Bytes(data))
    }
}

/// The verifier checks codec-none frames piece by piece as chunks arrive: whatever the chunk
/// size, a good stream verifies with the same counts, and a flipped bit or a cut anywhere is caught.
@Suite struct FrameVerifierChunkTests {
    static let chunkSizes = [1, 7, 23, 24, 25, 4096, 100_000, 1 << 20]

    /// Frames of every codec back to back: none (random), lz4 and zlib (text). Chunks under 4 KiB
    /// get a stream of small frames (a byte at a time through megabytes would take minutes).
    func stream(chunk: Int) -> (ByteBuffer, logical: Int, frames: Int) {
        var out = ByteBuffer()
        var logical = 0
        let scale = chunk < 4096 ? 1 : 100
        for (data, policy) in [(TestData.random(21_000 * scale + 5, seed: 31), CodecPolicy.auto),
                               (TestData.text(15_000 * scale, seed: 32), .lz4), (TestData.text(700 * scale, seed: 33), .zlib),
                               (TestData.random(1, seed: 34), .none), (TestData.text(3_000 * scale, seed: 35), .auto)] {
            out.writeImmutableBuffer(encodeFrames(data, policy: policy))
            logical += data.count
        }
        return (out, logical, try! parseAll(out).count)
    }

    func verify(_ stream: ByteBuffer, chunk: Int) throws -> FrameVerifier {
        var verifier = FrameVerifier()
        for piece in split(stream, chunkBytes: chunk) { try verifier.consume(piece) }
        try verifier.finish()
        return verifier
    }

    @Test(arguments: chunkSizes)
    func aGoodStreamVerifiesInAnyChunks(chunk: Int) throws {
        let (s, logical, frames) = stream(chunk: chunk)
        let v = try verify(s, chunk: chunk)
        #expect(v.frames == frames && v.storedBytes == Int64(s.readableBytes) && v.logicalBytes == Int64(logical))
    }

    @Test(arguments: chunkSizes)
    func aFlippedBitOrACutIsCaughtInAnyChunks(chunk: Int) throws {
        let (s, _, _) = stream(chunk: chunk)
        // Bytes in headers, in a codec-none frame's first, middle and last stored bytes (it spans
        // chunks), and in compressed frames.
        let first = try parseAll(s)[0].header
        let noneEnd = first.frameLength
        for index in [0, 5, 13, 20, FrameHeader.size, FrameHeader.size + 4096, noneEnd / 2, noneEnd - 1, noneEnd, noneEnd + 30,
                      s.readableBytes / 2, s.readableBytes - 1] {
            expectCorrupt("bit flipped at \(index), chunks of \(chunk)") { _ = try verify(flipping(s, byte: index, bit: 2), chunk: chunk) }
        }
        for cut in [1, 23, FrameHeader.size + 1, noneEnd - 1, noneEnd + 10, s.readableBytes - 1] {
            expectCorrupt("cut after \(cut) bytes, chunks of \(chunk)") { _ = try verify(s.getSlice(at: s.readerIndex, length: cut)!, chunk: chunk) }
        }
    }

    /// Empty frames and a small compressed frame, cut at every chunk size: every header and frame
    /// boundary falls on a chunk boundary somewhere, and the counts never change.
    @Test func emptyAndSmallFramesAtEveryChunkBoundary() throws {
        var s = ByteBuffer()
        func empty() { FrameHeader(codec: .none, logicalLength: 0, storedLength: 0, dataCRC: 0).encode(into: &s) }
        empty()
        s.writeImmutableBuffer(encodeFrames(TestData.text(600, seed: 36), policy: .lz4))
        empty()
        s.writeImmutableBuffer(encodeFrames(TestData.random(100, seed: 37), policy: .none))
        empty()
        let frames = try parseAll(s)
        #expect(frames.map(\.header.codec) == [.none, .lz4, .none, .none, .none])
        for chunk in 1...s.readableBytes {
            let v = try verify(s, chunk: chunk)
            #expect(v.frames == 5 && v.storedBytes == Int64(s.readableBytes) && v.logicalBytes == 700, "chunks of \(chunk)")
        }
        // The lz4 frame with one bit flipped, its header whole in one chunk and its bytes in the next.
        let lz4At = FrameHeader.size + FrameHeader.size + 10
        var verifier = FrameVerifier()
        let bad = flipping(s, byte: lz4At, bit: 1)
        try verifier.consume(bad.getSlice(at: 0, length: 2 * FrameHeader.size)!)
        expectCorrupt("flipped lz4 byte") { try verifier.consume(bad.getSlice(at: 2 * FrameHeader.size, length: bad.readableBytes - 2 * FrameHeader.size)!) }
    }
}

/// A reader told how many logical bytes to expect stops at the frame that would exceed them,
/// before decoding it: a few stored bytes can claim 1 MiB each.
@Suite struct FrameReaderLimitTests {
    @Test func framesBeyondTheExpectedSizeAreCorrupt() throws {
        let data = TestData.text(3 * Limits.frameLogicalBytesMax, seed: 41)
        let stream = encodeFrames(data, policy: .lz4)
        var exact = FrameReader(logicalBytesMax: Int64(data.count))
        var out = ByteBuffer()
        try exact.consume(stream, into: &out)
        try exact.finish()
        #expect(out.readableBytes == data.count)
        var short = FrameReader(logicalBytesMax: Int64(data.count - 1))
        out.clear()
        expectCorrupt("one byte fewer expected") { try short.consume(stream, into: &out) }
        #expect(out.readableBytes == 2 * Limits.frameLogicalBytesMax, "the frame past the limit was decoded")
    }
}
