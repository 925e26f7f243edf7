import CBlosc
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
/// Codec choice per ``CodecPolicy`` and ``ContentKind``:
/// - `.auto`: `.compressed` content is stored as it is (codec none); `.pixels` is tried with
///   lz4-delta, then (should that not save 10%) with lz4; anything else with lz4. A frame keeps
///   a codec only when its stored bytes are at most 90% of the logical bytes, else it is stored
///   with codec none. lz4 is tried on a frame of 32 KiB or more only when a sample of it
///   compresses (``probablyCompresses(_:)``).
/// - `.lz4`: every frame lz4 (lz4-delta for `.pixels`), whatever it saves; `.zlib`, `.none`:
///   every frame with that codec.
///
/// lz4-delta (see ``Codec/lz4Delta``): on the ingest benchmark's PPMs (smooth scenes, sensor
/// noise up to sigma 3) it stores 0.53 of the raw size where lz4 stores 0.91, compressing at
/// about the speed of lz4 (c-blosc, clevel 1, one thread).
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
    /// The byte deltas of a lz4-delta frame before c-blosc compresses them, set up on first use.
    private var deltas: UnsafeMutableRawBufferPointer?
    /// Where a frame encoded in place is compressed before it is copied back, set up on first use.
    private var scratch: UnsafeMutableRawBufferPointer?
    /// See ``probeBuffer()``.
    private var probe: UnsafeMutableRawBufferPointer?

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
        deltas?.deallocate()
        scratch?.deallocate()
        probe?.deallocate()
    }

    /// Appends the frames for `data` (split into chunks of ≤ ``Limits/frameLogicalBytesMax``) to
    /// `out`; empty data appends nothing. `content` (see ``ImageMagic/kind(_:)``) steers the
    /// codec. Returns the bytes appended, headers included.
    @discardableResult
    public func encode(_ data: UnsafeRawBufferPointer, content: ContentKind, into out: inout ByteBuffer) -> Int {
        guard let base = data.baseAddress, data.count > 0 else { return 0 }
        let attempts = codecsToTry(content)
        var stride = 0
        if case .pixels(let s) = content { stride = s }
        let chunkMax = Limits.frameLogicalBytesMax
        let fullFrames = data.count / chunkMax, tail = data.count % chunkMax
        var capacity = fullFrames * (FrameHeader.size + Self.roomNeeded(attempts, logical: chunkMax))
        if tail > 0 { capacity += FrameHeader.size + Self.roomNeeded(attempts, logical: tail) }
        out.reserveCapacity(minimumWritableBytes: capacity)

        var appended = 0
        var offset = 0
        while offset < data.count {
            let count = min(chunkMax, data.count - offset)
            let chunk = UnsafeRawBufferPointer(start: base + offset, count: count)
            appended += out.writeWithUnsafeMutableBytes(
                minimumWritableBytes: FrameHeader.size + Self.roomNeeded(attempts, logical: count)
            ) { dst in
                encodeFrame(chunk, trying: attempts, stride: stride, into: dst)
            }
            offset += count
        }
        return appended
    }

    /// Appends the frames of `count` bytes that `read` puts straight into their places in `out`,
    /// chunk by chunk in order (each call fills the buffer it is given, or throws): the logical
    /// bytes are not copied. A frame stored with codec none stays where it was read; one that a
    /// codec keeps is compressed from there into scratch and copied back over it. `content` is
    /// asked once, with the first chunk. Returns the bytes appended, headers included; when
    /// `read` throws, `out` is left as it was.
    public func encode(count: Int, into out: inout ByteBuffer, content: (UnsafeRawBufferPointer) -> ContentKind,
                       read: (UnsafeMutableRawBufferPointer) throws -> Void) throws -> Int {
        let start = out.writerIndex
        // Room for whichever codecs the content will call for, known only once it is read.
        let anyAttempts = codecsToTry(.pixels(stride: 1)) + codecsToTry(.other)
        var kind: ContentKind?
        var appended = 0
        var offset = 0
        do {
            while offset < count {
                let n = min(Limits.frameLogicalBytesMax, count - offset)
                appended += try out.writeWithUnsafeMutableBytes(
                    minimumWritableBytes: FrameHeader.size + Self.roomNeeded(anyAttempts, logical: n)
                ) { dst in
                    let chunk = UnsafeMutableRawBufferPointer(rebasing: dst[FrameHeader.size..<(FrameHeader.size + n)])
                    try read(chunk)
                    let k = kind ?? content(UnsafeRawBufferPointer(chunk))
                    kind = k
                    var stride = 0
                    if case .pixels(let s) = k { stride = s }
                    return encodeFrame(UnsafeRawBufferPointer(chunk), trying: codecsToTry(k), stride: stride, into: dst)
                }
                offset += n
            }
        } catch {
            out.moveWriterIndex(to: start)
            throw error
        }
        return appended
    }

    /// The codecs to try, in order, for `content` under this encoder's policy; a frame that none
    /// of them may keep is stored with codec none.
    func codecsToTry(_ content: ContentKind) -> [Codec] {
        switch (policy, content) {
        case (.auto, .compressed), (.none, _): return []
        case (.auto, .pixels): return [.lz4Delta, .lz4]
        case (.lz4, .pixels): return [.lz4Delta]
        case (.auto, _), (.lz4, _): return [.lz4]
        case (.zlib, _): return [.zlib]
        }
    }

    /// Stored bytes a frame may need when `attempts` are tried (codec none needs `logical`).
    static func roomNeeded(_ attempts: [Codec], logical: Int) -> Int {
        attempts.reduce(logical) { max($0, FrameHeader.storedBytesBound($1, logical: logical)) }
    }

    /// Writes one frame (header + stored bytes) at `dst`, which has room for ``roomNeeded(_:logical:)``:
    /// the first of `attempts` that succeeds and (under `.auto`) saves 10%, else codec none.
    /// `chunk` may already be where the stored bytes go (`dst` after the header): then a codec
    /// compresses into scratch, and what it keeps is copied back.
    private func encodeFrame(_ chunk: UnsafeRawBufferPointer, trying attempts: [Codec], stride: Int,
                             into dst: UnsafeMutableRawBufferPointer) -> Int {
        let payload = UnsafeMutableRawBufferPointer(rebasing: dst[FrameHeader.size...])
        let inPlace = chunk.baseAddress == UnsafeRawPointer(payload.baseAddress)
        let crc = CRC32.checksum(chunk)     // before anything may be written over an in-place chunk
        var used = Codec.none
        var stored = chunk.count
        for codec in attempts {
            if codec == .lz4 && policy == .auto && !probablyCompresses(chunk) { continue }
            let target = inPlace ? scratchBuffer() : payload
            // zlib and lz4 cannot overflow their bounds; should one fail anyway, the next is tried.
            if let n = compress(chunk, codec, stride: stride, into: target), policy != .auto || keepsAuto(stored: n, logical: chunk.count) {
                if inPlace {
                    precondition(n <= payload.count, "stored bytes beyond the room reserved for them")
                    payload.baseAddress!.copyMemory(from: target.baseAddress!, byteCount: n)
                }
                used = codec
                stored = n
                break
            }
        }
        if used == .none && !inPlace { payload.baseAddress!.copyMemory(from: chunk.baseAddress!, byteCount: chunk.count) }
        let header = FrameHeader(codec: used, logicalLength: UInt32(chunk.count), storedLength: UInt32(stored), dataCRC: crc)
        header.write(to: dst.baseAddress!)
        return FrameHeader.size + stored
    }

    private func compress(_ chunk: UnsafeRawBufferPointer, _ codec: Codec, stride: Int, into payload: UnsafeMutableRawBufferPointer) -> Int? {
        switch codec {
        case .none: return nil
        case .lz4: return compressLZ4(chunk, into: payload)
        case .zlib: return compressZlib(chunk, into: payload)
        case .lz4Delta: return compressLZ4Delta(chunk, stride: stride, into: payload)
        }
    }

    /// Under `.auto`, whether lz4 is worth trying on `chunk` at all: lz4 on a sample of it (the
    /// first ``probeWindowBytes`` of each eighth, 8 KiB in all) must save at least 3%, as btrfs and
    /// ZFS judge compressibility before they compress. Incompressible bytes (random, encrypted,
    /// compressed formats without an image signature) then cost lz4 on 8 KiB instead of the whole
    /// frame: on the throughput benchmark's random files that was ~7% of `hfs put`'s CPU. A
    /// compressible run that no window meets is shorter than an eighth of the frame, which leaves
    /// the frame close to the 10% a codec must save anyway; repetition at distances longer than a
    /// window (records of random bytes repeated every few KiB) is not seen by the sample, and such
    /// a frame is stored as it is. Chunks under 32 KiB are not sampled.
    func probablyCompresses(_ chunk: UnsafeRawBufferPointer) -> Bool {
        let windows = 8, window = Self.probeWindowBytes
        guard chunk.count >= windows * window * 4 else { return true }
        let sample = probeBuffer()
        let step = chunk.count / windows
        for i in 0..<windows {
            (sample.baseAddress! + i * window).copyMemory(from: chunk.baseAddress! + i * step, byteCount: window)
        }
        let input = UnsafeRawBufferPointer(rebasing: sample[0..<(windows * window)])
        let output = UnsafeMutableRawBufferPointer(rebasing: sample[(windows * window)...])
        guard let n = compressLZ4(input, into: output) else { return true }
        return n * 100 <= input.count * 97
    }

    /// Bytes lz4 sees of each eighth of a frame in ``probablyCompresses(_:)``.
    static let probeWindowBytes = 1024

    /// The sample and its lz4 output, set up on first use.
    private func probeBuffer() -> UnsafeMutableRawBufferPointer {
        if let probe { return probe }
        let input = 8 * Self.probeWindowBytes
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: input + Int(LZ4_compressBound(Int32(input))), alignment: 64)
        probe = buffer
        return buffer
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

    /// A stride byte, then the zig-zag mapped byte deltas `stride` apart (the first `stride`
    /// bytes as they are), bit-shuffled and lz4-compressed by c-blosc into one buffer.
    private func compressLZ4Delta(_ src: UnsafeRawBufferPointer, stride: Int, into dst: UnsafeMutableRawBufferPointer) -> Int? {
        guard (1...LZ4Delta.strideMax).contains(stride), dst.count > 1 else { return nil }
        let scratch = deltaBuffer()
        LZ4Delta.forward(src, stride: stride, into: scratch.baseAddress!)
        dst[0] = UInt8(stride)
        let n = blosc_compress_ctx(LZ4Delta.level, BLOSC_BITSHUFFLE, 1, src.count, scratch.baseAddress, dst.baseAddress! + 1,
                                   dst.count - 1, "lz4", 0, 1)
        return n > 0 ? 1 + Int(n) : nil
    }

    private func deltaBuffer() -> UnsafeMutableRawBufferPointer {
        if let deltas { return deltas }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Limits.frameLogicalBytesMax, alignment: 64)
        deltas = buffer
        return buffer
    }

    /// Room for any frame's stored bytes (``FrameHeader/storedBytesMax``).
    private func scratchBuffer() -> UnsafeMutableRawBufferPointer {
        if let scratch { return scratch }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: FrameHeader.storedBytesMax, alignment: 64)
        scratch = buffer
        return buffer
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
