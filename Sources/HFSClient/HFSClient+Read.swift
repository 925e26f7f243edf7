import AsyncHTTPClient
import Foundation
import HFSCore
import HFSFormat
import NIOConcurrencyHelpers
import NIOCore
import NIOFoundationCompat

/// Where read bytes go: called once per verified frame, in order.
public typealias ReadSink = (ByteBuffer) throws -> Void
/// Where read bytes go when extents may arrive out of order: each verified frame with its
/// offset in the file. Called from several tasks at once; the next frame of the same extent is
/// read only once it returns.
public typealias PositionalSink = @Sendable (ByteBuffer, Int64) async throws -> Void

extension HFSClient {
    /// Reads a whole file in order, verifying every frame. Each extent is read from its first
    /// replica; on a checksum mismatch, a refused or broken connection, the read resumes at the
    /// same frame on the next replica. No unverified byte reaches `sink`.
    public func read(_ file: FileLocations, into sink: ReadSink) async throws {
        try checkIsFile(file)
        let decoder = FrameDecoder()
        var total: Int64 = 0
        for e in file.extents {
            total += try await readExtent(e, of: file, decoder: decoder) { buffer, _ in try sink(buffer) }
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
            for (e, start) in zip(file.extents, starts) {
                if inFlight >= extentsInFlight { total += try await group.next() ?? 0; inFlight -= 1 }
                group.addTask {
                    try await self.readExtent(e, of: file, decoder: FrameDecoder()) { buffer, within in
                        try await sink(buffer, start + within)
                    }
                }
                inFlight += 1
            }
            for try await n in group { total += n }
            return total
        }
        try checkTotal(file, total)
    }

    /// Reads a whole file in order, like ``read(_:into:)``, with up to `extentsInFlight` extents
    /// fetched at once: frames of the extents ahead wait in memory (at most `aheadBytesMax`,
    /// beyond which their readers pause) until the bytes before them have gone to `sink`.
    public func read(_ file: FileLocations, extentsInFlight: Int, aheadBytesMax: Int,
                     into sink: @escaping @Sendable (ByteBuffer) throws -> Void) async throws {
        let order = InOrderSink(sink: sink, aheadBytesMax: aheadBytesMax)
        try await read(file, extentsInFlight: extentsInFlight) { buffer, offset in try await order.put(buffer, at: offset) }
        try await order.finish(size: file.status.size)
    }

    private func checkIsFile(_ file: FileLocations) throws {
        guard file.status.type == .file else { throw HFSError(.isADirectory, "is a directory: \(file.status.path)") }
    }

    private func checkTotal(_ file: FileLocations, _ total: Int64) throws {
        guard total == file.status.size else {
            throw HFSError(.corrupt, "\(file.status.path): read \(total) bytes, the namenode says \(file.status.size)")
        }
    }

    /// Reads extent `e` of `file`. When no replica has its block any more (a compaction
    /// moved the file's bytes after `file` was looked up, and the old block is gone), a file of
    /// one extent is looked up again, once, and read where it is now.
    private func readExtent(_ e: ExtentLocation, of file: FileLocations, decoder: FrameDecoder,
                            sink: (ByteBuffer, Int64) async throws -> Void) async throws -> Int64 {
        do {
            return try await readExtent(e, path: file.status.path, decoder: decoder, sink: sink)
        } catch let moved as HFSError where moved.code == .notFound && file.extents.count == 1 {
            // Only a file of one extent (a small file of a packed block: what compaction moves):
            // nothing of it was passed on yet, so reading it where it is now can never splice two
            // versions of a file that was overwritten meanwhile.
            let now = try await locations(HFSPath(file.status.path))
            guard now.status.size == file.status.size, now.extents.count == 1,
                  now.extents[0].extent.logicalLength == e.extent.logicalLength,
                  now.extents[0].extent != e.extent else { throw moved }
            return try await readExtent(now.extents[0], path: file.status.path, decoder: decoder, sink: sink)
        }
    }

