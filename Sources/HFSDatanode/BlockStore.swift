import Foundation
import HFSCore
import NIOConcurrencyHelpers
#if canImport(Glibc)
import Glibc
#endif

/// The block files of one datanode: `<data_dir>/blocks/blk_<id>`, each a sequence of frames.
/// Appends only ever extend a file, so a concurrent reader of already-acknowledged bytes is safe;
/// a failed append is cut back to where it started.
final class BlockStore: Sendable {
    let root: String
    let blocksDir: String
    let capacityOverride: Int64?
    private struct Space {
        var lengths: [Int64: Int64] = [:]
        /// Sum of `lengths`.
        var used: Int64 = 0
        /// Bytes of appends under way (claimed chunk by chunk, not yet in `lengths`).
        var incoming: Int64 = 0
    }
    private let space = NIOLockedValueBox(Space())

    init(dataDir: String, capacityBytes: Int64?) throws {
        root = dataDir
        blocksDir = dataDir + "/blocks"
        capacityOverride = capacityBytes
        do {
            try FileManager.default.createDirectory(atPath: blocksDir, withIntermediateDirectories: true)
        } catch {
            throw HFSError(.io, "cannot create block folder \(blocksDir): \(error.localizedDescription)")
        }
        var found: [Int64: Int64] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: blocksDir) where name.hasPrefix("blk_") {
            guard let id = Int64(name.dropFirst(4)) else { continue }
            var st = stat()
            if stat(blocksDir + "/" + name, &st) == 0 { found[id] = Int64(st.st_size) }
        }
        space.withLockedValue { $0 = Space(lengths: found, used: found.values.reduce(0, +)) }
    }

    func path(_ id: Int64) -> String { "\(blocksDir)/blk_\(id)" }

    func length(_ id: Int64) -> Int64? { space.withLockedValue { $0.lengths[id] } }

    func report() -> [BlockReportEntry] {
        space.withLockedValue { $0.lengths.map { BlockReportEntry(block: $0.key, length: $0.value) }.sorted { $0.block < $1.block } }
    }

    var blockCount: Int { space.withLockedValue { $0.lengths.count } }
    var usedBytes: Int64 { space.withLockedValue { $0.used } }

    /// Advertised capacity: what is used plus what the disk has free, capped by `capacity` from
    /// cluster.yaml when it is set (so the smaller of the two limits shows).
    var capacityBytes: Int64 {
        let used = usedBytes
        var s = statvfs()
        let disk = statvfs(root, &s) == 0 ? used + Int64(s.f_bavail) * Int64(s.f_frsize) : nil
        switch (capacityOverride, disk) {
        case let (c?, d?): return min(c, d)
        case let (c?, nil): return c
        case let (nil, d?): return d
        case (nil, nil): return used
        }
    }

    /// Checks the folder against what the store believes it holds, before a periodic full block
    /// report: a block whose file is gone is dropped (`lost`); a `blk_<id>` file it does not
    /// know, untouched for `adoptAfterSeconds` (so not an append under way), is added (`found`)
    /// and so reported, and the namenode has it deleted if it does not know it either.
    func rescan(adoptAfterSeconds: Double) -> (lost: [Int64], found: [Int64]) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: blocksDir)) ?? []
        var onDisk: [Int64: (size: Int64, age: Double)] = [:]
        let now = Date().timeIntervalSince1970
        for name in names where name.hasPrefix("blk_") {
            guard let id = Int64(name.dropFirst(4)) else { continue }
            var st = stat()
            guard stat(blocksDir + "/" + name, &st) == 0 else { continue }
            onDisk[id] = (Int64(st.st_size), now - Double(st.st_mtim.tv_sec))
        }
        return space.withLockedValue { s in
            let lost = s.lengths.keys.filter { onDisk[$0] == nil }.sorted()
            for id in lost { s.used -= s.lengths.removeValue(forKey: id) ?? 0 }
            let found = onDisk.filter { s.lengths[$0.key] == nil && $0.value.age >= adoptAfterSeconds }.keys.sorted()
            for id in found {
                s.lengths[id] = onDisk[id]!.size
                s.used += onDisk[id]!.size
            }
            return (lost, found)
        }
    }

    /// Claims room for `count` more bytes of an append. With `capacity` set, an append that would
    /// take the node past it fails as the disk would (the real disk's ENOSPC comes from pwrite).
    func claim(_ count: Int64) throws {
        try space.withLockedValue { s in
            if let c = capacityOverride, s.used + s.incoming + count > c {
                throw HFSError(.unavailable, "no space left: capacity \(Units.human(c)), \(Units.human(s.used + s.incoming)) used or being written")
            }
            s.incoming += count
        }
    }

    /// Gives back a claim once its append has ended (its bytes then count through `setLength`).
    func release(_ count: Int64) { space.withLockedValue { $0.incoming -= count } }

    func setLength(_ id: Int64, _ length: Int64) {
        space.withLockedValue { s in
            s.used += length - (s.lengths[id] ?? 0)
            s.lengths[id] = length
        }
    }

    func delete(_ id: Int64) -> Bool {
        let existed = space.withLockedValue { s in
            guard let old = s.lengths.removeValue(forKey: id) else { return false }
            s.used -= old
            return true
        }
        unlink(path(id))
        return existed
    }

    /// Opens (creating if needed) a block file for appending; with `direct`, for writes around the
    /// page cache (O_DIRECT) where the file system allows it (buffered where it refuses with
    /// EINVAL, as tmpfs does on older kernels).
    func openForAppend(_ id: Int64, direct: Bool = false) throws -> BlockFile {
        if direct && Posix.oDirect != 0 {
            let fd = open(path(id), O_RDWR | O_CREAT | O_CLOEXEC | Posix.oDirect, 0o644)
            if fd >= 0 { return BlockFile(fd: fd, path: path(id), direct: true) }
            guard errno == EINVAL else { throw HFSError(.io, "open \(path(id)): \(String(cString: strerror(errno)))") }
        }
        let fd = open(path(id), O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw HFSError(.io, "open \(path(id)): \(String(cString: strerror(errno)))") }
        return BlockFile(fd: fd, path: path(id), direct: false)
    }

    /// fsync of the folder, so that a newly created block file survives a crash.
    func syncDirectory() {
        let fd = open(blocksDir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 { fsync(fd); close(fd) }
    }
}

