import HFSCore
import NIOCore
import Testing
@testable import HFSFormat

private let mib = Limits.frameLogicalBytesMax
private let cachedText = TestData.text(5 * mib + 1)
private let cachedRandom = TestData.random(5 * mib + 1)

private func sample(_ kind: DataKind, _ count: Int) -> [UInt8] {
    Array((kind == .text ? cachedText : cachedRandom).prefix(count))
}

@Suite struct FrameRoundTripTests {
    @Test(arguments: CodecPolicy.allCases, [0, 1, mib, mib + 1, 5 * mib])
    func roundTrips(policy: CodecPolicy, size: Int) throws {
        for kind in DataKind.allCases {
            let data = sample(kind, size)
            let stream = encodeFrames(data, policy: policy)
            let frames = try parseAll(stream)
            let label = Comment(rawValue: "\(policy) \(kind) \(size)")

            #expect(frames.count == (size + mib - 1) / mib, label)
            #expect(frames.dropLast().allSatisfy { Int($0.header.logicalLength) == mib }, label)
            #expect(frames.reduce(0) { $0 + Int($1.header.logicalLength) } == size, label)
            for (header, _) in frames {
                switch (policy, kind) {
                case (.none, _), (.auto, .random): #expect(header.codec == .none, label)
                case (.lz4, _): #expect(header.codec == .lz4, label)
                case (.zlib, _): #expect(header.codec == .zlib, label)
                case (.auto, .text):
                    // Text saves more than 10% except in a frame too small to compress.
                    #expect(header.codec == (header.logicalLength >= 64 ? .lz4 : .none), label)
                }
                if header.codec == .none { #expect(header.storedLength == header.logicalLength, label) }
            }

            // Whole stream through FrameReader.
            #expect(Bytes(try readAll(stream)) == Bytes(data), label)

            // Frame by frame through one FrameDecoder, decode and verify.
            let decoder = FrameDecoder()
            var out = ByteBuffer()
            for (header, stored) in frames {
                try stored.withUnsafeReadableBytes {
                    try decoder.verify(header: header, stored: $0)
                    try decoder.decode(header: header, stored: $0, into: &out)
                }
            }
            #expect(Bytes(out) == Bytes(data), label)

            // FrameVerifier counts.
            var verifier = FrameVerifier(decoder: decoder)
            try verifier.consume(stream)
            try verifier.finish()
            #expect(verifier.frames == frames.count, label)
            #expect(verifier.storedBytes == Int64(stream.readableBytes), label)
            #expect(verifier.logicalBytes == Int64(size), label)
        }
    }

    @Test func compressedCodecsShrinkText() throws {
        let data = sample(.text, 2 * mib)
        let lz4 = encodeFrames(data, policy: .lz4).readableBytes
        let zlib = encodeFrames(data, policy: .zlib).readableBytes
        let none = encodeFrames(data, policy: .none).readableBytes
        #expect(none == data.count + 2 * FrameHeader.size)
        #expect(lz4 * 10 <= data.count * 9)
        #expect(zlib < lz4)
    }

    @Test func autoStoresImageFormatsAsTheyAre() throws {
        let jpeg: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0] + sample(.text, 300_000)
        #expect(ImageMagic.kind(jpeg) == .compressed)
        let kept = encodeFrames(jpeg, policy: .auto, content: ImageMagic.kind(jpeg))
        let frames = try parseAll(kept)
        #expect(frames.count == 1)
        #expect(frames.allSatisfy { $0.header.codec == .none })
        #expect(kept.readableBytes == jpeg.count + FrameHeader.size)
        #expect(Bytes(try readAll(kept)) == Bytes(jpeg))

        // The same bytes not flagged as an image are compressible text to `.auto`.
        let compressed = encodeFrames(jpeg, policy: .auto, content: .other)
        #expect(try parseAll(compressed).allSatisfy { $0.header.codec == .lz4 })
        #expect(compressed.readableBytes * 10 <= jpeg.count * 9)
    }

    @Test func autoCompressesText() throws {
        let text = sample(.text, 300_000)
        let stream = encodeFrames(text, policy: .auto)
        let frames = try parseAll(stream)
        #expect(frames.map(\.header.codec) == [.lz4])
        #expect(Int(frames[0].header.storedLength) * 10 <= text.count * 9)
        #expect(Bytes(try readAll(stream)) == Bytes(text))
    }

