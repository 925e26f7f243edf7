import CBlosc
import CLZ4
import CZlib
import HFSCore
import NIOCore

/// Verifies and decodes single frames. Any header, length, codec or CRC mismatch throws
/// `HFSError(.corrupt, ...)`: a bad frame is never returned as data, and a frame that fails
/// leaves the output buffer as it was.
///
/// Not thread-safe; one per task. It owns reusable state: an inflate stream and a
/// ``Limits/frameLogicalBytesMax`` scratch buffer for ``verify(header:stored:)``, both set up
/// on first use. Reuse decoders (a pool per process) to keep that memory warm.
public final class FrameDecoder {
    private var inflater: UnsafeMutablePointer<z_stream>?
    private var scratch: UnsafeMutableRawBufferPointer?

    public init() {}

    deinit {
        if let inflater {
            inflateEnd(inflater)
            inflater.deinitialize(count: 1)
            inflater.deallocate()
        }
        scratch?.deallocate()
    }

    /// Decodes one frame (its header and its `storedLength` stored bytes), checks its dataCRC and
    /// appends its logical bytes to `out`.
    public func decode(header: FrameHeader, stored: UnsafeRawBufferPointer, into out: inout ByteBuffer) throws {
        try check(header, stored)
        let logical = Int(header.logicalLength)
        if header.codec == .none {
            try checkCRC(header, UnsafeRawBufferPointer(stored))
            out.writeBytes(stored)
        } else if logical == 0 {
            try verify(header: header, stored: stored)
        } else {
            try out.writeWithUnsafeMutableBytes(minimumWritableBytes: logical) { dst in
                let target = UnsafeMutableRawBufferPointer(rebasing: dst[..<logical])
                try expand(header, stored, into: target)
                return logical
            }
        }
    }

    /// Checks one frame without keeping its logical bytes: codec none is checked by CRC alone,
    /// compressed frames are decoded into scratch memory and checked.
    public func verify(header: FrameHeader, stored: UnsafeRawBufferPointer) throws {
        try check(header, stored)
        if header.codec == .none {
            try checkCRC(header, stored)
        } else {
            let target = UnsafeMutableRawBufferPointer(rebasing: scratchBuffer()[..<Int(header.logicalLength)])
            try expand(header, stored, into: target)
        }
    }

    private func check(_ header: FrameHeader, _ stored: UnsafeRawBufferPointer) throws {
        try header.validate()
        guard stored.count == Int(header.storedLength) else {
            throw HFSError(.corrupt, "frame: \(stored.count) stored bytes, header says \(header.storedLength)")
        }
    }

    private func checkCRC(_ header: FrameHeader, _ logical: UnsafeRawBufferPointer) throws {
        let crc = CRC32.checksum(logical)
        guard crc == header.dataCRC else {
            throw HFSError(.corrupt, "frame: data checksum mismatch (codec \(header.codec), \(header.logicalLength) logical bytes: header says \(hex(header.dataCRC)), data gives \(hex(crc)))")
        }
    }

    /// Decompresses exactly `dst.count` logical bytes from `stored` and checks their CRC.
    private func expand(_ header: FrameHeader, _ stored: UnsafeRawBufferPointer, into dst: UnsafeMutableRawBufferPointer) throws {
        switch header.codec {
        case .none:
            preconditionFailure("codec none is not expanded")
        case .lz4:
            let n = LZ4_decompress_safe(stored.baseAddress?.assumingMemoryBound(to: CChar.self),
                                        dst.baseAddress?.assumingMemoryBound(to: CChar.self),
                                        Int32(stored.count), Int32(dst.count))
            guard n >= 0 else {
                throw HFSError(.corrupt, "frame: lz4 stored bytes are malformed or decode to more than \(dst.count) bytes (lz4 error \(n))")
            }
            guard Int(n) == dst.count else {
                throw HFSError(.corrupt, "frame: lz4 stored bytes decode to \(n) bytes, header says \(dst.count)")
            }
        case .zlib:
            try inflate(stored, into: dst)
        case .lz4Delta:
            try expandLZ4Delta(stored, into: dst)
        }
        try checkCRC(header, UnsafeRawBufferPointer(dst))
    }

