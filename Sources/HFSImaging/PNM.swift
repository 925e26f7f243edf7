/// Binary PGM (P5) and PPM (P6) with maxval 255: the trivial formats, used for test exchange with
/// reference tools and for raw outputs. ASCII variants (P1–P3), PBM (P4), PAM (P7) and 16-bit maxval
/// are refused as unsupported.
enum PNMCodec {
    struct Header {
        var info: ImageInfo
        /// Offset of the first pixel byte.
        var dataOffset: Int
    }

    static func probe(_ bytes: UnsafeRawBufferPointer) throws -> Header {
        guard bytes.count >= 2, bytes[0] == UInt8(ascii: "P") else { throw ImagingError.corrupt("PNM: missing 'P' magic") }
        let format: ImageFormat
        switch bytes[1] {
        case UInt8(ascii: "5"): format = .pgm
        case UInt8(ascii: "6"): format = .ppm
        default: throw ImagingError.unsupported("PNM: only binary P5/P6 are read")
        }
        var reader = HeaderReader(bytes: bytes, offset: 2)
        let width = try reader.nextInt("width")
        let height = try reader.nextInt("height")
        let maxval = try reader.nextInt("maxval")
        guard maxval == 255 else {
            throw ImagingError.unsupported("PNM maxval \(maxval): only 255 (8-bit) is read")
        }
        // Exactly one whitespace byte separates maxval from the pixels.
        guard reader.offset < bytes.count, HeaderReader.isSpace(bytes[reader.offset]) else {
            throw ImagingError.corrupt("PNM: header not followed by whitespace and pixel data")
        }
        guard width > 0, height > 0 else { throw ImagingError.corrupt("PNM: empty size \(width)x\(height)") }
        let info = ImageInfo(format: format, width: width, height: height, channels: format == .pgm ? 1 : 3)
        return Header(info: info, dataOffset: reader.offset + 1)
    }

    static func decode(_ bytes: UnsafeRawBufferPointer, pixelLimit: Int) throws -> Image {
        let header = try probe(bytes)
        let info = header.info
        try Imaging.checkSize(width: info.width, height: info.height, limit: pixelLimit)
        let count = info.width * info.height * info.channels
        let available = bytes.count - header.dataOffset
        guard available >= count else {
            throw ImagingError.corrupt("truncated PNM: \(info.width)x\(info.height)x\(info.channels) needs \(count) pixel bytes, found \(available)")
        }
        let start = header.dataOffset
        let pixels = [UInt8](bytes[start..<(start + count)])
        return Image(width: info.width, height: info.height, channels: info.channels, pixels: pixels)
    }

    static func encode(_ image: Image, as format: ImageFormat) throws -> [UInt8] {
        let wanted = format == .pgm ? 1 : 3
        guard image.channels == wanted else {
            throw ImagingError.unsupported("\(format.rawValue.uppercased()) needs \(wanted) channel(s), image has \(image.channels)")
        }
        guard !image.isEmpty else { throw ImagingError.invalidArgument("cannot encode an empty \(image.width)x\(image.height) image") }
        let header = Array("\(format == .pgm ? "P5" : "P6")\n\(image.width) \(image.height)\n255\n".utf8)
        var out = [UInt8]()
        out.reserveCapacity(header.count + image.pixels.count)
        out.append(contentsOf: header)
        out.append(contentsOf: image.pixels)
        return out
    }

    /// Tokenizer for the PNM header: decimal fields separated by whitespace and `#` comments.
    struct HeaderReader {
        let bytes: UnsafeRawBufferPointer
        var offset: Int
        static let fieldDigitsMax = 9

        static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D || b == 0x0B || b == 0x0C }

        mutating func nextInt(_ field: String) throws -> Int {
            while offset < bytes.count {
                if Self.isSpace(bytes[offset]) {
                    offset += 1
                } else if bytes[offset] == UInt8(ascii: "#") {
                    while offset < bytes.count, bytes[offset] != 0x0A, bytes[offset] != 0x0D { offset += 1 }
                } else {
                    break
                }
            }
            var value = 0
            var digits = 0
            while offset < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[offset]) {
                value = value * 10 + Int(bytes[offset] - UInt8(ascii: "0"))
                digits += 1
                offset += 1
                guard digits <= Self.fieldDigitsMax else { throw ImagingError.corrupt("PNM: \(field) has too many digits") }
            }
            guard digits > 0 else {
                throw ImagingError.corrupt(offset >= bytes.count ? "truncated PNM header: missing \(field)" : "PNM: \(field) is not a number")
            }
            return value
        }
    }
}
