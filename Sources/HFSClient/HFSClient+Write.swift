import AsyncHTTPClient
import Foundation
import HFSCore
import HFSFormat
import NIOConcurrencyHelpers
import NIOCore
import NIOFoundationCompat

public struct PutOptions: Sendable {
    public var overwrite = false
    /// nil: the cluster's replication.
    public var replication: Int?
    /// nil: the cluster's codec policy.
    public var codec: CodecPolicy?
    public init(overwrite: Bool = false, replication: Int? = nil, codec: CodecPolicy? = nil) {
        self.overwrite = overwrite; self.replication = replication; self.codec = codec
    }
}

/// Where the bytes of one put come from.
public enum PutSource: Sendable {
    case file(String)
    case stdin
}

public struct PutItem: Sendable {
    public var source: PutSource
    public var remote: HFSPath
    public init(source: PutSource, remote: HFSPath) { self.source = source; self.remote = remote }
}

public struct PutSummary: Sendable {
    public var files = 0
    public var logicalBytes: Int64 = 0
    public var storedBytes: Int64 = 0
}

extension HFSClient {
    /// Stores every item. Small files travel in batches appended to packed blocks, one namenode
    /// commit per batch, several batches in flight; large files are streamed frame by frame into
    /// dedicated blocks and never held in memory. A file is visible once its commit returns.
    public func put(_ items: [PutItem], options: PutOptions) async throws -> PutSummary {
        let cluster = try await info()
        let replication = options.replication ?? cluster.replication
        guard (1...Limits.replicationMax).contains(replication) else {
            throw HFSError.invalid("--replication \(replication) is outside 1...\(Limits.replicationMax)")
        }
        let policy = options.codec ?? cluster.codec
        let ctx = WriteContext(client: self, replication: replication, policy: policy, blockSizeBytes: cluster.blockSizeBytes,
                               smallFileBytesMax: Int(cluster.smallFileBytesMax), overwrite: options.overwrite)
        var summary = PutSummary()
        let encoder = FrameEncoder(policy: policy)
        var batch = PackedBatch(body: ctx.bodies.take())
        try await withThrowingTaskGroup(of: PutSummary.self) { group in
            var inFlight = 0
            func dispatch(_ b: PackedBatch) async throws {
                if inFlight >= Limits.packedBatchesInFlightMax {
                    if let s = try await group.next() { summary.add(s) }
                    inFlight -= 1
                }
                group.addTask { try await ctx.upload(b) }
                inFlight += 1
            }
            for item in items {
                let mtime = Date().timeIntervalSince1970
                let source = try LocalSource.open(item.source)
                defer { source.close() }
                // A small regular file goes straight into the batch; stdin, and a file whose size
                // changes under the read, are read as a stream, small or large.
                var added = false
                if let size = try source.fileSize(), size <= ctx.smallFileBytesMax {
                    added = try batch.add(remote: item.remote, reading: source, size: size, mtime: mtime, encoder: encoder)
                }
                if !added {
                    let prefix = try source.readPrefix(upTo: ctx.smallFileBytesMax + 1)
                    guard prefix.count <= ctx.smallFileBytesMax else {
                        summary.add(try await ctx.uploadLarge(source: source, prefix: prefix, remote: item.remote, mtime: mtime))
                        continue
                    }
                    batch.add(remote: item.remote, bytes: prefix, mtime: mtime, encoder: encoder)
                }
                if batch.isFull { try await dispatch(batch); batch = PackedBatch(body: ctx.bodies.take()) }
            }
            if !batch.files.isEmpty { try await dispatch(batch) }
            for try await s in group { summary.add(s) }
        }
        return summary
    }
}

extension PutSummary {
    mutating func add(_ o: PutSummary) {
        files += o.files; logicalBytes += o.logicalBytes; storedBytes += o.storedBytes
    }
}

