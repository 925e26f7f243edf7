import HFSCore
import NIOCore
import Testing
@testable import HFSFormat

@Suite struct FrameHeaderTests {
    @Test func encodesTheDocumentedLayout() throws {
        let header = FrameHeader(codec: .zlib, logicalLength: 0x0010_0000, storedLength: 0x0001_0203, dataCRC: 0xA1B2_C3D4)
        var buffer = ByteBuffer()
        header.encode(into: &buffer)
        let bytes = Array(buffer.readableBytesView)
        #expect(bytes.count == FrameHeader.size)
        #expect(Array(bytes[0..<4]) == Array("HFR1".utf8))
        #expect(bytes[4] == 1)
        #expect(bytes[5] == 2)
        #expect(Array(bytes[6..<8]) == [0, 0])
        #expect(Array(bytes[8..<12]) == [0x00, 0x00, 0x10, 0x00])
        #expect(Array(bytes[12..<16]) == [0x03, 0x02, 0x01, 0x00])
        #expect(Array(bytes[16..<20]) == [0xD4, 0xC3, 0xB2, 0xA1])
        let crc = checksum(Array(bytes[0..<20]))
        #expect(Array(bytes[20..<24]) == [UInt8(crc & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 24)])
        #expect(try FrameHeader.decode(buffer) == header)
        #expect(buffer.readableBytes == FrameHeader.size, "decode does not consume")
    }

    @Test(arguments: Codec.allCases)
    func roundTripsEveryCodec(codec: Codec) throws {
        let stored: UInt32 = codec == .none ? 1000 : 500
        let header = FrameHeader(codec: codec, logicalLength: 1000, storedLength: stored, dataCRC: 7)
        var buffer = ByteBuffer()
        header.encode(into: &buffer)
        #expect(try FrameHeader.decode(buffer) == header)
        #expect(Codec(wireID: codec.wireID) == codec)
    }

    @Test func everyFlippedHeaderBitIsCaught() throws {
        var buffer = ByteBuffer()
        FrameHeader(codec: .lz4, logicalLength: 4096, storedLength: 2000, dataCRC: 0x1234_5678).encode(into: &buffer)
        for byte in 0..<FrameHeader.size {
            for bit in 0..<8 {
                let bad = flipping(buffer, byte: byte, bit: bit)
                expectCorrupt("bit \(bit) of byte \(byte)") { _ = try FrameHeader.decode(bad) }
            }
        }
    }

    @Test func wrongMagicIsCorrupt() {
        let bytes = rawHeader(magic: 0x3252_4648, logical: 10, stored: 10)   // "HFR2"
        let message = expectCorrupt { _ = try bytes.withUnsafeBytes { try FrameHeader.decode($0) } }
        #expect(message?.contains("magic") == true)
    }

    @Test func shortHeaderIsCorrupt() {
        let bytes = Array(rawHeader(logical: 10, stored: 10).prefix(23))
        expectCorrupt { _ = try bytes.withUnsafeBytes { try FrameHeader.decode($0) } }
    }

    /// Fields that a valid header CRC cannot vouch for are checked too.
    @Test(arguments: [
        ("version 2", rawHeader(version: 2, logical: 10, stored: 10)),
        ("codec 4", rawHeader(codec: 4, logical: 10, stored: 10)),
        ("lz4-delta over its bound", rawHeader(codec: 3, logical: 10, stored: 10 + 1 + 16 + 1)),
        ("flags", rawHeader(flags: 1, logical: 10, stored: 10)),
        ("logical over 1 MiB", rawHeader(codec: 0, logical: UInt32(Limits.frameLogicalBytesMax + 1),
                                        stored: UInt32(Limits.frameLogicalBytesMax + 1))),
        ("none with stored ≠ logical", rawHeader(codec: 0, logical: 10, stored: 11)),
        ("lz4 stored over its bound", rawHeader(codec: 1, logical: 1000, stored: 2000)),
        ("zlib stored over its bound", rawHeader(codec: 2, logical: 1000, stored: 2000)),
    ])
    func invalidFieldsAreCorrupt(name: String, bytes: [UInt8]) {
        expectCorrupt(Comment(rawValue: name)) { _ = try bytes.withUnsafeBytes { try FrameHeader.decode($0) } }
    }

    @Test func storedBytesMaxCoversEveryCodec() {
        for codec in Codec.allCases {
            #expect(FrameHeader.storedBytesBound(codec, logical: Limits.frameLogicalBytesMax) <= FrameHeader.storedBytesMax)
        }
        #expect(FrameHeader.storedBytesMax > Limits.frameLogicalBytesMax)
    }
}
