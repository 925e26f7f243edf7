import Foundation

/// Streams the regular files out of a `.tar`, `.tar.gz` or `.tgz` archive (gzip is detected by its
/// magic bytes, not the name), reading ~1 MiB at a time and never extracting anything to disk.
/// Memory stays bounded whatever the archive size: one read buffer, one inflate buffer and the
/// entry being delivered.
///
/// Formats: ustar (with its 155-byte prefix), GNU (`L` long names, base-256 sizes), pax (`x`
/// headers: `path` and `size`; `g` global headers are ignored). Only regular files are
/// delivered; directories, links, devices, FIFOs and other types are skipped. Entry paths lose a
/// leading `./` or `/`; they are not otherwise validated (see ``DestinationMapping``).
///
/// Two ways to read:
/// - ``next()``: the next regular file with its content as `[UInt8]`, for entries up to
///   `entryBytesMax` (64 MiB by default). A larger entry throws an `IngestError` of kind
///   `.entryTooLarge`; the reader stays usable and the following `next()` continues after it.
/// - ``nextHeader()`` then ``readContent(into:)`` (streaming, any size) or
///   ``readAllContent()``; content not read is skipped by the following `nextHeader()`.
///
/// A bad header checksum, a malformed header, truncated data or an archive without its
/// end-of-archive block is an `IngestError` of kind `.archive` naming the archive and the offset
/// (in the uncompressed tar stream).
public final class TarReader {
    public let name: String
    public let isGzip: Bool
    public let entryBytesMax: Int
    /// Sizes above this (1 PiB) are treated as corrupt headers.
    static let entrySizeMax: Int64 = 1 << 50

    private let stream: ByteStream
    private let buffer: UnsafeMutableRawBufferPointer
    private var bufferStart = 0
    private var bufferEnd = 0
    private var streamEnded = false
    /// Offset in the tar stream of `buffer[bufferStart]`.
    private var offset: Int64 = 0
    private var current: TarEntryHeader?
    private var contentLeft: Int64 = 0
    private var paddingLeft: Int64 = 0
    private var reachedEnd = false

    /// Opens the archive at `path`.
    public convenience init(path: String, entryBytesMax: Int = IngestLimits.tarEntryBytesMaxDefault) throws {
        let (stream, gzip) = try ByteStreams.openDecompressing(path: path)
        self.init(stream: stream, name: path, isGzip: gzip, entryBytesMax: entryBytesMax)
    }

    /// Reads a tar stream that is already decompressed (see ``ByteStreams/decompressing(_:name:)``).
    public init(stream: ByteStream, name: String, isGzip: Bool = false,
                entryBytesMax: Int = IngestLimits.tarEntryBytesMaxDefault,
                chunkBytes: Int = IngestLimits.streamChunkBytes) {
        precondition(chunkBytes >= 512 && chunkBytes % 512 == 0)
        self.stream = stream
        self.name = name
        self.isGzip = isGzip
        self.entryBytesMax = entryBytesMax
        self.buffer = .allocate(byteCount: chunkBytes, alignment: 16)
    }

    deinit { buffer.deallocate() }

    // MARK: - Whole entries

    /// The next regular file with its content, or nil at the end of the archive.
    public func next() throws -> TarEntry? {
        guard let header = try nextHeader() else { return nil }
        let bytes = try readAllContent()
        return TarEntry(path: header.path, size: header.size, offset: header.offset, bytes: bytes)
    }

