import AsyncHTTPClient
import Foundation
import HFSCore
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

extension Datanode {
    /// Copies a local block to `targets` through the ordinary write pipeline: the first target
    /// verifies every frame, writes it at offset 0 (cutting away any stale copy it had) and
    /// forwards it; each reports the new replica to the namenode itself.
    func replicate(block id: Int64, to targets: [DatanodeInfo]) async {
        guard let first = targets.first else { return }
        await locks.acquire(id)
        defer { Task { await self.locks.release(id) } }
        guard let length = store.length(id) else {
            logger.warning("asked to copy block \(id), which is not here")
            return
        }
        do {
            let body = BlockFileBody(path: store.path(id), length: length)
            let answer = try await forward(block: id, to: first, rest: Array(targets.dropFirst()), offset: 0, kind: .dedicated,
                                           body: .stream(body, length: .known(Int64(length))))
            guard answer.storedLength == length else {
                throw HFSError(.io, "\(first.id) stored \(answer.storedLength) of \(length) bytes")
            }
            logger.info("copied block \(id) (\(length) bytes) to \(answer.nodes.joined(separator: ","))")
        } catch {
            logger.warning("copy of block \(id) to \(targets.map(\.id).joined(separator: ",")) failed: \(error)")
        }
    }
}

/// A block file read in 1 MiB chunks, as a request body.
struct BlockFileBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let path: String
    let length: Int64

    struct AsyncIterator: AsyncIteratorProtocol {
        let path: String
        let length: Int64
        var offset: Int64 = 0
        var fd: Int32 = -1

        mutating func next() async throws -> ByteBuffer? {
            guard offset < length else {
                if fd >= 0 { close(fd); fd = -1 }
                return nil
            }
            if fd < 0 {
                fd = open(path, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { throw HFSError(.io, "open \(path): \(String(cString: strerror(errno)))") }
            }
            let want = Int(Swift.min(Int64(Limits.frameLogicalBytesMax), length - offset))
            var buffer = ByteBuffer()
            let fd = self.fd, at = offset
            let got = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: want) { raw -> Int in
                let n = pread(fd, raw.baseAddress!, want, off_t(at))
                guard n > 0 else { throw HFSError(.io, "read \(path) at \(at): \(n < 0 ? String(cString: strerror(errno)) : "end of file")") }
                return n
            }
            offset += Int64(got)
            return buffer
        }
    }
    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(path: path, length: length) }
}
