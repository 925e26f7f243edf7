#if canImport(Glibc)
import CLinux
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// System calls as the storage code uses them everywhere.
public enum Posix {
    /// Writes all of `bytes` to `fd` — at `offset` (pwrite), or at the descriptor's position
    /// when nil — retrying after EINTR and short writes. Returns 0, or the errno of the call that
    /// failed (the caller words the error).
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int64? = nil) -> Int32 {
        var done = 0
        while done < bytes.count {
            let n = offset.map { pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t($0) + off_t(done)) }
                ?? write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                return errno
            }
            done += n
        }
        return 0
    }

    /// Reads into `dst` from `offset` until it is full or the file ends, retrying after EINTR and
    /// short reads. Returns the bytes read and 0, or the errno of the call that failed.
    public static func readAll(_ fd: Int32, _ dst: UnsafeMutableRawBufferPointer, at offset: Int64) -> (count: Int, errno: Int32) {
        var done = 0
        while done < dst.count {
            let n = pread(fd, dst.baseAddress! + done, dst.count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                return (done, errno)
            }
            if n == 0 { break }
            done += n
        }
        return (done, 0)
    }

    /// Makes glibc's malloc keep freed memory for the next allocations instead of handing it back
    /// to the kernel: buffers up to ``Limits/heapAllocationBytesMax`` come from the heap (not a
    /// fresh mmap each), and up to ``Limits/heapFreeBytesKept`` free at a heap's top stay mapped.
    /// Every socket read, O_DIRECT buffer and batch body used to land in fresh pages, each
    /// faulted in as it was first written, which on this VM (free memory goes back to the host)
    /// costs several times the copy itself (docs/BENCHMARKS.md, sessions 4 and 7). Call once,
    /// first thing in `main`. Does nothing elsewhere than glibc.
    public static func keepFreedMemory() {
        #if canImport(Glibc)
        _ = mallopt(M_MMAP_THRESHOLD, Int32(Limits.heapAllocationBytesMax))
        _ = mallopt(M_TRIM_THRESHOLD, Int32(Limits.heapFreeBytesKept))
        #endif
    }

    /// Reserves disk space for the first `length` bytes of `fd` (fallocate with KEEP_SIZE: the
    /// file's size does not change; it grows as bytes are written); false
    /// where the file system cannot (nothing else is done then: no zeros written). A file written
    /// with O_DIRECT into space reserved up front takes its blocks in one piece instead of one
    /// allocation per write (a 1 GiB get: docs/BENCHMARKS.md, session 7).
    @discardableResult
    public static func reserve(_ fd: Int32, length: Int64) -> Bool {
        #if canImport(Glibc)
        return hfs_fallocate_keep_size(fd, 0, length) == 0
        #else
        return false
        #endif
    }

    /// A directory entry: its name and its type as the directory records it (`DT_DIR`, `DT_REG`,
    /// `DT_LNK`, ...; `DT_UNKNOWN` on file systems that do not say: ask `lstat` then).
    public struct DirectoryEntry: Sendable {
        public var name: String
        public var type: Int32
    }

    /// Why a directory could not be listed; callers word the message.
    public enum ListingError: Error {
        case cannotOpen(errno: Int32)
        /// A name that is not UTF-8, shown with replacement characters.
        case nameNotUTF8(String)
    }

    /// The entries of `directory` but `.` and `..`, sorted by the bytes of their names.
    public static func listDirectory(_ directory: String) throws(ListingError) -> [DirectoryEntry] {
        guard let dir = opendir(directory) else { throw .cannotOpen(errno: errno) }
        defer { closedir(dir) }
        var found: [DirectoryEntry] = []
        while let entry = readdir(dir) {
            let bytes = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
            guard let name = String(validating: bytes, as: UTF8.self) else {
                throw .nameNotUTF8(String(decoding: bytes, as: UTF8.self))
            }
            if name != "." && name != ".." { found.append(DirectoryEntry(name: name, type: Int32(entry.pointee.d_type))) }
        }
        return found.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
    }

    /// Linux's O_DIRECT (a GNU extension Swift's Glibc module leaves out); 0 where unknown.
    #if os(Linux) && (arch(x86_64) || arch(i386))
    public static let oDirect: Int32 = 0o40000
    #elseif os(Linux) && (arch(arm64) || arch(arm))
    public static let oDirect: Int32 = 0o200000
    #else
    public static let oDirect: Int32 = 0
    #endif
}
