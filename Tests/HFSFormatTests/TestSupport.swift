import HFSCore
import NIOCore
import Testing
import HFSTestSupport
@testable import HFSFormat

enum TestData {
    /// Incompressible bytes.
    static func random(_ count: Int, seed: UInt64 = 1) -> [UInt8] {
        var rng = SeededRandom(seed: seed)
        var out = [UInt8](repeating: 0, count: count)
        out.withUnsafeMutableBytes { raw in
            var i = 0
            while i + 8 <= raw.count {
                raw.storeBytes(of: rng.next(), toByteOffset: i, as: UInt64.self)
                i += 8
            }
            while i < raw.count {
                raw[i] = UInt8(truncatingIfNeeded: rng.next())
                i += 1
            }
        }
        return out
    }

    /// Text-like bytes: words drawn at random from a small vocabulary (lz4 saves well over 10%).
    static func text(_ count: Int, seed: UInt64 = 2) -> [UInt8] {
        let words = ["block", "frame", "datanode", "namenode", "replica", "pipeline", "checksum",
                     "the", "of", "and", "a", "image", "compress", "stream", "offset", "length"]
            .map { Array($0.utf8) }
        var rng = SeededRandom(seed: seed)
        var out: [UInt8] = []
        out.reserveCapacity(count + 16)
        while out.count < count {
            out += words[Int(rng.next() % UInt64(words.count))]
            out.append(rng.next() % 11 == 0 ? 0x0A : 0x20)
        }
        return Array(out.prefix(count))
    }
}

enum DataKind: String, CaseIterable, Sendable { case text, random }

func makeData(_ kind: DataKind, _ count: Int) -> [UInt8] {
    kind == .text ? TestData.text(count) : TestData.random(count)
}

/// Frames for `data` from a fresh encoder.
func encodeFrames(_ data: [UInt8], policy: CodecPolicy, content: ContentKind = .other,
                  encoder: FrameEncoder? = nil) -> ByteBuffer {
    let encoder = encoder ?? FrameEncoder(policy: policy)
    var out = ByteBuffer()
    let written = data.withUnsafeBytes { encoder.encode($0, content: content, into: &out) }
    #expect(written == out.readableBytes)
    return out
}

/// Every frame of a complete stream, parsed in one chunk.
func parseAll(_ stream: ByteBuffer) throws -> [(header: FrameHeader, stored: ByteBuffer)] {
    var parser = FrameStreamParser()
    parser.append(stream)
    var frames: [(header: FrameHeader, stored: ByteBuffer)] = []
    while let frame = try parser.next() { frames.append(frame) }
    try parser.finish()
    return frames
}

/// The logical bytes of a complete stream, through `FrameReader`.
func readAll(_ stream: ByteBuffer, chunkBytes: Int? = nil) throws -> [UInt8] {
    var reader = FrameReader()
    var out = ByteBuffer()
    for chunk in split(stream, chunkBytes: chunkBytes ?? max(1, stream.readableBytes)) {
        try reader.consume(chunk, into: &out)
    }
    try reader.finish()
    #expect(reader.logicalBytes == Int64(out.readableBytes))
    return Array(out.readableBytesView)
}

func split(_ stream: ByteBuffer, chunkBytes: Int) -> [ByteBuffer] {
    var rest = stream
    var chunks: [ByteBuffer] = []
    while rest.readableBytes > 0 {
        chunks.append(rest.readSlice(length: min(chunkBytes, rest.readableBytes))!)
    }
    return chunks
}

/// A copy of `stream` with bit `bit` of byte `index` (from the reader index) flipped.
func flipping(_ stream: ByteBuffer, byte index: Int, bit: Int = 0) -> ByteBuffer {
    var bytes = Array(stream.readableBytesView)
    bytes[index] ^= UInt8(1 << bit)
    return ByteBuffer(bytes: bytes)
}

/// Raw header bytes with any field values, and a valid header CRC unless told otherwise.
func rawHeader(magic: UInt32 = FrameHeader.magic, version: UInt8 = 1, codec: UInt8 = 0, flags: UInt16 = 0,
               logical: UInt32, stored: UInt32, dataCRC: UInt32 = 0) -> [UInt8] {
    var b = ByteBuffer()
    b.writeInteger(magic, endianness: .little)
    b.writeInteger(version)
    b.writeInteger(codec)
    b.writeInteger(flags, endianness: .little)
    b.writeInteger(logical, endianness: .little)
    b.writeInteger(stored, endianness: .little)
    b.writeInteger(dataCRC, endianness: .little)
    let crc = b.withUnsafeReadableBytes { CRC32.checksum($0) }
    b.writeInteger(crc, endianness: .little)
    return Array(b.readableBytesView)
}

func checksum(_ bytes: [UInt8]) -> UInt32 { bytes.withUnsafeBytes { CRC32.checksum($0) } }

/// Expects `body` to throw `HFSError` with code `.corrupt`; returns the message.
@discardableResult
func expectCorrupt(_ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation,
                   _ body: () throws -> Void) -> String? {
    let error = #expect(throws: HFSError.self, comment, sourceLocation: sourceLocation) { try body() }
    #expect(error?.code == .corrupt, comment, sourceLocation: sourceLocation)
    return error?.message
}

/// Bytes compared in an expectation and printed short (count and CRC), not byte by byte.
struct Bytes: Equatable, CustomTestStringConvertible {
    var bytes: [UInt8]
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    init(_ buffer: ByteBuffer) { self.bytes = Array(buffer.readableBytesView) }
    var testDescription: String { "\(bytes.count) bytes, crc32 \(hex(checksum(bytes)))" }
}