/// One open block file. Not shared between tasks: an append owns it under the block's lock.
final class BlockFile: @unchecked Sendable {
    let fd: Int32
    let path: String
    /// Opened with O_DIRECT: offsets, lengths and buffers of its reads and writes are multiples
    /// of ``Limits/directWriteAlignment`` (``BlockAppender`` sees to it).
    let direct: Bool
    init(fd: Int32, path: String, direct: Bool = false) { self.fd = fd; self.path = path; self.direct = direct }
    deinit { close(fd) }

    func size() throws -> Int64 {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw error("fstat") }
        return Int64(st.st_size)
    }

    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws {
        let err = Posix.writeAll(fd, bytes, at: offset)
        if err != 0 { throw error("pwrite", err) }
    }

    /// Fills `dst` from `offset`; fewer bytes only at the end of the file.
    func read(into dst: UnsafeMutableRawBufferPointer, at offset: Int64) throws -> Int {
        let (n, err) = Posix.readAll(fd, dst, at: offset)
        if err != 0 { throw error("pread", err) }
        return n
    }

    func truncate(_ length: Int64) throws {
        guard ftruncate(fd, off_t(length)) == 0 else { throw error("ftruncate") }
    }

    func sync() throws {
        guard fdatasync(fd) == 0 else { throw error("fdatasync") }
    }

    /// Lets the kernel forget the cached pages of a range that is on disk already.
    func dropCache(from offset: Int64, count: Int64) {
        _ = posix_fadvise(fd, off_t(offset), off_t(count), POSIX_FADV_DONTNEED)
    }

    private func error(_ call: String, _ err: Int32 = errno) -> HFSError {
        let code: HFSError.Code = err == ENOSPC ? .unavailable : .io
        return HFSError(code, "\(call) \(path): \(String(cString: strerror(err)))")
    }
}

/// One async mutex per block: appends to a block are serialized on its primary (and on every
/// node of the pipeline), so each batch lands at a well-defined offset.
actor BlockLocks {
    private var held = Set<Int64>()
    private var waiters: [Int64: [CheckedContinuation<Void, Never>]] = [:]

    func acquire(_ id: Int64) async {
        if held.insert(id).inserted { return }
        await withCheckedContinuation { waiters[id, default: []].append($0) }
    }

    func release(_ id: Int64) {
        if var w = waiters[id], !w.isEmpty {
            let next = w.removeFirst()
            waiters[id] = w.isEmpty ? nil : w
            next.resume()  // ownership passes to the waiter
        } else {
            held.remove(id)
        }
    }
}

/// Writes the bytes of one append to a block file from `offset` on. A buffered file gets one
/// `pwrite` per piece. A direct one (O_DIRECT: no copy into the page cache, nothing to drop
/// afterwards) gets whole aligned pages from a buffer of ``Limits/directAppendBufferBytes``:
/// the partial page before `offset` is read back first and written again as it was, and the
/// last page goes out padded with zeros, then `ftruncate` cuts the file to its true length.
/// Call ``finish()`` once all bytes are written; fdatasync stays the caller's.
final class BlockAppender {
    let file: BlockFile
    /// Bytes of this append written (or, direct, gathered) so far.
    private(set) var written: Int64 = 0
    private let start: Int64
    /// Direct only: the aligned buffer, the file offset of its first byte, the bytes it holds.
    private var buffer: UnsafeMutableRawBufferPointer?
    private var base: Int64 = 0
    private var fill = 0

    init(file: BlockFile, offset: Int64) throws {
        self.file = file
        start = offset
        guard file.direct else { return }
        let align = Limits.directWriteAlignment
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Limits.directAppendBufferBytes, alignment: align)
        self.buffer = buffer
        base = offset - offset % Int64(align)
        fill = Int(offset - base)
        if fill > 0 {
            let got = try file.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<align]), at: base)
            guard got >= fill else {
                throw HFSError(.io, "\(file.path): \(base + Int64(got)) bytes, an append expected \(offset)")
            }
        }
    }

    deinit { buffer?.deallocate() }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let buffer else {
            try file.write(bytes, at: start + written)
            written += Int64(bytes.count)
            return
        }
        var from = 0
        while from < bytes.count {
            let n = min(bytes.count - from, buffer.count - fill)
            (buffer.baseAddress! + fill).copyMemory(from: bytes.baseAddress! + from, byteCount: n)
            fill += n
            from += n
            if fill == buffer.count { try flush(count: fill) }
        }
        written += Int64(bytes.count)
    }

    /// Writes what the buffer still holds (the last page padded) and sets the file's length.
    func finish() throws {
        guard let buffer, fill > 0 else { return }
        let align = Limits.directWriteAlignment
        let padded = (fill + align - 1) / align * align
        (buffer.baseAddress! + fill).initializeMemory(as: UInt8.self, repeating: 0, count: padded - fill)
        let (end, padding) = (base + Int64(fill), padded - fill)
        try flush(count: padded)
        if padding > 0 { try file.truncate(end) }
    }

    private func flush(count: Int) throws {
        try file.write(UnsafeRawBufferPointer(rebasing: buffer![0..<count]), at: base)
        base += Int64(count)
        fill = 0
    }
}
