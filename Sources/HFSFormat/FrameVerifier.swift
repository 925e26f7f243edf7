import HFSCore
import NIOCore

/// Checks a stream of frames arriving in chunks without keeping the logical bytes: the
/// datanode's receive path and the block scanner. ``consume(_:)`` each chunk, then ``finish()``.
/// Throws `.corrupt` at the first bad header, length or CRC.
///
/// A frame stored with codec none is checked as its pieces arrive (a running CRC over each
/// piece where it lies), so it is never copied, whichever chunks it spans; only a compressed
/// frame that spans chunks is gathered into one buffer (reused) to be decompressed. A datanode
/// receiving a large file in 1 MiB frames used to copy almost every frame once just for this.
public struct FrameVerifier {
    private let decoder: FrameDecoder
    /// Complete frames verified so far, their stored bytes (headers included) and logical bytes.
    public private(set) var frames = 0
    public private(set) var storedBytes: Int64 = 0
    public private(set) var logicalBytes: Int64 = 0

    /// The first bytes of a header that spans chunks.
    private var headerBytes: [UInt8] = []
    /// The frame whose stored bytes are arriving, and how many of them are still to come.
    private var current: FrameHeader?
    private var left = 0
    /// Codec none: the CRC of the stored bytes so far.
    private var crc: UInt32 = 0
    /// Other codecs, a frame that spans chunks: its stored bytes so far.
    private var gathered = ByteBuffer()

    /// `decoder` holds the scratch memory; pass a pooled one to keep it warm across streams.
    public init(decoder: FrameDecoder = FrameDecoder()) {
        self.decoder = decoder
    }

    public mutating func consume(_ chunk: ByteBuffer) throws {
        try chunk.withUnsafeReadableBytes { bytes in
            var at = 0
            while at < bytes.count {
                guard let header = current else {
                    at += try takeHeader(UnsafeRawBufferPointer(rebasing: bytes[at...]))
                    continue
                }
                let piece = UnsafeRawBufferPointer(rebasing: bytes[at..<(at + min(left, bytes.count - at))])
                at += piece.count
                left -= piece.count
                if header.codec == .none {
                    crc = CRC32.checksum(piece, seed: crc)
                    if left == 0 { try completeFrame(header) }
                } else if left == 0 && gathered.readableBytes == 0 {
                    // The whole compressed frame lies in this chunk: checked where it is.
                    try check { try decoder.verify(header: header, stored: piece) }
                    counted(header)
                } else {
                    if gathered.readableBytes == 0 { gathered.clear(minimumCapacity: Int(header.storedLength)) }
                    gathered.writeBytes(piece)
                    if left == 0 { try completeFrame(header) }
                }
            }
        }
    }

    /// Call at the end of the stream: throws `.corrupt` if it stopped inside a frame.
    public func finish() throws {
        guard current == nil && headerBytes.isEmpty else {
            let have = current.map { Int($0.storedLength) - left + FrameHeader.size } ?? headerBytes.count
            let need = current.map { "of the \($0.frameLength) it needs" } ?? "of a frame"
            throw HFSError(.corrupt, "truncated frame: the stream ended with \(have) bytes \(need) at stream offset \(storedBytes)")
        }
    }

    /// Reads a header from the start of `bytes` (or completes one begun in an earlier chunk);
    /// returns the bytes it took.
    private mutating func takeHeader(_ bytes: UnsafeRawBufferPointer) throws -> Int {
        let header: FrameHeader
        let taken: Int
        if headerBytes.isEmpty && bytes.count >= FrameHeader.size {
            header = try check { try FrameHeader.decode(bytes) }
            taken = FrameHeader.size
        } else {
            taken = min(FrameHeader.size - headerBytes.count, bytes.count)
            headerBytes += UnsafeRawBufferPointer(rebasing: bytes[0..<taken])
            guard headerBytes.count == FrameHeader.size else { return taken }
            header = try check { try headerBytes.withUnsafeBytes { try FrameHeader.decode($0) } }
            headerBytes.removeAll(keepingCapacity: true)
        }
        current = header
        left = Int(header.storedLength)
        crc = 0
        if left == 0 { try completeFrame(header) }
        return taken
    }

    /// All stored bytes of `header`'s frame are in: checks what is not checked yet and counts it.
    private mutating func completeFrame(_ header: FrameHeader) throws {
        if header.codec == .none {
            guard crc == header.dataCRC else {
                throw HFSError(.corrupt, "frame: data checksum mismatch (codec none, \(header.logicalLength) logical bytes: header says \(hex(header.dataCRC)), data gives \(hex(crc))) (frame at stream offset \(storedBytes))")
            }
        } else {
            try gathered.withUnsafeReadableBytes { stored in try check { try decoder.verify(header: header, stored: stored) } }
            gathered.clear()
        }
        counted(header)
    }

    private mutating func counted(_ header: FrameHeader) {
        frames += 1
        storedBytes += Int64(header.frameLength)
        logicalBytes += Int64(header.logicalLength)
        current = nil
    }

    /// Runs `body`, naming the frame's stream offset in an error it throws.
    private func check<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as HFSError {
            throw HFSError(error.code, "\(error.message) (frame at stream offset \(storedBytes))")
        }
    }
}
