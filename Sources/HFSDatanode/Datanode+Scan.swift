import Foundation
import HFSCore
import HFSFormat
import HFSServer
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// The block scanner: re-reads every frame of every block on this node in the background, at
/// most `scan_rate` bytes per second, one full pass every `scan_interval`, and reports a replica
/// whose frames fail their checks to the namenode as readers do (`blocks/bad`): the namenode stops
/// offering it, has a good copy made elsewhere and then the bad one deleted.
///
/// A pass reads without the block's lock, so appends and copies are never held up by it; what
/// looks corrupt is verified again under the lock (a copy may have been rewriting the file)
/// before it is reported.
extension Datanode {
    func scanLoop() async {
        let rate = config.scanRateBytesPerSecond
        guard rate > 0 else {
            // Turned off; stay in the datanode's task group (which ends when any task returns).
            while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
            return
        }
        // Register first: a report before that would name a node the namenode does not know yet.
        try? await Task.sleep(for: .milliseconds(Int64(config.heartbeatIntervalSeconds * 1000)))
        while !Task.isCancelled {
            let started = ContinuousClock.now
            let (blocks, bytes, bad) = await scanPass(rateBytesPerSecond: rate)
            let took = ContinuousClock.now - started
            let line = "block scanner: verified \(blocks) block(s), \(Units.human(bytes)) in \(took.components.seconds) s, \(bad) corrupt"
            if bad > 0 { logger.warning("\(line)") } else { logger.debug("\(line)") }
            try? await Task.sleep(for: .milliseconds(Int64(config.scanIntervalSeconds * 1000)))
        }
    }

    /// One pass over the blocks present when it starts. Returns blocks verified, bytes read and
    /// replicas reported corrupt.
    func scanPass(rateBytesPerSecond rate: Int64) async -> (Int, Int64, Int) {
        var throttle = ScanThrottle(bytesPerSecond: rate)
        let chunk = Int(min(max(rate / 10, 64 << 10), Int64(Limits.frameLogicalBytesMax)))
        var blocks = 0, bad = 0
        let present = store.report()
        let ids = Set(present.map(\.block))
        reportedCorrupt.withLockedValue { r in r = r.filter { ids.contains($0.key) } }
        for entry in present where !Task.isCancelled {
            guard let length = store.length(entry.block), length > 0 else { continue }
            let stamp = FileStamp(path: store.path(entry.block))
            if let stamp, reportedCorrupt.withLockedValue({ $0[entry.block] == stamp }) { continue }
            let scan = BlockScan(path: store.path(entry.block), length: length, chunkBytes: chunk)
            var problem: String?
            while problem == nil {
                do {
                    let n = try await blocking { try scan.step() }
                    if n == 0 { break }
                    await throttle.account(Int64(n))
                } catch {
                    problem = "\(error)"
                }
            }
            if scan.vanished { continue }  // deleted meanwhile
            blocks += 1
            guard let problem, await confirmCorrupt(entry.block) else { continue }
            bad += 1
            if await reportCorrupt(entry.block, reason: "block scanner: \(problem)"), let stamp {
                reportedCorrupt.withLockedValue { $0[entry.block] = stamp }
            }
        }
        return (blocks, throttle.bytes, bad)
    }

    /// Verifies the whole block again while holding its lock (no append or copy can be under
    /// way): true when it is still bad.
    func confirmCorrupt(_ id: Int64) async -> Bool {
        await locks.acquire(id)
        defer { Task { await self.locks.release(id) } }
        guard let length = store.length(id), length > 0 else { return false }
        let scan = BlockScan(path: store.path(id), length: length, chunkBytes: Limits.frameLogicalBytesMax)
        do {
            try await blocking { while try scan.step() > 0 {} }
            return false
        } catch {
            return !scan.vanished
        }
    }

    /// True once the namenode has the report.
    func reportCorrupt(_ id: Int64, reason: String) async -> Bool {
        logger.warning("block \(id) is corrupt here, reporting it: \(reason)")
        do {
            let _: OK = try await post("blocks/bad", BadReplicaRequest(block: id, datanode: me.id, reason: reason))
            return true
        } catch {
            logger.warning("could not report corrupt block \(id) (the next pass will): \(error)")
            return false
        }
    }
}

/// A block file's size and modification time: whether it changed since it was last looked at.
struct FileStamp: Equatable, Sendable {
    var size: Int64
    var mtimeNanoseconds: Int64

    init?(path: String) {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        size = Int64(st.st_size)
        mtimeNanoseconds = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
    }
}

/// Keeps a pass at or below its rate: after each chunk, sleeps until the bytes read so far could
/// have been read at that rate.
struct ScanThrottle {
    let bytesPerSecond: Int64
    let start = ContinuousClock.now
    private(set) var bytes: Int64 = 0

    init(bytesPerSecond: Int64) { self.bytesPerSecond = bytesPerSecond }

    mutating func account(_ n: Int64) async {
        bytes += n
        let due = Duration.seconds(Double(bytes) / Double(bytesPerSecond))
        let elapsed = ContinuousClock.now - start
        if due > elapsed { try? await Task.sleep(for: due - elapsed) }
    }
}

/// The frames of one block file read chunk by chunk through a ``FrameVerifier``. Used by one
/// task at a time (each `step` on the blocking pool, one after the other).
final class BlockScan: @unchecked Sendable {
    let path: String
    let length: Int64
    let chunkBytes: Int
    private var fd: Int32 = -1
    private var offset: Int64 = 0
    private var verifier = FrameVerifier()
    /// The file was gone when opened: deleted, not corrupt.
    private(set) var vanished = false

    init(path: String, length: Int64, chunkBytes: Int) {
        self.path = path; self.length = length; self.chunkBytes = chunkBytes
    }
    deinit { if fd >= 0 { close(fd) } }

    /// Reads and verifies the next chunk; 0 once all `length` bytes are verified. Throws
    /// `.corrupt` for a bad frame, `.io` for a read error or a file shorter than `length`.
    func step() throws -> Int {
        if fd < 0 {
            fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else {
                vanished = errno == ENOENT
                throw HFSError(.io, "open \(path): \(String(cString: strerror(errno)))")
            }
            _ = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)
        }
        guard offset < length else {
            try verifier.finish()
            return 0
        }
        let want = Int(min(Int64(chunkBytes), length - offset))
        var buffer = ByteBuffer()
        let at = offset, fd = self.fd, path = self.path
        let got = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: want) { raw -> Int in
            let n = pread(fd, raw.baseAddress!, want, off_t(at))
            guard n > 0 else { throw HFSError(.io, "read \(path) at \(at): \(n < 0 ? String(cString: strerror(errno)) : "file ends before \(self.length) bytes")") }
            return n
        }
        try verifier.consume(buffer)
        // Do not keep what was only read to be checked in the page cache.
        _ = posix_fadvise(fd, off_t(at), off_t(got), POSIX_FADV_DONTNEED)
        offset += Int64(got)
        return got
    }
}
