import HFSCore
import NIOCore

/// Checks a stream of frames arriving in chunks without keeping the logical bytes: the
/// datanode's receive path and the block scanner. ``consume(_:)`` each chunk, then ``finish()``.
/// Throws `.corrupt` at the first bad header, length or CRC.
public struct FrameVerifier {
    private var parser = FrameStreamParser()
    private let decoder: FrameDecoder
    /// Complete frames verified so far, their stored bytes (headers included) and logical bytes.
    public private(set) var frames = 0
    public private(set) var storedBytes: Int64 = 0
    public private(set) var logicalBytes: Int64 = 0

    /// `decoder` holds the scratch memory; pass a pooled one to keep it warm across streams.
    public init(decoder: FrameDecoder = FrameDecoder()) {
        self.decoder = decoder
    }

    public mutating func consume(_ chunk: ByteBuffer) throws {
        parser.append(chunk)
        while let (header, stored) = try parser.next() {
            do {
                try stored.withUnsafeReadableBytes { try decoder.verify(header: header, stored: $0) }
            } catch let error as HFSError {
                throw HFSError(error.code, "\(error.message) (frame at stream offset \(storedBytes))")
            }
            frames += 1
            storedBytes += Int64(header.frameLength)
            logicalBytes += Int64(header.logicalLength)
        }
    }

    /// Call at the end of the stream: throws `.corrupt` if it stopped inside a frame.
    public func finish() throws {
        try parser.finish()
    }
}