    @Test func autoStoresRandomDataUncompressed() throws {
        let data = sample(.random, 3 * mib + 5)
        let stream = encodeFrames(data, policy: .auto)
        let frames = try parseAll(stream)
        #expect(frames.count == 4)
        #expect(frames.allSatisfy { $0.header.codec == .none && $0.header.storedLength == $0.header.logicalLength })
        #expect(stream.readableBytes == data.count + 4 * FrameHeader.size)
    }

    /// `.auto` samples a frame before it runs lz4 over all of it: random bytes are judged from the
    /// sample, and a compressible run of a fifth of the frame, wherever it lies in random bytes,
    /// still gets the frame compressed.
    @Test func autoSamplesAFrameBeforeCompressingIt() throws {
        let encoder = FrameEncoder(policy: .auto)
        let random = TestData.random(mib, seed: 21)
        #expect(!random.withUnsafeBytes { encoder.probablyCompresses($0) })
        #expect(TestData.text(mib).withUnsafeBytes { encoder.probablyCompresses($0) })
        // Too small to sample: lz4 decides.
        #expect(TestData.random(20_000, seed: 22).withUnsafeBytes { encoder.probablyCompresses($0) })

        for size in [mib, 100_000] {
            for start in [0, size * 2 / 5, size - size / 5] {
                var data = TestData.random(size, seed: 23)
                for i in start..<(start + size / 5) { data[i] = 0 }
                let frames = try parseAll(encodeFrames(data, policy: .auto, encoder: encoder))
                #expect(frames.map(\.header.codec) == [.lz4], "a run of zeros at \(start) of \(size)")
                #expect(Bytes(try readAll(encodeFrames(data, policy: .auto, encoder: encoder))) == Bytes(data))
            }
        }
    }

    @Test func explicitCodecsIgnoreTheImageFlag() throws {
        let jpeg: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0] + sample(.text, 10_000)
        for (policy, codec) in [(CodecPolicy.lz4, Codec.lz4), (.zlib, .zlib), (.none, .none)] {
            let frames = try parseAll(encodeFrames(jpeg, policy: policy, content: .compressed))
            #expect(frames.map(\.header.codec) == [codec], "\(policy)")
        }
    }

    /// Reused scratch state (the z_stream) must not leak from one call into the next.
    @Test(arguments: [CodecPolicy.zlib, .lz4, .auto])
    func aReusedEncoderMatchesAFreshOne(policy: CodecPolicy) throws {
        let encoder = FrameEncoder(policy: policy)
        let inputs = [sample(.text, mib + 300), sample(.random, 5000), sample(.text, 70_000), Array(sample(.text, 900_000).reversed())]
        var reused = ByteBuffer()
        var fresh = ByteBuffer()
        for input in inputs {
            input.withUnsafeBytes { _ = encoder.encode($0, content: .other, into: &reused) }
            fresh.writeImmutableBuffer(encodeFrames(input, policy: policy))
        }
        #expect(Bytes(reused) == Bytes(fresh))
        #expect(Bytes(try readAll(reused)) == Bytes(inputs.flatMap { $0 }))
    }

    @Test func zlibLevelOneStillRoundTrips() throws {
        let data = sample(.text, mib + 10)
        let fast = encodeFrames(data, policy: .zlib, encoder: FrameEncoder(policy: .zlib, zlibLevel: 1))
        let dflt = encodeFrames(data, policy: .zlib)
        #expect(try parseAll(fast).allSatisfy { $0.header.codec == .zlib })
        #expect(fast.readableBytes >= dflt.readableBytes)
        #expect(Bytes(try readAll(fast)) == Bytes(data))
    }

    @Test func encodeAppendsAfterExistingBytes() throws {
        var out = ByteBuffer(string: "prefix")
        let data = sample(.text, 5000)
        let written = data.withUnsafeBytes { FrameEncoder(policy: .lz4).encode($0, content: .other, into: &out) }
        #expect(out.readString(length: 6) == "prefix")
        #expect(out.readableBytes == written)
        #expect(Bytes(try readAll(out)) == Bytes(data))
    }
}