/// Small files framed into one request body, with where each file sits in it.
struct PackedBatch: Sendable {
    struct File: Sendable {
        var remote: HFSPath
        var size: Int64
        var relativeOffset: Int64
        var storedLength: Int64
        var mtime: Double
        var image: ImageAttributes?
    }
    var files: [File] = []
    var body: ByteBuffer

    init(body: ByteBuffer = ByteBuffer()) { self.body = body }

    var isFull: Bool { files.count >= Limits.packedBatchFilesMax || body.readableBytes >= Limits.packedBatchBytesMax }

    mutating func add(remote: HFSPath, bytes: [UInt8], mtime: Double, encoder: FrameEncoder, image: ImageAttributes? = nil) {
        let start = Int64(body.readableBytes)
        let content = ImageMagic.kind(bytes)
        let stored = bytes.withUnsafeBytes { encoder.encode($0, content: content, into: &body) }
        files.append(File(remote: remote, size: Int64(bytes.count), relativeOffset: start, storedLength: Int64(stored), mtime: mtime,
                          image: image))
    }

    /// Adds a regular file of `size` bytes read straight into the body (its bytes are not copied
    /// on the way). False, with the body as it was and the source rewound, when the file turns
    /// out not to be `size` bytes long any more (it is being written): read it as a stream then.
    mutating func add(remote: HFSPath, reading source: LocalSource, size: Int, mtime: Double, encoder: FrameEncoder) throws -> Bool {
        let start = body.writerIndex
        let stored: Int
        do {
            stored = try encoder.encode(count: size, into: &body, content: { ImageMagic.kind($0) },
                                        read: { try source.readExactly(into: $0) })
        } catch is LocalSource.SizeChanged {
            try source.rewind()
            return false
        }
        let atEnd: Bool
        do { atEnd = try source.isAtEnd() } catch {
            body.moveWriterIndex(to: start)
            throw error
        }
        guard atEnd else {
            body.moveWriterIndex(to: start)
            try source.rewind()
            return false
        }
        files.append(File(remote: remote, size: Int64(size), relativeOffset: Int64(start - body.readerIndex), storedLength: Int64(stored),
                          mtime: mtime, image: nil))
        return true
    }
}

/// Bodies of packed batches kept for the next batches of the same put or ingest: a fresh body
/// faults in a page for every 4 KiB it fills, which on this VM costs several times the copy
/// itself (free memory goes back to the host: docs/BENCHMARKS.md, session 4); a reused one is
/// warm. A body still referenced elsewhere when it is taken again is replaced, not shared.
final class BatchBodies: Sendable {
    private let spare = NIOLockedValueBox<[ByteBuffer]>([])

    func take() -> ByteBuffer {
        if var body = spare.withLockedValue({ $0.popLast() }) {
            body.clear()
            return body
        }
        // Room for a full batch plus the one file that tips it over.
        return ByteBufferAllocator().buffer(capacity: Limits.packedBatchBytesMax + Limits.smallFileBytesMax + (64 << 10))
    }

    /// Keeps `body` for a later batch, up to one per batch in flight.
    func give(_ body: ByteBuffer) {
        spare.withLockedValue { if $0.count < Limits.packedBatchesInFlightMax { $0.append(body) } }
    }
}

/// Everything one put needs on its tasks.
struct WriteContext: Sendable {
    let client: HFSClient
    let replication: Int
    let policy: CodecPolicy
    let blockSizeBytes: Int64
    let smallFileBytesMax: Int
    let overwrite: Bool
    let bodies = BatchBodies()

    /// Appends a batch to a packed block (retrying on another block when one is full or its
    /// pipeline fails), then commits its files in one namenode request.
    func upload(_ batch: PackedBatch) async throws -> PutSummary {
        let placed = try await append(batch)
        var summary = PutSummary()
        for f in batch.files { summary.files += 1; summary.logicalBytes += f.size; summary.storedBytes += f.storedLength }
        try await client.commit(placed.files, acks: placed.acks, overwrite: overwrite)
        bodies.give(batch.body)
        return summary
    }

