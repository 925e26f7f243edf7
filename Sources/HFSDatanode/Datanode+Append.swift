import AsyncHTTPClient
import Foundation
import HFSCore
import HFSFormat
import HFSServer
import Hummingbird
import NIOCore

/// Request headers of the write pipeline.
public enum PipelineHeader {
    /// The nodes after the receiver, `id@host:port` comma-separated; empty on the last node.
    public static let downstream = "x-hfs-pipeline"
    /// Set by the primary for the nodes after it: the offset the batch must land at.
    public static let offset = "x-hfs-offset"
    /// `packed` or `dedicated`; a packed block refuses appends once it is full.
    public static let kind = "x-hfs-kind"

    public static func encode(_ nodes: [DatanodeInfo]) -> String { nodes.map { "\($0.id)@\($0.address)" }.joined(separator: ",") }
    public static func decode(_ text: String) throws -> [DatanodeInfo] {
        try text.split(separator: ",").map { item in
            let parts = item.split(separator: "@", maxSplits: 1)
            guard parts.count == 2, HostPort(String(parts[1])) != nil else { throw HFSError.invalid("bad pipeline header item '\(item)'") }
            return DatanodeInfo(id: String(parts[0]), address: String(parts[1]), rack: "")
        }
    }
}

extension Datanode {
    /// Appends a stream of frames to a block: verifies every frame, writes it locally and forwards
    /// it to the next node as it arrives, fsyncs, and answers once every node downstream has
    /// answered too. On any failure the local file is cut back to where the append started.
    func append(block id: Int64, request: Request, channel: any Channel) async throws -> AppendResponse {
        let downstream = try PipelineHeader.decode(request.headers[values: .init(PipelineHeader.downstream)!].first ?? "")
        guard downstream.count < Limits.pipelineWidthMax else { throw HFSError.invalid("pipeline longer than \(Limits.pipelineWidthMax)") }
        let expected = request.headers[values: .init(PipelineHeader.offset)!].first.map { Int64($0) ?? -1 }
        let packed = request.headers[values: .init(PipelineHeader.kind)!].first == BlockKind.packed.rawValue

        await locks.acquire(id)
        defer { Task { await self.locks.release(id) } }

        let file = try store.openForAppend(id, direct: config.dropCacheBehindWrites)
        let isNew = store.length(id) == nil
        var offset = try file.size()
        if let expected {
            // Not the primary: land exactly where the primary did. Bytes beyond are the remains
            // of an append that failed further down the pipeline; they were never acknowledged.
            guard expected >= 0, expected <= offset else {
                throw HFSError(.conflict, "\(me.id): block \(id) holds \(offset) bytes, the primary appends at \(String(describing: expected))")
            }
            if expected < offset { try file.truncate(expected) }
            offset = expected
        } else if packed && offset >= config.blockSizeBytes {
            throw HFSError(.conflict, "block \(id) is full")
        }

        let sink = try AppendSink(file: file, offset: offset, store: store)
        defer { sink.releaseClaim() }
        do {
            var nodes = [me.id]
            if let next = downstream.first {
                // The HTTP client reads the request body from a task of its own, which it may
                // leave inside a read when the forward fails. Nothing else may read the body
                // (Hummingbird drains it once this handler returns) nor touch the file until
                // that read is over: hence the gate, closed on every way out. The read in flight
                // ends with the writer's next chunk; a writer that sends nothing more for a while
                // loses its connection, which ends the read too.
                let tee = GatedSequence(TeeBody(base: request.body, sink: sink))
                let answer = try await tee.gate.closing(unstickAfter: .seconds(Limits.stalledWriterSecondsMax),
                                                        unstick: { channel.close(promise: nil) }) {
                    try await forward(block: id, to: next, rest: Array(downstream.dropFirst()), offset: offset,
                                      kind: packed ? .packed : .dedicated, body: .stream(tee, length: .unknown))
                }
                guard answer.offset == offset, answer.storedLength == sink.written else {
                    throw HFSError(.io, "\(next.id) stored \(answer.storedLength) bytes at \(answer.offset), \(me.id) has \(sink.written) at \(offset)")
                }
                nodes += answer.nodes
            } else {
                for try await chunk in request.body { try sink.consume(chunk) }
            }
            try sink.finish()
            // Written around the page cache (direct), or dropped from it once on disk.
            let (start, drop) = (offset, config.dropCacheBehindWrites && !file.direct)
            try await blocking {
                try file.sync()
                if drop { file.dropCache(from: start, count: sink.written) }
            }
            if isNew { store.syncDirectory() }
            store.setLength(id, offset + sink.written)
            await reports.received(id, length: offset + sink.written)
            return AppendResponse(block: id, offset: offset, storedLength: sink.written, nodes: nodes)
        } catch {
            try? file.truncate(offset)
            if isNew && offset == 0 { _ = store.delete(id) } else { store.setLength(id, offset) }
            let e = blame(error)
            if let h = e as? HFSError, h.code == .unavailable, h.node == me.id { logger.warning("append to block \(id) failed: \(h.message)") }
            throw e
        }
    }

