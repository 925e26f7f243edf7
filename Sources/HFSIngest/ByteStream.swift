import Foundation
import CZlib

/// A source of bytes read in order: a file descriptor, or the inflated content of another stream.
public protocol ByteStream: AnyObject {
    /// Reads up to `buffer.count` bytes into `buffer`; returns 0 only at the end of the stream.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

/// Reads a file descriptor with `read(2)`, retrying on EINTR. Owns the descriptor when opened
/// with ``open(path:)``.
public final class FileDescriptorStream: ByteStream {
    public let fd: Int32
    public let name: String
    private let owned: Bool

    public init(fd: Int32, name: String, closeWhenDone: Bool = false) {
        self.fd = fd
        self.name = name
        self.owned = closeWhenDone
    }

    public static func open(path: String) throws -> FileDescriptorStream {
        let fd = Foundation.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw IngestError(.io, "cannot open '\(printable(path))': \(String(cString: strerror(errno)))") }
        return FileDescriptorStream(fd: fd, name: path, closeWhenDone: true)
    }

    deinit { if owned { close(fd) } }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        while true {
            let n = Foundation.read(fd, base, buffer.count)
            if n >= 0 { return n }
            if errno == EINTR { continue }
            throw IngestError(.io, "cannot read '\(printable(name))': \(String(cString: strerror(errno)))")
        }
    }
}

/// Bytes in memory as a stream (an archive fetched over HTTP, tests).
public final class MemoryByteStream: ByteStream {
    private let bytes: [UInt8]
    private var position = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(buffer.count, bytes.count - position)
        guard n > 0 else { return 0 }
        bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + position, byteCount: n) }
        position += n
        return n
    }
}

/// Bytes already read from a stream (to sniff a magic number), then the rest of that stream.
public final class PrefixedStream: ByteStream {
    private var prefix: [UInt8]
    private var prefixUsed = 0
    private let rest: ByteStream

    public init(prefix: [UInt8], rest: ByteStream) {
        self.prefix = prefix
        self.rest = rest
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if prefixUsed < prefix.count {
            let n = min(buffer.count, prefix.count - prefixUsed)
            prefix.withUnsafeBytes { src in
                buffer.baseAddress!.copyMemory(from: src.baseAddress! + prefixUsed, byteCount: n)
            }
            prefixUsed += n
            return n
        }
        return try rest.read(into: buffer)
    }
}

/// Inflates a gzip (or zlib) stream with zlib, `inflateInit2_(…, 15 + 32, …)`: the header kind is
/// detected automatically. Concatenated gzip members (pigz, `cat a.gz b.gz`) are read as one
/// stream; bytes after the last member that do not start a new member are ignored.
public final class GzipStream: ByteStream {
    private let source: ByteStream
    private let name: String
    private let z: UnsafeMutablePointer<z_stream>
    private let input: UnsafeMutableRawBufferPointer
    private var sourceEnded = false
    private var finished = false
    /// Compressed bytes consumed so far, for error messages.
    public private(set) var compressedOffset: Int64 = 0

    public init(source: ByteStream, name: String, chunkBytes: Int = IngestLimits.streamChunkBytes) throws {
        self.source = source
        self.name = name
        self.input = .allocate(byteCount: chunkBytes, alignment: 16)
        self.z = .allocate(capacity: 1)
        z.initialize(to: z_stream())
        let rc = inflateInit2_(z, 15 + 32, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else {
            z.deallocate()
            input.deallocate()
            throw IngestError(.archive, "archive '\(printable(name))': cannot start zlib (\(rc))")
        }
    }

    deinit {
        inflateEnd(z)
        z.deallocate()
        input.deallocate()
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard !finished, let out = buffer.baseAddress, buffer.count > 0 else { return 0 }
        let capacity = min(buffer.count, Int(UInt32.max))
        z.pointee.next_out = out.assumingMemoryBound(to: Bytef.self)
        z.pointee.avail_out = uInt(capacity)
        inflating: while z.pointee.avail_out > 0 {
            if z.pointee.avail_in == 0 && !sourceEnded { try refill() }
            if z.pointee.avail_in == 0 && sourceEnded {
                throw IngestError(.archive, "archive '\(printable(name))': truncated gzip data (compressed stream ends at offset \(compressedOffset))")
            }
            let before = z.pointee.avail_in
            let rc = inflate(z, Z_NO_FLUSH)
            compressedOffset += Int64(before - z.pointee.avail_in)
            switch rc {
            case Z_OK, Z_BUF_ERROR:
                continue
            case Z_STREAM_END:
                if try !startsAnotherMember() {
                    finished = true
                    break inflating
                }
            default:
                let detail = z.pointee.msg.map { String(cString: $0) } ?? "zlib error \(rc)"
                throw IngestError(.archive, "archive '\(printable(name))': corrupt gzip data near compressed offset \(compressedOffset) (\(detail))")
            }
        }
        return capacity - Int(z.pointee.avail_out)
    }

    private func refill() throws {
        let n = try source.read(into: input)
        if n == 0 { sourceEnded = true }
        z.pointee.next_in = input.baseAddress!.assumingMemoryBound(to: Bytef.self)
        z.pointee.avail_in = uInt(n)
    }

    /// After the end of a member: true (and zlib reset) when another gzip member follows.
    private func startsAnotherMember() throws -> Bool {
        if z.pointee.avail_in == 0 && !sourceEnded { try refill() }
        if z.pointee.avail_in == 0 { return false }
        if z.pointee.avail_in == 1 && !sourceEnded {
            // keep the one byte and read more so the two magic bytes can be compared
            let keep = z.pointee.next_in[0]
            input.storeBytes(of: keep, toByteOffset: 0, as: UInt8.self)
            let n = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: input[1...]))
            if n == 0 { sourceEnded = true }
            z.pointee.next_in = input.baseAddress!.assumingMemoryBound(to: Bytef.self)
            z.pointee.avail_in = uInt(1 + n)
        }
        guard z.pointee.avail_in >= 2, z.pointee.next_in[0] == 0x1F, z.pointee.next_in[1] == 0x8B else { return false }
        inflateReset(z)
        return true
    }
}

public enum ByteStreams {
    /// The file at `path`, inflated when it starts with the gzip magic bytes (whatever its name).
    public static func openDecompressing(path: String) throws -> (stream: ByteStream, gzip: Bool) {
        try decompressing(FileDescriptorStream.open(path: path), name: path)
    }

    /// `source`, inflated when its first bytes are the gzip magic `1f 8b`.
    public static func decompressing(_ source: ByteStream, name: String) throws -> (stream: ByteStream, gzip: Bool) {
        var magic = [UInt8](repeating: 0, count: 2)
        var have = 0
        while have < 2 {
            let n = try magic.withUnsafeMutableBytes { try source.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[have...])) }
            if n == 0 { break }
            have += n
        }
        let prefixed = PrefixedStream(prefix: Array(magic[..<have]), rest: source)
        if have == 2 && magic == [0x1F, 0x8B] { return (try GzipStream(source: prefixed, name: name), true) }
        return (prefixed, false)
    }
}