    /// Appends a batch's frames to a packed block and returns the files to commit (with their
    /// extents) and the block's acknowledgement, without committing.
    func append(_ batch: PackedBatch) async throws -> (files: [NewFile], acks: [BlockAck]) {
        var ack: AppendResponse?
        var block: Int64 = 0
        if batch.body.readableBytes > 0 {
            var full: Int64?
            var exclude: [String] = []
            var lastError: HFSError?
            for _ in 0..<Limits.packedAppendAttemptsMax {
                let alloc = try await client.allocate(AllocateBlockRequest(kind: .packed, replication: replication, fullBlock: full, excludeNodes: exclude),
                                                      after: lastError)
                full = nil
                do {
                    ack = try await client.appendToPipeline(alloc, kind: .packed, body: .bytes(batch.body))
                    block = alloc.block
                    break
                } catch let e as HFSError where e.code == .conflict && e.message.hasSuffix("is full") {
                    full = alloc.block
                } catch let e as HFSError where e.code == .unavailable {
                    // A node of the pipeline is down (the namenode may not know yet): the next
                    // pipeline leaves it out.
                    lastError = e
                    if let node = e.node { exclude.append(node) }
                }
            }
            guard ack != nil else { throw lastError ?? HFSError(.unavailable, "no packed block could take a batch of \(batch.files.count) files") }
        }
        let files = batch.files.map { f in
            let extents = f.size == 0 ? [] : [Extent(block: block, offset: ack!.offset + f.relativeOffset, storedLength: f.storedLength, logicalLength: f.size)]
            return NewFile(path: f.remote.description, size: f.size, storedSize: f.storedLength, replication: replication,
                           codec: policy.rawValue, mtime: f.mtime, extents: extents, image: f.image)
        }
        let acks = ack.map { [BlockAck(block: block, length: $0.offset + $0.storedLength, nodes: $0.nodes)] } ?? []
        return (files, acks)
    }

    /// Streams a large file into dedicated blocks of `blockSizeBytes` logical bytes each, then
    /// commits it. When a pipeline node fails (unreachable, or its disk full), that block is
    /// sent again to a new pipeline without the node, from the file read again at the block's
    /// first byte (or from memory; stdin from its spool, see ``LocalSource``).
    func uploadLarge(source: LocalSource, prefix: [UInt8], remote: HFSPath, mtime: Double,
                     image: ImageAttributes? = nil) async throws -> PutSummary {
        var producer = try FrameProducer(source: source, prefix: prefix, policy: policy)
        let content = producer.content
        var extents: [Extent] = []
        var acks: [BlockAck] = []
        var stored: Int64 = 0
        var sent: Int64 = 0  // logical bytes of the blocks stored so far
        var exclude: [String] = []
        var lastError: HFSError?
        var reopened: [LocalSource] = []
        defer { for r in reopened { r.close() } }
        while !producer.atEnd {
            var failures = 0
            while true {
                let alloc = try await client.allocate(AllocateBlockRequest(kind: .dedicated, replication: replication, excludeNodes: exclude),
                                                      after: lastError)
                producer.startBlock(limit: blockSizeBytes)
                // The HTTP client may still be inside a read of the body when the request
                // fails: once the gate is closed, the producer (and the input under it) is ours.
                let body = GatedSequence(FrameBody(producer: producer))
                do {
                    let answer = try await body.gate.closing {
                        try await client.appendToPipeline(alloc, kind: .dedicated, body: .stream(body, length: .unknown))
                    }
                    try producer.check()
                    extents.append(Extent(block: alloc.block, offset: answer.offset, storedLength: answer.storedLength, logicalLength: producer.blockLogicalBytes))
                    acks.append(BlockAck(block: alloc.block, length: answer.offset + answer.storedLength, nodes: answer.nodes))
                    stored += answer.storedLength
                    sent += producer.blockLogicalBytes
                    try source.stored(upTo: sent)
                    break
                } catch let e as HFSError where e.code == .unavailable && e.node != nil && failures < 3 {
                    // Best effort: the partial replicas go now, and on the failed node when it
                    // returns; if the namenode does not hear it, the block is retired as
                    // uncommitted later (Limits.uncommittedBlockAgeSecondsMin).
                    try? await client.abandon(alloc.block)
                    // Start afresh at the block's first byte: from memory, from the file opened
                    // again, or (stdin) from what this put kept of it.
                    if source.isInMemory {
                        producer = try FrameProducer(source: source, prefix: Array(prefix[Int(sent)...]), policy: policy, content: content)
                    } else {
                        guard let again = try source.reopened(at: sent) else { throw e }
                        reopened.append(again)
                        producer = try FrameProducer(source: again, prefix: [], policy: policy, content: content)
                    }
                    exclude.append(e.node!)
                    lastError = e
                    failures += 1
                }
            }
        }
        let size = sent
        try await client.commit([NewFile(path: remote.description, size: size, storedSize: stored, replication: replication,
                                         codec: policy.rawValue, mtime: mtime, extents: extents, image: image)],
                                acks: acks, overwrite: overwrite)
        return PutSummary(files: 1, logicalBytes: size, storedBytes: stored)
    }
}

