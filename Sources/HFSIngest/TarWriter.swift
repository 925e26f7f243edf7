import Foundation

/// Writes a POSIX tar (ustar; a pax `x` header carries names longer than ustar allows) to a
/// file, entry by entry. Close with ``finish()``, which writes the two zero end blocks.
public final class TarWriter {
    public let path: String
    private let handle: FileHandle
    public private(set) var bytesWritten: Int64 = 0

    public init(path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil), let h = FileHandle(forWritingAtPath: path) else {
            throw IngestError(.io, "cannot create \(path)")
        }
        self.path = path
        self.handle = h
    }

    public func add(name: String, bytes: [UInt8], mtime: Int = 0) throws {
        let nameBytes = Array(name.utf8)
        if nameBytes.count > 100 || nameBytes.contains(where: { $0 >= 0x80 }) {
            // pax record "LEN path=NAME\n", LEN counting itself.
            let body = " path=\(name)\n"
            var len = body.utf8.count + 1
            while "\(len)".utf8.count + body.utf8.count != len { len = "\(len)".utf8.count + body.utf8.count }
            let record = Array("\(len)\(body)".utf8)
            try write(header(name: "PaxHeaders/\(nameBytes.count)", size: record.count, type: UInt8(ascii: "x"), mtime: mtime))
            try write(record, padded: true)
            try write(header(name: String(decoding: nameBytes.prefix(100).filter { $0 < 0x80 }, as: UTF8.self), size: bytes.count,
                             type: UInt8(ascii: "0"), mtime: mtime))
        } else {
            try write(header(name: name, size: bytes.count, type: UInt8(ascii: "0"), mtime: mtime))
        }
        try write(bytes, padded: true)
    }

    public func finish() throws {
        try write([UInt8](repeating: 0, count: 1024))
        try handle.synchronize()
        try handle.close()
    }

    private func header(name: String, size: Int, type: UInt8, mtime: Int) -> [UInt8] {
        var h = [UInt8](repeating: 0, count: 512)
        func put(_ s: String, at offset: Int, width: Int) {
            for (i, b) in s.utf8.prefix(width).enumerated() { h[offset + i] = b }
        }
        func octal(_ v: Int, at offset: Int, width: Int) {
            put(String(repeating: "0", count: max(0, width - 1 - String(v, radix: 8).count)) + String(v, radix: 8), at: offset, width: width - 1)
        }
        put(name, at: 0, width: 100)
        octal(0o644, at: 100, width: 8)
        octal(0, at: 108, width: 8)
        octal(0, at: 116, width: 8)
        octal(size, at: 124, width: 12)
        octal(mtime, at: 136, width: 12)
        h[156] = type
        put("ustar", at: 257, width: 6)
        put("00", at: 263, width: 2)
        for i in 148..<156 { h[i] = 0x20 }
        let sum = h.reduce(0) { $0 + Int($1) }
        octal(sum, at: 148, width: 7)
        h[155] = 0x20
        return h
    }

    private func write(_ bytes: [UInt8], padded: Bool = false) throws {
        try handle.write(contentsOf: bytes)
        bytesWritten += Int64(bytes.count)
        let pad = padded ? (512 - bytes.count % 512) % 512 : 0
        if pad > 0 {
            try handle.write(contentsOf: [UInt8](repeating: 0, count: pad))
            bytesWritten += Int64(pad)
        }
    }
}
