import HFSCore
import NIOCore

/// Cuts a byte stream made of frames, arriving in chunks of any size (HTTP bodies), into frames.
///
/// Call ``append(_:)`` with each chunk, then ``next()`` until it returns nil; at the end of the
/// stream call ``finish()``, which throws if a partial frame is left. Headers are checked as they
/// arrive (see ``FrameHeader``); stored bytes are not: give each frame to a ``FrameDecoder``, or
/// use ``FrameVerifier`` / ``FrameReader``.
///
/// Bounded memory: drained after each append, it holds at most the frame being assembled plus
/// the last chunk. A frame lying whole inside a chunk is returned as a slice of that chunk (no
/// copy); a frame that spans chunks is assembled in a buffer the parser reuses, so drop each
/// returned frame before the next call (a frame still held forces a fresh buffer). The stored
/// bytes of an assembled frame start on a ``Limits/directWriteAlignment`` boundary.
public struct FrameStreamParser {
    /// Bytes of a frame that spans chunks, from its first header byte.
    private var assembly = ByteBuffer()
    /// What is left of the last appended chunk.
    private var chunk = ByteBuffer()
    /// The header of the frame being assembled, once its 24 bytes are in.
    private var pending: FrameHeader?
    /// Total bytes of the complete frames returned so far.
    public private(set) var bytesConsumed: Int64 = 0

    public init() {}

    /// Bytes held and not yet returned as frames.
    public var bufferedBytes: Int { assembly.readableBytes + chunk.readableBytes }

    public mutating func append(_ newChunk: ByteBuffer) {
        guard newChunk.readableBytes > 0 else { return }
        if chunk.readableBytes > 0 {
            // The caller appended without draining next(): keep the old rest in the assembly.
            moveToAssembly(chunk.readableBytes)
        }
        chunk = newChunk
    }

    /// The next complete frame, or nil if more bytes are needed. Throws `.corrupt` on a bad header.
    public mutating func next() throws -> (header: FrameHeader, stored: ByteBuffer)? {
        if assembly.readableBytes == 0, pending == nil {
            // Fast path: the frame starts at the chunk's reader index.
            guard chunk.readableBytes >= FrameHeader.size else {
                moveToAssembly(chunk.readableBytes)
                return nil
            }
            let header = try decodeHeader(chunk)
            if chunk.readableBytes >= header.frameLength {
                chunk.moveReaderIndex(forwardBy: FrameHeader.size)
                let stored = chunk.readSlice(length: Int(header.storedLength))!
                bytesConsumed += Int64(header.frameLength)
                return (header, stored)
            }
            pending = header
            moveToAssembly(chunk.readableBytes)
            return nil
        }
        // Slow path: complete the frame in the assembly buffer.
        if pending == nil {
            moveToAssembly(min(FrameHeader.size - assembly.readableBytes, chunk.readableBytes))
            guard assembly.readableBytes >= FrameHeader.size else { return nil }
            pending = try decodeHeader(assembly)
        }
        let header = pending!
        moveToAssembly(min(header.frameLength - assembly.readableBytes, chunk.readableBytes))
        guard assembly.readableBytes >= header.frameLength else { return nil }
        assembly.moveReaderIndex(forwardBy: FrameHeader.size)
        let stored = assembly.readSlice(length: Int(header.storedLength))!
        pending = nil
        bytesConsumed += Int64(header.frameLength)
        return (header, stored)
    }

    /// Call at the end of the stream: throws `.corrupt` if it stopped inside a frame.
    public func finish() throws {
        let left = bufferedBytes
        guard left == 0 else {
            let need = pending.map { "of the \($0.frameLength) it needs" } ?? "of a frame"
            throw HFSError(.corrupt, "truncated frame: the stream ended with \(left) bytes \(need) at stream offset \(bytesConsumed)")
        }
    }

    private func decodeHeader(_ buffer: ByteBuffer) throws -> FrameHeader {
        do {
            return try FrameHeader.decode(buffer)
        } catch let error as HFSError {
            throw HFSError(error.code, "\(error.message) at stream offset \(bytesConsumed)")
        }
    }

    /// Moves `count` bytes from the chunk to the end of the assembly buffer, reusing its storage.
    private mutating func moveToAssembly(_ count: Int) {
        guard count > 0 else { return }
        if assembly.readableBytes == 0 {
            startAssembly()
        }
        if let pending {
            assembly.reserveCapacity(minimumWritableBytes: pending.frameLength - assembly.readableBytes)
        }
        assembly.writeImmutableBuffer(chunk.readSlice(length: count)!)
    }

    /// Makes room for a whole frame (its length if the header is known, else the largest) and
    /// places it so that its stored bytes start on a ``Limits/directWriteAlignment`` boundary:
    /// `hfs get` writes an assembled frame's bytes to an O_DIRECT file as they are, with no
    /// copy into an aligned buffer first (``Limits/directWriteAlignment`` more bytes of room).
    private mutating func startAssembly() {
        let align = Limits.directWriteAlignment
        let length = pending?.frameLength ?? (FrameHeader.size + FrameHeader.storedBytesMax)
        assembly.clear(minimumCapacity: length + align)  // unique storage from here on: it stays put
        let base = assembly.withVeryUnsafeBytes { UInt(bitPattern: $0.baseAddress) }
        let pad = (align - Int((base + UInt(FrameHeader.size)) % UInt(align))) % align
        assembly.moveWriterIndex(to: pad)
        assembly.moveReaderIndex(to: pad)
    }
}