    /// The rest of the current entry's content; throws `.entryTooLarge` above `entryBytesMax`
    /// (the entry is then skipped by the next call to `nextHeader()` or `next()`).
    public func readAllContent() throws -> [UInt8] {
        guard let header = current else { return [] }
        guard header.size <= Int64(entryBytesMax) else {
            throw IngestError(.entryTooLarge, "\(where_(header.offset)): entry '\(printable(header.path))' is \(header.size) bytes, above the \(entryBytesMax)-byte limit for one entry")
        }
        let count = Int(contentLeft)
        return try [UInt8](unsafeUninitializedCapacity: count) { out, initialized in
            var done = 0
            while done < count {
                let n = try readContent(into: UnsafeMutableRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(out)[done...]))
                precondition(n > 0)
                done += n
            }
            initialized = count
        }
    }

    // MARK: - Streaming

    /// Advances to the next regular file (skipping what is left of the current one) and returns
    /// its header, or nil at the end of the archive.
    public func nextHeader() throws -> TarEntryHeader? {
        try skipRestOfEntry()
        current = nil
        var longName: String?
        var pax: [String: String] = [:]
        while !reachedEnd {
            let headerOffset = offset
            guard try ensure(512) else {
                if bufferEnd - bufferStart == 0 {
                    throw IngestError(.archive, "\(where_(headerOffset)): truncated archive (no end-of-archive block)")
                }
                throw IngestError(.archive, "\(where_(headerOffset)): truncated archive (partial header)")
            }
            let block = UnsafeRawBufferPointer(rebasing: buffer[bufferStart..<(bufferStart + 512)])
            if block.allSatisfy({ $0 == 0 }) {
                reachedEnd = true
                return nil
            }
            var raw = try RawTarHeader.parse(block, at: headerOffset, archive: describeArchive)
            consume(512)
            let isMetadata = [UInt8(ascii: "L"), UInt8(ascii: "K"), UInt8(ascii: "x"), UInt8(ascii: "g")].contains(raw.type)
            if !isMetadata, let value = pax["size"] {
                guard let v = Int64(value), v >= 0 else {
                    throw IngestError(.archive, "\(where_(headerOffset)): pax size '\(printable(value))' is not a number")
                }
                raw.size = v
            }
            guard raw.size <= Self.entrySizeMax else {
                throw IngestError(.archive, "\(where_(headerOffset)): entry size \(raw.size) is not plausible")
            }
            let size = raw.size
            contentLeft = size
            paddingLeft = (512 - size % 512) % 512

            switch raw.type {
            case UInt8(ascii: "L"):
                longName = cString(try readMetadata(raw, what: "GNU long name"))
                continue
            case UInt8(ascii: "x"):
                pax.merge(try parsePax(try readMetadata(raw, what: "pax header"), at: headerOffset)) { _, new in new }
                continue
            case UInt8(ascii: "g"), UInt8(ascii: "K"):
                try skipRestOfEntry()
                continue
            default:
                break
            }
            let path = normalized(pax["path"] ?? longName ?? raw.path)
            longName = nil
            pax = [:]
            let isRegular = raw.type == UInt8(ascii: "0") || raw.type == 0 || raw.type == UInt8(ascii: "7")
            guard isRegular, !path.isEmpty, !path.hasSuffix("/") else {
                try skipRestOfEntry()
                continue
            }
            let header = TarEntryHeader(path: path, size: size, offset: headerOffset)
            current = header
            return header
        }
        return nil
    }

    /// Reads up to `out.count` bytes of the current entry; 0 at its end.
    public func readContent(into out: UnsafeMutableRawBufferPointer) throws -> Int {
        guard current != nil, contentLeft > 0, out.count > 0 else { return 0 }
        if bufferEnd == bufferStart {
            guard try fill(), bufferEnd > bufferStart else { throw truncatedInEntry() }
        }
        let n = min(out.count, bufferEnd - bufferStart, Int(clamping: contentLeft))
        out.baseAddress!.copyMemory(from: buffer.baseAddress! + bufferStart, byteCount: n)
        consume(n)
        contentLeft -= Int64(n)
        return n
    }

    // MARK: - Internals

    private var describeArchive: String { "archive '\(printable(name))'" }

    private func where_(_ at: Int64) -> String {
        "\(describeArchive) at offset \(at)\(isGzip ? " (uncompressed)" : "")"
    }

    private func truncatedInEntry() -> IngestError {
        let inside = current.map { " inside entry '\(printable($0.path))'" } ?? ""
        return IngestError(.archive, "\(where_(offset)): truncated archive\(inside)")
    }

    private func consume(_ n: Int) {
        bufferStart += n
        offset += Int64(n)
    }

    /// Skips the unread content and padding of the current entry.
    private func skipRestOfEntry() throws {
        var left = contentLeft + paddingLeft
        while left > 0 {
            if bufferEnd == bufferStart {
                guard try fill(), bufferEnd > bufferStart else { throw truncatedInEntry() }
            }
            let n = min(bufferEnd - bufferStart, Int(clamping: left))
            consume(n)
            left -= Int64(n)
        }
        contentLeft = 0
        paddingLeft = 0
    }

    /// Makes at least `n` bytes available in the buffer; false at the end of the stream.
    private func ensure(_ n: Int) throws -> Bool {
        while bufferEnd - bufferStart < n {
            guard try fill() else { return false }
        }
        return true
    }

    /// Moves the unread bytes to the front and reads more; false when the stream has ended.
    private func fill() throws -> Bool {
        if streamEnded { return false }
        if bufferStart > 0 {
            let left = bufferEnd - bufferStart
            if left > 0 { buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + bufferStart, byteCount: left) }
            bufferStart = 0
            bufferEnd = left
        }
        let n = try stream.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[bufferEnd...]))
        if n == 0 { streamEnded = true; return false }
        bufferEnd += n
        return true
    }

    /// Content of a GNU long-name or pax entry (bounded), padding skipped.
    private func readMetadata(_ raw: RawTarHeader, what: String) throws -> [UInt8] {
        guard raw.size <= Int64(IngestLimits.tarMetadataBytesMax) else {
            throw IngestError(.archive, "\(where_(offset - 512)): \(what) of \(raw.size) bytes is too large")
        }
        current = TarEntryHeader(path: what, size: raw.size, offset: offset - 512)
        defer { current = nil }
        var bytes = [UInt8](repeating: 0, count: Int(raw.size))
        var done = 0
        while done < bytes.count {
            done += try bytes.withUnsafeMutableBytes { try readContent(into: UnsafeMutableRawBufferPointer(rebasing: $0[done...])) }
        }
        try skipRestOfEntry()
        return bytes
    }

    /// pax records: `"<length> <key>=<value>\n"`, where length counts the whole record.
    private func parsePax(_ bytes: [UInt8], at headerOffset: Int64) throws -> [String: String] {
        var out: [String: String] = [:]
        var i = 0
        while i < bytes.count {
            if bytes[i] == 0 { break }
            guard let space = bytes[i...].firstIndex(of: 0x20),
                  let length = Int(String(decoding: bytes[i..<space], as: UTF8.self)),
                  length > space - i + 1, length <= bytes.count - i, bytes[i + length - 1] == 0x0A,
                  let eq = bytes[(space + 1)..<(i + length)].firstIndex(of: UInt8(ascii: "="))
            else {
                throw IngestError(.archive, "\(where_(headerOffset)): malformed pax header record at byte \(i)")
            }
            let key = String(decoding: bytes[(space + 1)..<eq], as: UTF8.self)
            let value = String(decoding: bytes[(eq + 1)..<(i + length - 1)], as: UTF8.self)
            out[key] = value
            i += length
        }
        return out
    }

    private func normalized(_ path: String) -> String {
        var p = Substring(path)
        while true {
            if p.hasPrefix("./") { p = p.dropFirst(2) } else if p.hasPrefix("/") { p = p.dropFirst() } else { break }
        }
        return p == "." ? "" : String(p)
    }
}

