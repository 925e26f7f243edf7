import AsyncHTTPClient
import Foundation
import HFSCore
import HFSServer
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

    /// Compaction: copies the live ranges of local block `id` back to back into the plan's new
    /// block through `targets` (this node first, as a rule), then tells the namenode, which
    /// switches the files over. Frames are verified by every node they land on.
    func compact(block id: Int64, plan: CompactionPlan, targets: [DatanodeInfo]) async {
        var ack: AppendResponse?
        var failure: String?
        do {
            guard let first = targets.first else { throw HFSError.invalid("no pipeline for the compaction of block \(id)") }
            guard let length = store.length(id) else { throw HFSError.notFound("\(me.id): no block \(id)") }
            guard plan.ranges.allSatisfy({ Limits.range(offset: $0.offset, length: $0.length, fitsIn: length) }) else {
                throw HFSError(.conflict, "\(me.id): a range of the plan lies outside block \(id) of \(length) bytes")
            }
            let body = BlockFileBody(path: store.path(id), ranges: plan.ranges)
            let answer = try await forward(block: plan.newBlock, to: first, rest: Array(targets.dropFirst()), offset: 0, kind: .packed,
                                           body: .stream(body, length: .known(body.totalLength)))
            guard answer.storedLength == body.totalLength else {
                throw HFSError(.io, "\(first.id) stored \(answer.storedLength) of \(body.totalLength) bytes")
            }
            ack = answer
        } catch {
            failure = "\(error)"
            logger.warning("compaction of block \(id) into \(plan.newBlock) failed: \(error)")
        }
        do {
            let _: OK = try await post("blocks/compacted", CompactedRequest(block: id, plan: plan, ack: ack, error: failure))
            if ack != nil { logger.info("block \(id) compacted into block \(plan.newBlock)") }
        } catch {
            logger.warning("compaction of block \(id): the namenode refused it: \(error)")
        }
    }
}

/// Byte ranges of a block file read in chunks of at most 1 MiB, one range after the other, as
/// a request body.
struct BlockFileBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let path: String
    let ranges: [ByteRange]

    init(path: String, length: Int64) { self.init(path: path, ranges: [ByteRange(offset: 0, length: length)]) }
    init(path: String, ranges: [ByteRange]) { self.path = path; self.ranges = ranges.filter { $0.length > 0 } }

    var totalLength: Int64 { ranges.reduce(0) { $0 + $1.length } }

    struct AsyncIterator: AsyncIteratorProtocol {
        let path: String
        let ranges: [ByteRange]
        var index = 0
        var done: Int64 = 0  // bytes of ranges[index] read so far
        /// Open from the first read until the end, or until the iterator goes (a copy that
        /// failed half way leaves no descriptor behind).
        var file: OpenFile?

        mutating func next() async throws -> ByteBuffer? {
            if index < ranges.count, done == ranges[index].length { index += 1; done = 0 }
            guard index < ranges.count else {
                file = nil
                return nil
            }
            if file == nil {
                let fd = open(path, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { throw HFSError(.io, "open \(path): \(String(cString: strerror(errno)))") }
                file = OpenFile(fd: fd)
            }
            let fd = file!.fd
            let r = ranges[index]
            let want = Int(Swift.min(Int64(Limits.frameLogicalBytesMax), r.length - done))
            var buffer = ByteBuffer()
            let at = r.offset + done
            let got = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: want) { raw -> Int in
                let n = pread(fd, raw.baseAddress!, want, off_t(at))
                guard n > 0 else { throw HFSError(.io, "read \(path) at \(at): \(n < 0 ? String(cString: strerror(errno)) : "end of file")") }
                return n
            }
            done += Int64(got)
            return buffer
        }
    }
    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(path: path, ranges: ranges) }
}

/// A file descriptor closed when the last reference goes.
final class OpenFile: Sendable {
    let fd: Int32
    init(fd: Int32) { self.fd = fd }
    deinit { close(fd) }
}