extension HFSClient {
    /// A new block; when it is asked for after a pipeline failed (`failure`) and cannot be
    /// placed, the error says both what failed and why there is no other pipeline.
    func allocate(_ r: AllocateBlockRequest, after failure: HFSError?) async throws -> AllocateBlockResponse {
        do { return try await allocate(r) } catch let e as HFSError where failure != nil {
            throw HFSError(e.code, "\(failure!.message); no other pipeline: \(e.message)")
        }
    }

    /// Sends frames to the first node of a pipeline, which forwards them down the rest.
    func appendToPipeline(_ alloc: AllocateBlockResponse, kind: BlockKind, body: HTTPClientRequest.Body) async throws -> AppendResponse {
        guard let primary = alloc.pipeline.first else { throw HFSError(.unavailable, "empty pipeline for block \(alloc.block)") }
        var req = HTTPClientRequest(url: "http://\(primary.address)/api/v1/blocks/\(alloc.block)/append")
        req.method = .POST
        req.headers.add(name: "x-hfs-pipeline", value: alloc.pipeline.dropFirst().map { "\($0.id)@\($0.address)" }.joined(separator: ","))
        req.headers.add(name: "x-hfs-kind", value: kind.rawValue)
        req.body = body
        let response: HTTPClientResponse
        do { response = try await dataHTTP.execute(req, timeout: .seconds(Limits.requestTimeoutSeconds)) } catch {
            if let e = error as? HFSError { throw e }
            throw HFSError(.unavailable, "cannot reach datanode \(primary.id) at \(primary.address): \(Self.describe(error))", node: primary.id)
        }
        let bytes = try await response.body.collect(upTo: 1 << 20)
        guard response.status == .ok else { throw Self.remoteError(bytes, status: Int(response.status.code), from: "datanode \(primary.id)") }
        let answer = try JSONDecoder().decode(AppendResponse.self, from: bytes)
        guard Set(answer.nodes) == Set(alloc.pipeline.map(\.id)) else {
            throw HFSError(.unavailable, "block \(alloc.block): pipeline acknowledged by \(answer.nodes) only")
        }
        return answer
    }
}

/// A local file or stdin, read sequentially with a reused buffer.
final class LocalSource: @unchecked Sendable {
    let fd: Int32
    let name: String
    private let owned: Bool
    private(set) var eof = false
    /// Stdin only: every byte read so far that a new pipeline may need again.
    private let spool: Spool?
    /// Whether closing this source closes the spool (sources reopened from it share it).
    private let ownsSpool: Bool
    /// Of a source reading through the spool: the next stream offset it returns.
    private var position: Int64 = 0
    /// Stdin that is a regular file: where it was positioned when the put began.
    private var stdinFileStart: off_t = -1

