/// What a file's first bytes say about how its frames should be stored.
public enum ContentKind: Sendable, Equatable {
    /// Already compressed (JPEG, PNG, GIF, WebP): `CodecPolicy.auto` stores it as it is.
    case compressed
    /// Uncompressed pixels, `stride` bytes per pixel (PNM, BMP): `auto` and `lz4` use
    /// `lz4-delta`, whose byte deltas are taken `stride` bytes apart.
    case pixels(stride: Int)
    /// Anything else: `auto` tries lz4.
    case other
}

/// Recognises file formats by the bytes at the start of a file, to choose a frame codec.
public enum ImageMagic {
    /// Bytes of a file's start that ``kind(_:)`` looks at.
    public static let prefixBytesMax = 64

    /// `.compressed` for JPEG (`FF D8 FF`), PNG (`89 50 4E 47 0D 0A 1A 0A`), GIF
    /// (`GIF87a`/`GIF89a`) and WebP (`RIFF` ‹size› `WEBP`); `.pixels` for binary PGM/PPM (`P5`,
    /// `P6`, whose header must end within the prefix) and uncompressed 24- and 32-bit BMP;
    /// `.other` for the rest. `prefix` is the start of the file; longer is fine.
    public static func kind(_ prefix: some Collection<UInt8>) -> ContentKind {
        let head = Array(prefix.prefix(prefixBytesMax))
        if head.starts(with: [0xFF, 0xD8, 0xFF]) { return .compressed }
        if head.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .compressed }
        if head.starts(with: Array("GIF87a".utf8)) || head.starts(with: Array("GIF89a".utf8)) { return .compressed }
        if head.count >= 12, head[0..<4].elementsEqual("RIFF".utf8), head[8..<12].elementsEqual("WEBP".utf8) {
            return .compressed
        }
        if let stride = pnmStride(head) ?? bmpStride(head) { return .pixels(stride: stride) }
        return .other
    }

    /// Bytes per pixel of a binary PGM (`P5`) or PPM (`P6`): the width, height and maxval
    /// tokens (comments allowed) must all end within `head`; maxval above 255 means two bytes a
    /// sample.
    static func pnmStride(_ head: [UInt8]) -> Int? {
        guard head.count >= 3, head[0] == UInt8(ascii: "P"), head[1] == UInt8(ascii: "5") || head[1] == UInt8(ascii: "6") else {
            return nil
        }
        func isSpace(_ c: UInt8) -> Bool { c == 0x20 || (0x09...0x0D).contains(c) }
        func isDigit(_ c: UInt8) -> Bool { (0x30...0x39).contains(c) }
        guard isSpace(head[2]) else { return nil }
        var i = 2
        var values: [Int] = []
        while values.count < 3 {
            guard i < head.count else { return nil }
            if head[i] == UInt8(ascii: "#") {
                while i < head.count, head[i] != 0x0A, head[i] != 0x0D { i += 1 }
            } else if isSpace(head[i]) {
                i += 1
            } else {
                guard isDigit(head[i]) else { return nil }
                var v = 0
                while i < head.count, isDigit(head[i]), v < 1 << 24 { v = v * 10 + Int(head[i] - 0x30); i += 1 }
                guard i < head.count, isSpace(head[i]) else { return nil }  // the token ends here
                values.append(v)
            }
        }
        guard values[0] > 0, values[1] > 0, (1...65535).contains(values[2]) else { return nil }
        return (head[1] == UInt8(ascii: "6") ? 3 : 1) * (values[2] < 256 ? 1 : 2)
    }

    /// Bytes per pixel of an uncompressed BMP with a BITMAPINFOHEADER (or larger): 24-bit
    /// (BI_RGB) and 32-bit (BI_RGB or BI_BITFIELDS).
    static func bmpStride(_ head: [UInt8]) -> Int? {
        guard head.count >= 34, head[0] == UInt8(ascii: "B"), head[1] == UInt8(ascii: "M") else { return nil }
        func u16(_ o: Int) -> Int { Int(head[o]) | Int(head[o + 1]) << 8 }
        func u32(_ o: Int) -> Int { u16(o) | u16(o + 2) << 16 }
        guard u32(14) >= 40 else { return nil }
        switch (u16(28), u32(30)) {
        case (24, 0): return 3
        case (32, 0), (32, 3): return 4
        default: return nil
        }
    }
}