    /// Reads one extent; `sink` gets each verified frame's logical bytes and their offset
    /// within the extent. Returns the extent's logical length. Throws `.notFound` when every
    /// replica answered that it does not have the block, before any byte was read.
    private func readExtent(_ e: ExtentLocation, path: String, decoder: FrameDecoder,
                            sink: (ByteBuffer, Int64) async throws -> Void) async throws -> Int64 {
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
                do { response = try await dataHTTP.execute(req, timeout: .seconds(Limits.requestTimeoutSeconds)) } catch {
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
                            try await sink(frame.stored, logical)
                        } else {
                            out.clear()
                            try frame.stored.withUnsafeReadableBytes { try decoder.decode(header: frame.header, stored: $0, into: &out) }
                            try await sink(out, logical)
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

extension HFSClient {
    /// Reads many whole files, giving each to `sink` (with its index in `files`) once all of it
    /// is verified. Files of one extent that lie near each other in the same block (small files
    /// of a packed block) are read together: one ranged request per run of neighbours, at most
    /// `Limits.coalescedReadBytesMax` long, skipping gaps of at most `Limits.coalescedReadGapBytesMax`
    /// (dead records, files not asked for). A run that fails in any way (a bad frame, a broken
    /// connection, a block gone) leaves its remaining files to the one-file path, which tries
    /// every replica and reports bad ones. Other files (empty, several extents) take that path too.
    public func readMany(_ files: [FileLocations], inFlight: Int, into sink: @escaping @Sendable (Int, ByteBuffer) throws -> Void) async throws {
        for f in files { try checkIsFile(f) }
        var byBlock: [Int64: [CoalescedRun.Member]] = [:]
        var replicasOf: [Int64: [DatanodeInfo]] = [:]
        var alone: [Int] = []
        for (i, f) in files.enumerated() {
            if f.extents.count == 1, let e = f.extents.first, !e.replicas.isEmpty, e.extent.storedLength <= Limits.coalescedReadBytesMax {
                byBlock[e.extent.block, default: []].append(.init(index: i, extent: e.extent))
                if replicasOf[e.extent.block] == nil { replicasOf[e.extent.block] = e.replicas }
            } else {
                alone.append(i)
            }
        }
        var runs: [CoalescedRun] = []
        for (block, members) in byBlock.sorted(by: { $0.key < $1.key }) {
            var run = CoalescedRun(block: block, replicas: replicasOf[block]!)
            for m in members.sorted(by: { ($0.extent.offset, $0.index) < ($1.extent.offset, $1.index) }) {
                if !run.members.isEmpty, m.extent.offset - run.end > Limits.coalescedReadGapBytesMax
                    || m.extent.offset + m.extent.storedLength - run.start > Limits.coalescedReadBytesMax {
                    runs.append(run)
                    run = CoalescedRun(block: block, replicas: replicasOf[block]!)
                }
                run.add(m)
            }
            runs.append(run)
        }
        let one: @Sendable (Int) async throws -> Void = { i in
            var whole = ByteBuffer()
            try await self.read(files[i]) { buffer in
                var b = buffer
                whole.writeBuffer(&b)
            }
            try sink(i, whole)
        }
        try await withThrowingTaskGroup(of: [Int].self) { group in
            var running = 0
            func add(_ work: @escaping @Sendable () async throws -> [Int]) async throws {
                if running >= inFlight, let left = try await group.next() {
                    running -= 1
                    for i in left { try await one(i) }
                }
                group.addTask(operation: work)
                running += 1
            }
            for run in runs { try await add { try await self.readRun(run, files: files, sink: sink) } }
            for i in alone { try await add { try await one(i); return [] } }
            for try await left in group {
                for i in left { try await one(i) }
            }
        }
    }

    /// Reads one run from its first replica; returns the indices of the files it did not deliver.
    private func readRun(_ run: CoalescedRun, files: [FileLocations], sink: (Int, ByteBuffer) throws -> Void) async throws -> [Int] {
        var delivered = Set<Int>()
        let replica = run.replicas[0]
        do {
            var req = HTTPClientRequest(url: "http://\(replica.address)/api/v1/blocks/\(run.block)?offset=\(run.start)&length=\(run.end - run.start)")
            req.method = .GET
            let response = try await dataHTTP.execute(req, timeout: .seconds(Limits.requestTimeoutSeconds))
            guard response.status == .ok else {
                let bytes = try await response.body.collect(upTo: 1 << 20)
                throw Self.remoteError(bytes, status: Int(response.status.code), from: "datanode \(replica.id)")
            }
            let decoder = FrameDecoder()
            var parser = FrameStreamParser()
            var pos = run.start
            var k = 0  // the member whose extent holds or follows `pos`
            var whole = ByteBuffer()
            for try await chunk in response.body {
                parser.append(chunk)
                while let frame = try parser.next() {
                    let frameStart = pos
                    pos += Int64(frame.header.frameLength)
                    while k < run.members.count, run.members[k].extent.offset + run.members[k].extent.storedLength <= frameStart { k += 1 }
                    guard k < run.members.count, frameStart >= run.members[k].extent.offset else { continue }  // a gap: not asked for
                    let e = run.members[k].extent
                    try frame.stored.withUnsafeReadableBytes { try decoder.decode(header: frame.header, stored: $0, into: &whole) }
                    guard pos >= e.offset + e.storedLength else { continue }
                    guard pos == e.offset + e.storedLength, Int64(whole.readableBytes) == e.logicalLength else {
                        throw HFSError(.conflict, "block \(run.block): frames do not end where the file at \(e.offset) does")
                    }
                    // Every member with this very extent (dedup) gets the same bytes.
                    while k < run.members.count, run.members[k].extent == e {
                        let i = run.members[k].index
                        guard Int64(whole.readableBytes) == files[i].status.size else {
                            throw HFSError(.conflict, "\(files[i].status.path): read \(whole.readableBytes) bytes, the namenode says \(files[i].status.size)")
                        }
                        try sink(i, whole)
                        delivered.insert(i)
                        k += 1
                    }
                    whole = ByteBuffer()
                }
            }
            try parser.finish()
        } catch let error as HFSError where error.code == .io && error.message.hasPrefix("local:") {
            throw error  // the local side failed: another replica will not help
        } catch {
            // Whatever went wrong, the one-file path retries these with every replica; a bad
            // frame (a checksum or framing error: `.corrupt`) is reported as that path would;
            // metadata that does not match the frames (`.conflict`) is not the replica's fault.
            if let bad = error as? HFSError, bad.code == .corrupt {
                let _: OKAnswer? = try? await post("blocks/bad", BadReplicaRequest(block: run.block, datanode: replica.id, reason: bad.message))
            }
        }
        return run.members.map(\.index).filter { !delivered.contains($0) }
    }
}

/// Files of one block read with one ranged request.
struct CoalescedRun: Sendable {
    struct Member: Sendable {
        var index: Int
        var extent: Extent
    }
    var block: Int64
    var replicas: [DatanodeInfo]
    private(set) var members: [Member] = []
    private(set) var end: Int64 = 0
    init(block: Int64, replicas: [DatanodeInfo]) { self.block = block; self.replicas = replicas }
    var start: Int64 { members.first?.extent.offset ?? 0 }
    /// Members come in offset order.
    mutating func add(_ m: Member) {
        members.append(m)
        end = max(end, m.extent.offset + m.extent.storedLength)
    }
}

/// A local file being written by `get`. Bytes reach it only once verified; if the read fails
/// the file is removed, so a failed get leaves no half file behind.
///
/// With `direct`, the aligned bulk of each write goes around the page cache (O_DIRECT: from the
/// bytes as they are when they start on an aligned address, else through a reused aligned
/// buffer) and only a file's unaligned tail through it: on a VM that hands free
/// memory back to its host, filling fresh page-cache pages cost 1.5 s of CPU per GiB against
/// ~0.15 s for direct writes (scripts/bench/pagecache.sh, docs/BENCHMARKS.md). Where O_DIRECT
/// is refused (tmpfs on older kernels, some network file systems) every write goes through the page cache.
/// A direct file of known `size` has its disk space reserved first (``Posix/reserve(_:length:)``).
public final class LocalFileSink: @unchecked Sendable {
    let fd: Int32
    private let lock = NIOLock()
    let path: String
    private var done = false
    /// The same file opened with O_DIRECT, or -1.
    private let directFD: Int32
    private let directOK = NIOLockedValueBox(true)
    private let buffers = NIOLockedValueBox<[UnsafeMutableRawPointer]>([])

    public init(path: String, direct: Bool = false, size: Int64? = nil) throws {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw HFSError(.io, "local: cannot create \(path): \(String(cString: strerror(errno)))") }
        directFD = direct && Posix.oDirect != 0 ? open(path, O_WRONLY | O_CLOEXEC | Posix.oDirect) : -1
        if directFD >= 0, let size, size > 0 { Posix.reserve(fd, length: size) }
    }

    deinit {
        close(fd)
        if directFD >= 0 { close(directFD) }
        for b in buffers.withLockedValue({ $0 }) { free(b) }
        if !done { unlink(path) }
    }

    /// Writes `buffer` at `offset` in the file; safe from several tasks at once.
    public func write(_ buffer: ByteBuffer, at offset: Int64) throws {
        var buffer = buffer
        let align = Limits.directWriteAlignment
        if directFD >= 0, offset % Int64(align) == 0, buffer.readableBytes >= align, directOK.withLockedValue({ $0 }) {
            let bulk = buffer.readableBytes - buffer.readableBytes % align
            if try writeDirect(buffer.getSlice(at: buffer.readerIndex, length: bulk)!, at: offset) {
                if bulk == buffer.readableBytes { return }
                buffer.moveReaderIndex(forwardBy: bulk)
                return try writeBuffered(buffer, at: offset + Int64(bulk))
            }
        }
        try writeBuffered(buffer, at: offset)
    }

    /// One buffered write at a time: concurrent writes to one file serialize on its inode lock
    /// anyway, and waiting there spins (a fifth of a 4-extents-in-flight get's CPU went to
    /// `rwsem_spin_on_owner`).
    private func writeBuffered(_ buffer: ByteBuffer, at offset: Int64) throws {
        try lock.withLock {
            let err = buffer.withUnsafeReadableBytes { Posix.writeAll(fd, $0, at: offset) }
            if err != 0 { throw HFSError(.io, "local: write \(path): \(String(cString: strerror(err)))") }
        }
    }

    /// False when the file system refused O_DIRECT (then later writes take the page cache, and
    /// the caller writes these bytes again through it). Bytes that already start on an aligned
    /// address (frames assembled by ``FrameStreamParser``) are written as they are; others are
    /// copied through one reused aligned buffer, a frame at a time.
    private func writeDirect(_ bytes: ByteBuffer, at offset: Int64) throws -> Bool {
        let align = Limits.directWriteAlignment
        if bytes.withUnsafeReadableBytes({ Int(bitPattern: $0.baseAddress) % align == 0 }) {
            return try directWritten(bytes.withUnsafeReadableBytes { Posix.writeAll(directFD, $0, at: offset) })
        }
        let size = Limits.frameLogicalBytesMax
        let staging = try takeBuffer(size)
        defer { buffers.withLockedValue { $0.append(staging) } }
        var rest = bytes, at = offset
        while let piece = rest.readSlice(length: min(size, rest.readableBytes)), piece.readableBytes > 0 {
            piece.withUnsafeReadableBytes { staging.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            guard try directWritten(Posix.writeAll(directFD, UnsafeRawBufferPointer(start: staging, count: piece.readableBytes), at: at)) else {
                return false
            }
            at += Int64(piece.readableBytes)
        }
        return true
    }

    /// An O_DIRECT write's outcome: true if written, false if the file system refused O_DIRECT.
    private func directWritten(_ err: Int32) throws -> Bool {
        if err == EINVAL {
            directOK.withLockedValue { $0 = false }
            return false
        }
        if err != 0 { throw HFSError(.io, "local: write \(path): \(String(cString: strerror(err)))") }
        return true
    }

    private func takeBuffer(_ size: Int) throws -> UnsafeMutableRawPointer {
        if let b = buffers.withLockedValue({ $0.popLast() }) { return b }
        var p: UnsafeMutableRawPointer?
        guard posix_memalign(&p, Limits.directWriteAlignment, size) == 0, let p else {
            throw HFSError(.io, "local: cannot allocate \(size) bytes for writing \(path)")
        }
        return p
    }

    /// Keeps the file: every byte was verified.
    public func commit() { done = true }
}

/// Puts frames that arrive with their file offsets, from several readers, back in file order for
/// a sink that can only append. The reader whose frame comes next never waits; readers ahead of
/// it park their frames, and pause once `aheadBytesMax` bytes are parked.
actor InOrderSink {
    private let sink: @Sendable (ByteBuffer) throws -> Void
    private let aheadBytesMax: Int
    private var next: Int64 = 0
    private var parked: [Int64: ByteBuffer] = [:]
    private var parkedBytes = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private var failure: (any Error)?

    init(sink: @escaping @Sendable (ByteBuffer) throws -> Void, aheadBytesMax: Int) { self.sink = sink; self.aheadBytesMax = aheadBytesMax }

    func put(_ buffer: ByteBuffer, at offset: Int64) async throws {
        while true {
            if let failure { throw failure }
            if offset == next {
                try write(buffer)
                while let b = parked.removeValue(forKey: next) {
                    parkedBytes -= b.readableBytes
                    try write(b)
                }
                wakeAll()
                return
            }
            if parkedBytes + buffer.readableBytes <= aheadBytesMax || parked.isEmpty {
                parked[offset] = buffer
                parkedBytes += buffer.readableBytes
                return
            }
            // A reader cancelled here (another one failed, and the group gives up) stops the
            // whole ordered read, so that no reader waits for bytes that will never come.
            await withTaskCancellationHandler {
                await withCheckedContinuation { waiters.append($0) }
            } onCancel: {
                Task { await self.cancel() }
            }
        }
    }

    /// Checks that every byte up to `size` went out in order.
    func finish(size: Int64) throws {
        if let failure { throw failure }
        guard next == size, parked.isEmpty else {
            throw HFSError(.corrupt, "read \(next) of \(size) bytes in order (\(parked.count) frame(s) left over)")
        }
    }

    /// The read was given up: paused readers stop waiting (and throw).
    func cancel() {
        if failure == nil { failure = CancellationError() }
        wakeAll()
    }

    private func write(_ buffer: ByteBuffer) throws {
        do { try sink(buffer) } catch {
            failure = error
            wakeAll()
            throw error
        }
        next += Int64(buffer.readableBytes)
    }

    private func wakeAll() {
        let w = waiters
        waiters = []
        for c in w { c.resume() }
    }
}
