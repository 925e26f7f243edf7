import HFSCore
import NIOCore
import Testing
@testable import HFSFormat

private let mib = Limits.frameLogicalBytesMax

/// A PPM (16-bit samples: stride 6) of smooth rows, which lz4-delta compresses well.
private func ppm(_ count: Int) -> [UInt8] {
    var out = Array("P6\n512 512\n65535\n".utf8)
    var i = 0
    while out.count < count { out.append(UInt8(truncatingIfNeeded: i / 7)); i += 1 }
    return Array(out.prefix(count))
}

private struct ReadFailed: Error {}

/// Encodes `data` with the in-place path, handing it out chunk by chunk as a file read would.
private func encodeInPlace(_ data: [UInt8], policy: CodecPolicy, into out: inout ByteBuffer,
                           failAtChunk: Int? = nil) throws -> (appended: Int, kindCalls: Int) {
    var offset = 0, chunks = 0, kindCalls = 0
    let appended = try FrameEncoder(policy: policy).encode(count: data.count, into: &out, content: { first in
        kindCalls += 1
        #expect(first.count == min(mib, data.count))
        return ImageMagic.kind(first)
    }, read: { dst in
        if chunks == failAtChunk { throw ReadFailed() }
        chunks += 1
        data.withUnsafeBytes { dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[offset..<(offset + dst.count)])) }
        offset += dst.count
    })
    return (appended, kindCalls)
}

@Suite struct FrameInPlaceTests {
    /// Reading straight into the output (put's path for small files) makes the very frames that
    /// encoding a copy does: same codec choices, same bytes.
    @Test(arguments: CodecPolicy.allCases, [0, 1, 100_000, mib, mib + 1, 3 * mib + 5])
    func readingInPlaceMakesTheSameFrames(policy: CodecPolicy, size: Int) throws {
        let samples: [(String, [UInt8])] = [("text", TestData.text(size)), ("random", TestData.random(size)),
                                            ("ppm", ppm(size)), ("jpeg", Array(([0xFF, 0xD8, 0xFF, 0xE0] + TestData.text(size)).prefix(size)))]
        for (name, data) in samples {
            let label = Comment(rawValue: "\(policy) \(name) \(size)")
            let expected = encodeFrames(data, policy: policy, content: ImageMagic.kind(data))
            var out = ByteBuffer(string: "before")
            let (appended, kindCalls) = try encodeInPlace(data, policy: policy, into: &out)
            #expect(kindCalls == (size > 0 ? 1 : 0), label)
            #expect(out.readString(length: 6) == "before", label)
            #expect(appended == out.readableBytes, label)
            #expect(Bytes(out) == Bytes(expected), label)
            #expect(Bytes(try readAll(out)) == Bytes(data), label)
        }
    }

    @Test func theInPlacePathCompressesWhereACodecPays() throws {
        var out = ByteBuffer()
        _ = try encodeInPlace(ppm(2 * mib), policy: .auto, into: &out)
        let frames = try parseAll(out)
        #expect(frames.map(\.header.codec) == [.lz4Delta, .lz4Delta])
        #expect(out.readableBytes < mib)
    }

    @Test(arguments: [0, 1, 2])
    func aReadThatFailsLeavesTheOutputAsItWas(failAt: Int) throws {
        var out = ByteBuffer(string: "kept")
        let before = out
        #expect(throws: ReadFailed.self) { try encodeInPlace(TestData.text(2 * mib + 7), policy: .auto, into: &out, failAtChunk: failAt) }
        #expect(out == before)
        #expect(out.writerIndex == before.writerIndex)
    }
}