    private init(fd: Int32, name: String, owned: Bool, spool: Spool? = nil, ownsSpool: Bool = false) {
        self.fd = fd; self.name = name; self.owned = owned; self.spool = spool; self.ownsSpool = ownsSpool
    }

    /// A source with nothing left to read: for bytes already in memory, passed as the prefix.
    static func exhausted(name: String) -> LocalSource {
        let s = LocalSource(fd: -1, name: name, owned: false)
        s.eof = true
        return s
    }

    static func open(_ s: PutSource) throws -> LocalSource {
        switch s {
        case .stdin:
            // A regular file on stdin is opened again to be read twice (see reopened(at:));
            // a pipe goes through a spool (where $TMPDIR takes no file: a warning, and a
            // pipeline failure during a large put from that pipe fails the put).
            var st = stat()
            if fstat(0, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG {
                let source = LocalSource(fd: 0, name: "stdin", owned: false)
                source.stdinFileStart = lseek(0, 0, SEEK_CUR)
                return source
            }
            let spool: Spool?
            do { spool = try Spool(input: 0) } catch {
                FileHandle.standardError.write(Data("hfs: warning: \(error); a datanode failure during this put will fail it\n".utf8))
                spool = nil
            }
            return LocalSource(fd: 0, name: "stdin", owned: false, spool: spool, ownsSpool: true)
        case .file(let path):
            let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw HFSError(.notFound, "cannot open \(path): \(String(cString: strerror(errno)))") }
            return LocalSource(fd: fd, name: path, owned: true)
        }
    }

    func close() {
        if owned { Glibc.close(fd) }
        if ownsSpool { spool?.close() }
    }

    /// All its bytes were handed over as the prefix (``exhausted(name:)``).
    var isInMemory: Bool { fd < 0 && spool == nil }

    /// The same input again from `offset`: the file opened again, or stdin replayed from its
    /// spool (nil when the spool no longer holds `offset`).
    func reopened(at offset: Int64) throws -> LocalSource? {
        if let spool {
            guard offset >= spool.base else { return nil }
            let again = LocalSource(fd: fd, name: name, owned: false, spool: spool)
            again.position = offset
            return again
        }
        let start: off_t
        let again: LocalSource
        if owned {
            again = try LocalSource.open(.file(name))
            start = 0
        } else if stdinFileStart >= 0 {
            // Its own open file description: the original offset of fd 0 stays where it was.
            let fd = Glibc.open("/proc/self/fd/0", O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { return nil }
            again = LocalSource(fd: fd, name: name, owned: true)
            start = stdinFileStart
        } else {
            return nil
        }
        guard lseek(again.fd, start + off_t(offset), SEEK_SET) == start + off_t(offset) else {
            again.close()
            throw HFSError(.io, "seek \(name) to \(offset): \(String(cString: strerror(errno)))")
        }
        return again
    }

    /// Every byte before stream offset `offset` is stored for good: the spool forgets them.
    func stored(upTo offset: Int64) throws { try spool?.forget(before: offset) }

    /// The file's size, when it is a file of its own (not stdin) and a regular one.
    func fileSize() throws -> Int? {
        guard owned else { return nil }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw HFSError(.io, "stat \(name): \(String(cString: strerror(errno)))") }
        return (st.st_mode & S_IFMT) == S_IFREG ? Int(st.st_size) : nil
    }

    /// The input ended before a read the size promised was filled.
    struct SizeChanged: Error {}

    /// Fills `dst` or throws ``SizeChanged``.
    func readExactly(into dst: UnsafeMutableRawBufferPointer) throws {
        guard try read(into: dst) == dst.count else { throw SizeChanged() }
    }

    /// Whether nothing follows what was read (reads one byte to find out).
    func isAtEnd() throws -> Bool {
        var byte: UInt8 = 0
        return try withUnsafeMutableBytes(of: &byte) { try read(into: $0) } == 0
    }

