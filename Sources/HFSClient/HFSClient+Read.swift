import AsyncHTTPClient
import Foundation
import HFSCore
import HFSFormat
import NIOCore
import NIOFoundationCompat

/// Where read bytes go: called once per verified frame, in order.
public typealias ReadSink = (ByteBuffer) throws -> Void
/// Where read bytes go when extents may arrive out of order: each verified frame with its
/// offset in the file. Called from several tasks at once.
public typealias PositionalSink = @Sendable (ByteBuffer, Int64) throws -> Void

extension HFSClient {
    /// Reads a whole file in order, verifying every frame. Each extent is read from its first
    /// replica; on a checksum mismatch, a refused or broken connection, the read resumes at the
    /// same frame on the next replica. No unverified byte reaches `sink`.
    public func read(_ file: FileLocations, into sink: ReadSink) async throws {
        try checkIsFile(file)
        let decoder = FrameDecoder()
        var total: Int64 = 0
        for (i, e) in file.extents.enumerated() {
            total += try await readExtent(i, e, of: file, decoder: decoder) { buffer, _ in try sink(buffer) }
        }
        try checkTotal(file, total)
    }

    /// Reads a whole file with up to `extentsInFlight` extents (blocks) fetched at once, from
    /// different datanodes where the replicas allow; for sinks that can write at an offset.
    public func read(_ file: FileLocations, extentsInFlight: Int, into sink: @escaping PositionalSink) async throws {
        try checkIsFile(file)
        var starts: [Int64] = []
        var offset: Int64 = 0
        for e in file.extents { starts.append(offset); offset += e.extent.logicalLength }
        let total = try await withThrowingTaskGroup(of: Int64.self) { group in
            var inFlight = 0, total: Int64 = 0
            for (i, (e, start)) in zip(file.extents, starts).enumerated() {
                if inFlight >= extentsInFlight { total += try await group.next() ?? 0; inFlight -= 1 }
                group.addTask {
                    try await self.readExtent(i, e, of: file, decoder: FrameDecoder()) { buffer, within in
                        try sink(buffer, start + within)
                    }
                }
                inFlight += 1
            }
            for try await n in group { total += n }
            return total
        }
        try checkTotal(file, total)
    }

    private func checkIsFile(_ file: FileLocations) throws {
        guard file.status.type == .file else { throw HFSError(.isADirectory, "is a directory: \(file.status.path)") }
    }

    private func checkTotal(_ file: FileLocations, _ total: Int64) throws {
        guard total == file.status.size else {
            throw HFSError(.corrupt, "\(file.status.path): read \(total) bytes, the namenode says \(file.status.size)")
        }
    }

    /// Reads extent `index` of `file`. When no replica has its block any more (a compaction
    /// moved the file's bytes after `file` was looked up, and the old block is gone), the file's
    /// locations are fetched again, once, and the extent is read where it is now.
    private func readExtent(_ index: Int, _ e: ExtentLocation, of file: FileLocations, decoder: FrameDecoder,
                            sink: (ByteBuffer, Int64) throws -> Void) async throws -> Int64 {
        do {
            return try await readExtent(e, path: file.status.path, decoder: decoder, sink: sink)
        } catch let moved as HFSError where moved.code == .notFound {
            let now = try await locations(HFSPath(file.status.path))
            guard now.status.size == file.status.size, now.extents.count == file.extents.count,
                  now.extents[index].extent.logicalLength == e.extent.logicalLength,
                  now.extents[index].extent != e.extent else { throw moved }
            return try await readExtent(now.extents[index], path: file.status.path, decoder: decoder, sink: sink)
        }
    }