    /// The stride byte, then exactly one c-blosc buffer of `dst.count` bytes (checked with
    /// `blosc_cbuffer_validate` first, after which c-blosc's decompression is memory safe).
    private func expandLZ4Delta(_ src: UnsafeRawBufferPointer, into dst: UnsafeMutableRawBufferPointer) throws {
        guard src.count > 1, let base = src.baseAddress, let out = dst.baseAddress else {
            throw HFSError(.corrupt, "frame: lz4-delta stored bytes are too short (\(src.count))")
        }
        let stride = Int(src[0])
        guard (1...LZ4Delta.strideMax).contains(stride) else {
            throw HFSError(.corrupt, "frame: lz4-delta stride \(stride) is not in 1...\(LZ4Delta.strideMax)")
        }
        var nbytes = 0, cbytes = 0, blocksize = 0
        guard blosc_cbuffer_validate(base + 1, src.count - 1, &nbytes) == 0 else {
            throw HFSError(.corrupt, "frame: lz4-delta stored bytes are not a valid c-blosc buffer")
        }
        blosc_cbuffer_sizes(base + 1, &nbytes, &cbytes, &blocksize)
        guard nbytes == dst.count, cbytes == src.count - 1 else {
            throw HFSError(.corrupt, "frame: lz4-delta buffer of \(cbytes) bytes decoding to \(nbytes), the frame has \(src.count - 1) and says \(dst.count)")
        }
        let n = blosc_decompress_ctx(base + 1, out, dst.count, 1)
        guard n == dst.count else {
            throw HFSError(.corrupt, "frame: lz4-delta stored bytes are malformed (c-blosc gave \(n) of \(dst.count) bytes)")
        }
        LZ4Delta.inverse(dst, stride: stride)
    }

    private func inflate(_ src: UnsafeRawBufferPointer, into dst: UnsafeMutableRawBufferPointer) throws {
        let stream = try inflateStream()
        guard inflateReset(stream) == Z_OK else {
            throw HFSError(.internal, "frame: zlib inflateReset failed")
        }
        stream.pointee.next_in = UnsafeMutablePointer(mutating: src.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(src.count)
        stream.pointee.next_out = dst.baseAddress?.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = uInt(dst.count)
        let status = CZlib.inflate(stream, Z_FINISH)
        let produced = Int(stream.pointee.total_out)
        let leftover = Int(stream.pointee.avail_in)
        stream.pointee.next_in = nil
        stream.pointee.next_out = nil
        switch status {
        case Z_STREAM_END:
            guard produced == dst.count else {
                throw HFSError(.corrupt, "frame: zlib stored bytes decode to \(produced) bytes, header says \(dst.count)")
            }
            guard leftover == 0 else {
                throw HFSError(.corrupt, "frame: \(leftover) stray bytes after the zlib stream")
            }
        case Z_BUF_ERROR where stream.pointee.avail_out == 0:
            throw HFSError(.corrupt, "frame: zlib stored bytes decode to more than \(dst.count) bytes")
        case Z_BUF_ERROR:
            throw HFSError(.corrupt, "frame: zlib stream is truncated (decoded \(produced) of \(dst.count) bytes)")
        default:
            throw HFSError(.corrupt, "frame: zlib stored bytes are malformed (zlib error \(status))")
        }
    }

    private func inflateStream() throws -> UnsafeMutablePointer<z_stream> {
        if let inflater { return inflater }
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let status = inflateInit2_(stream, MAX_WBITS, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            stream.deinitialize(count: 1)
            stream.deallocate()
            throw HFSError(.internal, "frame: zlib inflateInit2 failed (\(status))")
        }
        inflater = stream
        return stream
    }

    private func scratchBuffer() -> UnsafeMutableRawBufferPointer {
        if let scratch { return scratch }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Limits.frameLogicalBytesMax, alignment: 64)
        scratch = buffer
        return buffer
    }
}