    /// A local failure of the service kind (no space, a full disk) names this node, so that the
    /// writer leaves it out of its next pipeline; failures further down name theirs already.
    func blame(_ error: any Error) -> any Error {
        guard var e = error as? HFSError, e.code == .unavailable, e.node == nil else { return error }
        e.node = me.id
        if !e.message.hasPrefix(me.id) { e.message = "datanode \(me.id): \(e.message)" }
        return e
    }

    /// Sends frames to `next` (which forwards them to `rest`) to land at `offset` of block `id`.
    func forward(block id: Int64, to next: DatanodeInfo, rest: [DatanodeInfo], offset: Int64, kind: BlockKind,
                 body: HTTPClientRequest.Body) async throws -> AppendResponse {
        var req = HTTPClientRequest(url: "http://\(next.address)/api/v1/blocks/\(id)/append")
        req.method = .POST
        req.headers.add(name: PipelineHeader.downstream, value: PipelineHeader.encode(rest))
        req.headers.add(name: PipelineHeader.offset, value: "\(offset)")
        req.headers.add(name: PipelineHeader.kind, value: kind.rawValue)
        req.body = body
        let response: HTTPClientResponse
        do { response = try await http.execute(req, timeout: .seconds(Limits.requestTimeoutSeconds)) } catch {
            if let e = error as? HFSError { throw e }
            throw HFSError(.unavailable, "\(me.id) cannot reach datanode \(next.id) (\(next.address)): \(error)", node: next.id)
        }
        let bytes = try await response.body.collect(upTo: 1 << 20)
        guard response.status == .ok else {
            let e = try? JSONDecoder().decode(ErrorBody.self, from: bytes)
            throw e?.error ?? HFSError(.unavailable, "\(next.id) answered \(response.status.code)", node: next.id)
        }
        return try JSONDecoder().decode(AppendResponse.self, from: bytes)
    }
}

/// Verifies and writes the frames of one append. Used by one task at a time (the request body
/// is consumed sequentially), hence `@unchecked Sendable`.
final class AppendSink: @unchecked Sendable {
    let store: BlockStore
    private let appender: BlockAppender
    private var claimed: Int64 = 0
    private var verifier = FrameVerifier()

    init(file: BlockFile, offset: Int64, store: BlockStore) throws {
        self.store = store
        appender = try BlockAppender(file: file, offset: offset)
    }

    var written: Int64 { appender.written }

    func consume(_ chunk: ByteBuffer) throws {
        try store.claim(Int64(chunk.readableBytes))
        claimed += Int64(chunk.readableBytes)
        try verifier.consume(chunk)
        try chunk.withUnsafeReadableBytes { try appender.write($0) }
    }

    /// Every frame complete and every byte in the file (not yet fdatasync'ed).
    func finish() throws {
        try verifier.finish()
        try appender.finish()
    }

    func releaseClaim() {
        store.release(claimed)
        claimed = 0
    }
}

/// The request body as it passes through this node: each chunk is verified and written locally
/// before it is handed to the next node.
struct TeeBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let base: RequestBody
    let sink: AppendSink

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: RequestBody.AsyncIterator
        let sink: AppendSink
        mutating func next() async throws -> ByteBuffer? {
            guard let chunk = try await base.next() else { return nil }
            try sink.consume(chunk)
            return chunk
        }
    }
    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: base.makeAsyncIterator(), sink: sink) }
}
