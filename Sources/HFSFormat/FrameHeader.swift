import CBlosc
import CLZ4
import CZlib
import HFSCore
import NIOCore

/// The fixed 24-byte header in front of every frame's stored bytes. Little-endian:
///
/// | offset | type | field |
/// |---|---|---|
/// | 0  | u32 | magic `0x31524648` (the bytes `H F R 1`) |
/// | 4  | u8  | version, 1 |
/// | 5  | u8  | codec: 0 none, 1 lz4 (one LZ4 block), 2 zlib (one zlib stream, RFC 1950), 3 lz4-delta (a stride byte 1...16, then one c-blosc buffer) |
/// | 6  | u16 | flags, 0 in version 1 |
/// | 8  | u32 | logicalLength, ≤ ``Limits/frameLogicalBytesMax`` |
/// | 12 | u32 | storedLength: stored bytes after the header |
/// | 16 | u32 | dataCRC: ``CRC32`` of the logical bytes |
/// | 20 | u32 | headerCRC: ``CRC32`` of bytes 0..<20 |
public struct FrameHeader: Sendable, Equatable {
    public static let size = 24
    public static let magic: UInt32 = 0x3152_4648
    public static let version: UInt8 = 1
    /// Most stored bytes a valid frame can have (the largest codec bound for a full frame).
    public static let storedBytesMax = Codec.allCases.map { storedBytesBound($0, logical: Limits.frameLogicalBytesMax) }.max()!

    public var codec: Codec
    public var flags: UInt16
    public var logicalLength: UInt32
    public var storedLength: UInt32
    public var dataCRC: UInt32

    public init(codec: Codec, flags: UInt16 = 0, logicalLength: UInt32, storedLength: UInt32, dataCRC: UInt32) {
        self.codec = codec
        self.flags = flags
        self.logicalLength = logicalLength
        self.storedLength = storedLength
        self.dataCRC = dataCRC
    }

    /// Header plus stored bytes.
    public var frameLength: Int { Self.size + Int(storedLength) }

    /// Most stored bytes that `logical` bytes may take under `codec` (the buffer an encoder needs).
    public static func storedBytesBound(_ codec: Codec, logical: Int) -> Int {
        switch codec {
        case .none: return logical
        case .lz4: return Int(LZ4_compressBound(Int32(logical)))
        case .zlib: return Int(compressBound(uLong(logical)))
        case .lz4Delta: return 1 + logical + Int(BLOSC_MAX_OVERHEAD)  // c-blosc never needs more
        }
    }

    /// Appends the 24 header bytes (header CRC included) to `out`.
    public func encode(into out: inout ByteBuffer) {
        out.writeWithUnsafeMutableBytes(minimumWritableBytes: Self.size) { dst in
            write(to: dst.baseAddress!)
            return Self.size
        }
    }

    /// Writes the 24 header bytes at `dst`.
    public func write(to dst: UnsafeMutableRawPointer) {
        dst.storeBytes(of: Self.magic.littleEndian, toByteOffset: 0, as: UInt32.self)
        dst.storeBytes(of: Self.version, toByteOffset: 4, as: UInt8.self)
        dst.storeBytes(of: codec.wireID, toByteOffset: 5, as: UInt8.self)
        dst.storeBytes(of: flags.littleEndian, toByteOffset: 6, as: UInt16.self)
        dst.storeBytes(of: logicalLength.littleEndian, toByteOffset: 8, as: UInt32.self)
        dst.storeBytes(of: storedLength.littleEndian, toByteOffset: 12, as: UInt32.self)
        dst.storeBytes(of: dataCRC.littleEndian, toByteOffset: 16, as: UInt32.self)
        let crc = CRC32.checksum(UnsafeRawBufferPointer(start: dst, count: 20))
        dst.storeBytes(of: crc.littleEndian, toByteOffset: 20, as: UInt32.self)
    }

    /// Parses and checks the header at the start of `bytes` (magic, header CRC, version, codec,
    /// flags, lengths). Throws `.corrupt` on any mismatch.
    public static func decode(_ bytes: UnsafeRawBufferPointer) throws -> FrameHeader {
        guard bytes.count >= size, let p = bytes.baseAddress else {
            throw HFSError(.corrupt, "frame header: \(bytes.count) bytes, a header needs \(size)")
        }
        func u32(_ offset: Int) -> UInt32 { UInt32(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) }
        let magic = u32(0)
        guard magic == Self.magic else {
            throw HFSError(.corrupt, "frame header: bad magic \(hex(magic)) (expected \(hex(Self.magic)), \"HFR1\")")
        }
        let storedCRC = u32(20)
        let computedCRC = CRC32.checksum(UnsafeRawBufferPointer(start: p, count: 20))
        guard storedCRC == computedCRC else {
            throw HFSError(.corrupt, "frame header: checksum mismatch (header says \(hex(storedCRC)), bytes give \(hex(computedCRC)))")
        }
        let version = p.load(fromByteOffset: 4, as: UInt8.self)
        guard version == Self.version else {
            throw HFSError(.corrupt, "frame header: unsupported version \(version) (this build reads \(Self.version))")
        }
        let codecID = p.load(fromByteOffset: 5, as: UInt8.self)
        guard let codec = Codec(wireID: codecID) else {
            throw HFSError(.corrupt, "frame header: unknown codec \(codecID)")
        }
        let flags = UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 6, as: UInt16.self))
        let header = FrameHeader(codec: codec, flags: flags, logicalLength: u32(8), storedLength: u32(12), dataCRC: u32(16))
        try header.validate()
        return header
    }

    /// Parses and checks the header at `buffer`'s reader index (the reader index does not move).
    public static func decode(_ buffer: ByteBuffer) throws -> FrameHeader {
        try buffer.withUnsafeReadableBytes { try decode($0) }
    }

    /// Checks the fields a header CRC cannot vouch for: flags and lengths within their bounds.
    public func validate() throws {
        guard flags == 0 else {
            throw HFSError(.corrupt, "frame header: unknown flags \(hex(UInt32(flags)))")
        }
        let logical = Int(logicalLength), stored = Int(storedLength)
        guard logical <= Limits.frameLogicalBytesMax else {
            throw HFSError(.corrupt, "frame header: logical length \(logical) exceeds \(Limits.frameLogicalBytesMax)")
        }
        if codec == .none {
            guard stored == logical else {
                throw HFSError(.corrupt, "frame header: codec none with stored length \(stored) ≠ logical length \(logical)")
            }
        } else {
            let bound = Self.storedBytesBound(codec, logical: logical)
            guard stored <= bound else {
                throw HFSError(.corrupt, "frame header: \(codec) stored length \(stored) exceeds the bound \(bound) for \(logical) logical bytes")
            }
        }
    }
}

/// `0x0000abcd`, for error messages.
func hex(_ v: UInt32) -> String {
    let digits = String(v, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
}