    /// Back to the first byte of a file of its own.
    func rewind() throws {
        precondition(owned && spool == nil, "only a file of its own is rewound")
        guard lseek(fd, 0, SEEK_SET) == 0 else { throw HFSError(.io, "seek \(name): \(String(cString: strerror(errno)))") }
        eof = false
    }

    /// Reads up to `count` bytes into `dst`; fewer only at end of input.
    func read(into dst: UnsafeMutableRawBufferPointer) throws -> Int {
        if let spool {
            let n = try spool.read(at: position, into: dst, name: name)
            position += Int64(n)
            if n < dst.count { eof = true }
            return n
        }
        var done = 0
        while done < dst.count {
            let n = Glibc.read(fd, dst.baseAddress! + done, dst.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw HFSError(.io, "read \(name): \(String(cString: strerror(errno)))")
            }
            if n == 0 { eof = true; break }
            done += n
        }
        return done
    }

    /// Reads up to `count` bytes. A regular file is read into a buffer of its own size (a small
    /// image does not cost a `count`-sized allocation); stdin grows its buffer as it goes.
    func readPrefix(upTo count: Int) throws -> [UInt8] {
        var st = stat()
        let known = fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG ? Int(st.st_size) : nil
        // A regular file is read in one go into a buffer of its size (+1 to notice growth).
        var want = min(count, known.map { $0 + 1 } ?? (64 << 10))
        var out = try readBytes(want)
        while !eof && out.count < count {
            want = min(count - out.count, max(out.count, 64 << 10))
            out += try readBytes(want)
        }
        return out
    }

    private func readBytes(_ n: Int) throws -> [UInt8] {
        try [UInt8](unsafeUninitializedCapacity: n) { buf, got in
            got = try read(into: UnsafeMutableRawBufferPointer(buf))
        }
    }
}

/// What a put read from a stdin pipe and may have to send again: the bytes from the first one not
/// yet in a stored block (`base`) to the last one read (`end`), in an unlinked temporary file in
/// `$TMPDIR` (about one block at most), not in the process's memory. Such a stdin is read only
/// through it.
final class Spool: @unchecked Sendable {
    // @unchecked: used by one upload at a time, whose readers take turns (FrameBody's gate).
    private let input: Int32
    private let fd: Int32
    private(set) var base: Int64 = 0
    private var end: Int64 = 0
    private var inputEnded = false

    init(input: Int32) throws {
        var template = Array((NSTemporaryDirectory() + "/hfs-stdin-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw HFSError(.io, "local: cannot create a spool file for stdin in \(NSTemporaryDirectory()): \(String(cString: strerror(errno)))") }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        self.input = input
        self.fd = fd
    }

    func close() { Glibc.close(fd) }

    /// Reads from stream offset `at` (≥ `base`): spooled bytes first, then new input, which is
    /// spooled as it comes. Fewer than `dst.count` bytes only at the end of the input.
    func read(at: Int64, into dst: UnsafeMutableRawBufferPointer, name: String) throws -> Int {
        guard at >= base && at <= end else { throw HFSError(.io, "local: stdin spool holds \(base)..<\(end), not \(at)") }
        var done = 0
        while done < dst.count {
            let pos = at + Int64(done)
            if pos < end {
                let n = pread(fd, dst.baseAddress! + done, min(dst.count - done, Int(end - pos)), off_t(pos - base))
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw HFSError(.io, "local: read the stdin spool: \(n < 0 ? String(cString: strerror(errno)) : "end of file")") }
                done += n
                continue
            }
            if inputEnded { break }
            let n = Glibc.read(input, dst.baseAddress! + done, dst.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw HFSError(.io, "read \(name): \(String(cString: strerror(errno)))")
            }
            if n == 0 { inputEnded = true; break }
            try write(UnsafeRawBufferPointer(start: dst.baseAddress! + done, count: n), at: end)
            end += Int64(n)
            done += n
        }
        return done
    }

    /// Drops the bytes before `offset`: the rest (read ahead, less than a frame or the first
    /// bytes) moves to the start of the file.
    func forget(before offset: Int64) throws {
        guard offset > base else { return }
        let keep = Int(end - offset)
        var rest = [UInt8](repeating: 0, count: keep)
        if keep > 0 {
            let n = rest.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, keep, off_t(offset - base)) }
            guard n == keep else { throw HFSError(.io, "local: read the stdin spool: \(String(cString: strerror(errno)))") }
        }
        guard ftruncate(fd, 0) == 0 else { throw HFSError(.io, "local: truncate the stdin spool: \(String(cString: strerror(errno)))") }
        base = offset
        try rest.withUnsafeBytes { try write($0, at: offset) }
    }

    private func write(_ bytes: UnsafeRawBufferPointer, at pos: Int64) throws {
        let err = Posix.writeAll(fd, bytes, at: pos - base)
        if err != 0 { throw HFSError(.io, "local: write the stdin spool in \(NSTemporaryDirectory()): \(String(cString: strerror(err)))") }
    }
}

