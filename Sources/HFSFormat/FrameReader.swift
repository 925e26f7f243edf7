import HFSCore
import NIOCore

/// Parses, verifies and decodes a stream of frames arriving in chunks into logical bytes: the
/// read path. ``consume(_:into:)`` each chunk, then ``finish()``. On a throw, the bytes appended
/// by earlier calls came from good frames, but the stream as a whole is bad: discard it.
public struct FrameReader {
    private var parser = FrameStreamParser()
    private let decoder: FrameDecoder
    /// Complete frames decoded so far and their logical bytes.
    public private(set) var frames = 0
    public private(set) var logicalBytes: Int64 = 0
    /// The most logical bytes the stream may hold: a frame that would go past it is `.corrupt`,
    /// before it is decoded (frames of a few stored bytes can each expand to 1 MiB).
    private let logicalBytesMax: Int64

    public init(decoder: FrameDecoder = FrameDecoder(), logicalBytesMax: Int64 = .max) {
        self.decoder = decoder
        self.logicalBytesMax = logicalBytesMax
    }

    /// Appends the logical bytes of every frame completed by `chunk` to `out`.
    public mutating func consume(_ chunk: ByteBuffer, into out: inout ByteBuffer) throws {
        parser.append(chunk)
        while let (header, stored) = try parser.next() {
            let offset = parser.bytesConsumed - Int64(header.frameLength)
            guard Int64(header.logicalLength) <= logicalBytesMax - logicalBytes else {
                throw HFSError(.corrupt, "frames hold more than the \(logicalBytesMax) logical bytes expected (frame at stream offset \(offset))")
            }
            do {
                try stored.withUnsafeReadableBytes { try decoder.decode(header: header, stored: $0, into: &out) }
            } catch let error as HFSError {
                throw HFSError(error.code, "\(error.message) (frame at stream offset \(offset))")
            }
            frames += 1
            logicalBytes += Int64(header.logicalLength)
        }
    }

    /// Call at the end of the stream: throws `.corrupt` if it stopped inside a frame.
    public func finish() throws {
        try parser.finish()
    }
}