/// Where a regular file is in an archive.
public struct TarEntryHeader: Sendable, Equatable {
    /// Path inside the archive (`./` and `/` prefixes removed).
    public var path: String
    public var size: Int64
    /// Offset of the entry's (first) header block in the uncompressed tar stream.
    public var offset: Int64
}

/// A regular file read whole from an archive.
public struct TarEntry: Sendable, Equatable {
    public var path: String
    public var size: Int64
    public var offset: Int64
    public var bytes: [UInt8]
}

/// The fields of one 512-byte tar header that ingest needs.
struct RawTarHeader {
    var path: String
    var size: Int64
    var type: UInt8

    static func parse(_ b: UnsafeRawBufferPointer, at offset: Int64, archive: String) throws -> RawTarHeader {
        func fail(_ why: String) -> IngestError { IngestError(.archive, "\(archive) at offset \(offset): \(why)") }
        guard let stored = octal(b, 148, 8) else { throw fail("bad tar header checksum (unreadable checksum field)") }
        var unsigned: Int64 = 0, signed: Int64 = 0
        for i in 0..<512 {
            let c: UInt8 = (148..<156).contains(i) ? 0x20 : b[i]
            unsigned += Int64(c)
            signed += Int64(Int8(bitPattern: c))
        }
        guard stored == unsigned || stored == signed else {
            throw fail("bad tar header checksum (stored \(stored), computed \(unsigned))")
        }
        let size: Int64
        if b[124] & 0x80 != 0 {                       // GNU base-256
            var v: Int64 = 0
            for i in 125..<136 {
                guard v < Int64.max >> 8 else { throw fail("tar entry size is too large") }
                v = v << 8 | Int64(b[i])
            }
            size = v
        } else {
            guard let v = octal(b, 124, 12) else { throw fail("malformed size field in tar header") }
            size = v
        }
        var path = cString(b, 0, 100)
        let ustar = (257..<263).map { b[$0] } == Array("ustar\0".utf8)
        if ustar {
            let prefix = cString(b, 345, 155)
            if !prefix.isEmpty { path = prefix + "/" + path }
        }
        return RawTarHeader(path: path, size: size, type: b[156])
    }

    /// An octal number field: optional leading spaces, digits, terminated by NUL or space.
    static func octal(_ b: UnsafeRawBufferPointer, _ start: Int, _ length: Int) -> Int64? {
        var i = start
        let end = start + length
        while i < end && b[i] == 0x20 { i += 1 }
        var v: Int64 = 0, digits = 0
        while i < end, (0x30...0x37).contains(b[i]) {
            v = v * 8 + Int64(b[i] - 0x30)
            digits += 1
            i += 1
        }
        guard digits > 0 else { return nil }
        while i < end {
            guard b[i] == 0 || b[i] == 0x20 else { return nil }
            i += 1
        }
        return v
    }

    static func cString(_ b: UnsafeRawBufferPointer, _ start: Int, _ length: Int) -> String {
        var end = start
        while end < start + length && b[end] != 0 { end += 1 }
        return String(decoding: UnsafeRawBufferPointer(rebasing: b[start..<end]), as: UTF8.self)
    }
}

/// Bytes up to the first NUL, as UTF-8.
func cString(_ bytes: [UInt8]) -> String {
    String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
}