/// Produces the frames of a large file block by block: it holds one frame's worth of logical
/// bytes read ahead (so it knows whether more input follows) and encodes a frame per `next()`.
final class FrameProducer: @unchecked Sendable {
    let source: LocalSource
    let encoder: FrameEncoder
    private var prefix: [UInt8]
    private var prefixUsed = 0
    private let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: Limits.frameLogicalBytesMax, alignment: 16)
    private var pending = 0
    let content: ContentKind
    private var limit: Int64 = 0
    private(set) var blockLogicalBytes: Int64 = 0
    private(set) var totalLogicalBytes: Int64 = 0
    private var failure: (any Error)?

    /// `content` nil: judged from `prefix` (the file's first bytes).
    init(source: LocalSource, prefix: [UInt8], policy: CodecPolicy, content: ContentKind? = nil) throws {
        self.source = source
        self.prefix = prefix
        self.encoder = FrameEncoder(policy: policy)
        self.content = content ?? ImageMagic.kind(prefix)
        try refill()
    }
    deinit { scratch.deallocate() }

    /// True once every byte of input has been handed out.
    var atEnd: Bool { pending == 0 }

    func startBlock(limit: Int64) { self.limit = limit; blockLogicalBytes = 0 }

    /// Rethrows a read error that ended a block's body early.
    func check() throws { if let failure { throw failure } }

    private func refill() throws {
        while pending < scratch.count {
            if prefixUsed < prefix.count {
                let n = min(scratch.count - pending, prefix.count - prefixUsed)
                prefix.withUnsafeBytes { (scratch.baseAddress! + pending).copyMemory(from: $0.baseAddress! + prefixUsed, byteCount: n) }
                prefixUsed += n
                pending += n
                if prefixUsed == prefix.count { prefix = []; prefixUsed = 0 }
            } else if !source.eof {
                pending += try source.read(into: UnsafeMutableRawBufferPointer(rebasing: scratch[pending...]))
            } else {
                return
            }
        }
    }

    func next() -> ByteBuffer? {
        guard pending > 0, blockLogicalBytes < limit, failure == nil else { return nil }
        let n = Int(min(Int64(pending), limit - blockLogicalBytes))
        var out = ByteBuffer()
        out.reserveCapacity(n + FrameHeader.size + 64)
        _ = encoder.encode(UnsafeRawBufferPointer(rebasing: scratch[0..<n]), content: content, into: &out)
        if n < pending { memmove(scratch.baseAddress!, scratch.baseAddress! + n, pending - n) }
        pending -= n
        blockLogicalBytes += Int64(n)
        totalLogicalBytes += Int64(n)
        do { try refill() } catch { failure = error }
        return out
    }
}

/// A block's frames as a request body.
struct FrameBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let producer: FrameProducer
    struct AsyncIterator: AsyncIteratorProtocol {
        let producer: FrameProducer
        mutating func next() async throws -> ByteBuffer? { producer.next() }
    }
    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(producer: producer) }
}
