import CLZ4
import CZlib
import HFSCore
import NIOCore

/// Turns logical bytes into frames (the client's write path).
///
/// One encoder per writer task: it is not thread-safe, and it owns reusable state (a z_stream)
/// so that encoding does not allocate per frame. Frames are compressed straight into the output
/// buffer; reuse that buffer too (`clear()` it) to keep its pages warm.
///
/// Codec choice per ``CodecPolicy``:
/// - `.auto`: data flagged as an already-compressed format is stored as it is (codec none);
///   anything else is tried with lz4 frame by frame and kept only when the stored bytes are at
///   most 90% of the logical bytes, else stored with codec none.
/// - `.lz4`, `.zlib`, `.none`: every frame with that codec, whatever it saves.
///
/// zlib is for cold data, so it defaults to level 6 (zlib's own default). On text-like data
/// here, release build: level 6 stores 15% of the logical bytes at ~25 MB/s, level 1 21% at
/// ~130 MB/s, lz4 36% at ~650 MB/s. Pass `zlibLevel: 1` for speed; decoding does not care.
public final class FrameEncoder {
    public static let zlibLevelDefault: Int32 = 6
    /// `.auto` keeps an lz4 frame only if stored ≤ logical × 9/10.
    static let autoKeepNumerator = 9, autoKeepDenominator = 10

    public let policy: CodecPolicy
    public let zlibLevel: Int32
    /// A deflate stream set up on first use and reset for each frame.
    private var deflater: UnsafeMutablePointer<z_stream>?

    public init(policy: CodecPolicy, zlibLevel: Int32 = FrameEncoder.zlibLevelDefault) {
        precondition((1...9).contains(zlibLevel), "zlib level \(zlibLevel) is not in 1...9")
        self.policy = policy
        self.zlibLevel = zlibLevel
    }

    deinit {
        if let deflater {
            deflateEnd(deflater)
            deflater.deinitialize(count: 1)
            deflater.deallocate()
        }
    }

    /// Appends the frames for `data` (split into chunks of ≤ ``Limits/frameLogicalBytesMax``) to
    /// `out`; empty data appends nothing. `isCompressedFormat` (see ``ImageMagic``) makes `.auto`
    /// store the data as it is. Returns the bytes appended, headers included.
    @discardableResult
    public func encode(_ data: UnsafeRawBufferPointer, isCompressedFormat: Bool, into out: inout ByteBuffer) -> Int {
        guard let base = data.baseAddress, data.count > 0 else { return 0 }
        let codec = preferredCodec(isCompressedFormat: isCompressedFormat)
        let chunkMax = Limits.frameLogicalBytesMax
        let fullFrames = data.count / chunkMax, tail = data.count % chunkMax
        var capacity = fullFrames * (FrameHeader.size + FrameHeader.storedBytesBound(codec, logical: chunkMax))
        if tail > 0 { capacity += FrameHeader.size + FrameHeader.storedBytesBound(codec, logical: tail) }
        out.reserveCapacity(minimumWritableBytes: capacity)

        var appended = 0
        var offset = 0
        while offset < data.count {
            let count = min(chunkMax, data.count - offset)
            let chunk = UnsafeRawBufferPointer(start: base + offset, count: count)
            appended += out.writeWithUnsafeMutableBytes(
                minimumWritableBytes: FrameHeader.size + FrameHeader.storedBytesBound(codec, logical: count)
            ) { dst in
                encodeFrame(chunk, codec: codec, into: dst)
            }
            offset += count
        }
        return appended
    }

    /// The codec to try for data under this encoder's policy.
    func preferredCodec(isCompressedFormat: Bool) -> Codec {
        switch policy {
        case .auto: return isCompressedFormat ? .none : .lz4
        case .none: return .none
        case .lz4: return .lz4
        case .zlib: return .zlib
        }
    }

    /// Writes one frame (header + stored bytes) at `dst`, which has room for the codec's bound.
    private func encodeFrame(_ chunk: UnsafeRawBufferPointer, codec: Codec, into dst: UnsafeMutableRawBufferPointer) -> Int {
        let payload = UnsafeMutableRawBufferPointer(rebasing: dst[FrameHeader.size...])
        var used = Codec.none
        var stored = 0
        switch codec {
        case .none:
            break
        case .lz4:
            if let n = compressLZ4(chunk, into: payload), policy != .auto || keepsAuto(stored: n, logical: chunk.count) {
                used = .lz4
                stored = n
            }
        case .zlib:
            // zlib cannot overflow compressBound; should it fail anyway, the frame stays valid as none.
            if let n = compressZlib(chunk, into: payload) {
                used = .zlib
                stored = n
            }
        }
        if used == .none {
            payload.baseAddress!.copyMemory(from: chunk.baseAddress!, byteCount: chunk.count)
            stored = chunk.count
        }
        let header = FrameHeader(codec: used, logicalLength: UInt32(chunk.count), storedLength: UInt32(stored),
                                 dataCRC: CRC32.checksum(chunk))
        header.write(to: dst.baseAddress!)
        return FrameHeader.size + stored
    }

    private func keepsAuto(stored: Int, logical: Int) -> Bool {
        stored * Self.autoKeepDenominator <= logical * Self.autoKeepNumerator
    }

    private func compressLZ4(_ src: UnsafeRawBufferPointer, into dst: UnsafeMutableRawBufferPointer) -> Int? {
        let n = LZ4_compress_default(src.baseAddress!.assumingMemoryBound(to: CChar.self),
                                     dst.baseAddress!.assumingMemoryBound(to: CChar.self),
                                     Int32(src.count), Int32(dst.count))
        return n > 0 ? Int(n) : nil
    }

    private func compressZlib(_ src: UnsafeRawBufferPointer, into dst: UnsafeMutableRawBufferPointer) -> Int? {
        guard let stream = deflateStream() else { return nil }
        guard deflateReset(stream) == Z_OK else { return nil }
        stream.pointee.next_in = UnsafeMutablePointer(mutating: src.baseAddress!.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(src.count)
        stream.pointee.next_out = dst.baseAddress!.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = uInt(dst.count)
        let status = deflate(stream, Z_FINISH)
        let produced = Int(stream.pointee.total_out)
        stream.pointee.next_in = nil
        stream.pointee.next_out = nil
        return status == Z_STREAM_END ? produced : nil
    }

    private func deflateStream() -> UnsafeMutablePointer<z_stream>? {
        if let deflater { return deflater }
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let status = deflateInit2_(stream, zlibLevel, Z_DEFLATED, MAX_WBITS, 8, Z_DEFAULT_STRATEGY,
                                   zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            stream.deinitialize(count: 1)
            stream.deallocate()
            return nil
        }
        deflater = stream
        return stream
    }
}