    /// Reads one extent; `sink` gets each verified frame's logical bytes and their offset
    /// within the extent. Returns the extent's logical length. Throws `.notFound` when every
    /// replica answered that it does not have the block, before any byte was read.
    private func readExtent(_ e: ExtentLocation, path: String, decoder: FrameDecoder,
                            sink: (ByteBuffer, Int64) throws -> Void) async throws -> Int64 {
        let start = e.extent.offset, end = e.extent.offset + e.extent.storedLength
        var pos = start
        var logical: Int64 = 0
        var failures: [String] = []
        var notFound = 0
        for replica in e.replicas where pos < end {
            do {
                var req = HTTPClientRequest(url: "http://\(replica.address)/api/v1/blocks/\(e.extent.block)?offset=\(pos)&length=\(end - pos)")
                req.method = .GET
                let response: HTTPClientResponse
                do { response = try await http.execute(req, timeout: .seconds(Limits.requestTimeoutSeconds)) } catch {
                    throw HFSError(.unavailable, Self.describe(error))
                }
                guard response.status == .ok else {
                    let bytes = try await response.body.collect(upTo: 1 << 20)
                    throw Self.remoteError(bytes, status: Int(response.status.code), from: "datanode \(replica.id)")
                }
                var parser = FrameStreamParser()
                var out = ByteBuffer()
                for try await chunk in response.body {
                    parser.append(chunk)
                    while let frame = try parser.next() {
                        if frame.header.codec == .none {
                            // Stored bytes are the logical bytes: verify and pass them on as they are.
                            try frame.stored.withUnsafeReadableBytes { try decoder.verify(header: frame.header, stored: $0) }
                            try sink(frame.stored, logical)
                        } else {
                            out.clear()
                            try frame.stored.withUnsafeReadableBytes { try decoder.decode(header: frame.header, stored: $0, into: &out) }
                            try sink(out, logical)
                        }
                        pos += Int64(frame.header.frameLength)
                        logical += Int64(frame.header.logicalLength)
                    }
                }
                try parser.finish()
                guard pos == end else { throw HFSError(.unavailable, "short read: \(end - pos) bytes missing") }
            } catch let error as HFSError where error.code == .io && error.message.hasPrefix("local:") {
                throw error  // the local side failed (disk full...): another replica will not help
            } catch {
                failures.append("\(replica.id): \(Self.describe(error))")
                if let gone = error as? HFSError, gone.code == .notFound { notFound += 1 }
                if let bad = error as? HFSError, bad.code == .corrupt {
                    // Best effort: the read goes on from the next replica whatever the answer.
                    let _: OKAnswer? = try? await post("blocks/bad", BadReplicaRequest(block: e.extent.block, datanode: replica.id, reason: bad.message))
                }
            }
        }
        guard pos == end else {
            let why = failures.isEmpty ? "no live replica" : failures.joined(separator: "; ")
            if pos == start, !e.replicas.isEmpty, notFound == e.replicas.count {
                throw HFSError(.notFound, "cannot read \(path): block \(e.extent.block): \(why)")
            }
            throw HFSError(e.replicas.isEmpty ? .unavailable : .corrupt,
                           "cannot read \(path): block \(e.extent.block): \(why)")
        }
        guard logical == e.extent.logicalLength else {
            throw HFSError(.corrupt, "\(path): block \(e.extent.block) gave \(logical) bytes, expected \(e.extent.logicalLength)")
        }
        return logical
    }
}

/// A local file being written by `get`. Bytes reach it only once verified; if the read fails
/// the file is removed, so a failed get leaves no half file behind.
public final class LocalFileSink: @unchecked Sendable {
    let fd: Int32
    let path: String
    private var done = false

    public init(path: String) throws {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw HFSError(.io, "local: cannot create \(path): \(String(cString: strerror(errno)))") }
    }

    deinit {
        close(fd)
        if !done { unlink(path) }
    }

    /// Writes `buffer` at `offset` in the file (pwrite: safe from several tasks at once).
    public func write(_ buffer: ByteBuffer, at offset: Int64) throws {
        try buffer.withUnsafeReadableBytes { raw in
            var off = 0
            while off < raw.count {
                let n = pwrite(fd, raw.baseAddress! + off, raw.count - off, off_t(offset) + off_t(off))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw HFSError(.io, "local: write \(path): \(String(cString: strerror(errno)))")
                }
                off += n
            }
        }
    }

    /// Keeps the file: every byte was verified.
    public func commit() { done = true }
}
