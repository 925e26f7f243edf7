import CISAL

/// PNG: the signature, then every chunk in turn — length within bounds, type made of ASCII
/// letters, CRC (over type and data) checked with ISA-L's `crc32_gzip_refl` — up to IEND. IHDR must come
/// first with a legal bit depth / colour type combination; a palette image needs PLTE; there must
/// be at least one IDAT. Unknown critical chunks are rejected, as libpng does.
enum PNGProbe {
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    static let truncated = ProbeResult.invalid(InvalidImage("truncated PNG (no IEND chunk)"))
    static let chunkBytesMax = Int(Int32.max)

    static func probe(_ b: ByteView) -> ProbeResult {
        var i = signature.count
        var header: Header?
        var sawPalette = false, sawTransparency = false, sawData = false
        while true {
            guard i + 8 <= b.count else { return truncated }
            let length = Int(b.u32(i))
            let typeOffset = i + 4
            guard length <= chunkBytesMax else { return invalid("PNG chunk at offset \(i) has length \(length)") }
            guard let type = chunkType(b, at: typeOffset) else {
                return invalid("PNG chunk at offset \(i) has an invalid type")
            }
            guard typeOffset + 4 + length + 4 <= b.count else { return truncated }
            let dataOffset = typeOffset + 4
            let crcStored = b.u32(dataOffset + length)
            let crc = crc32_gzip_refl(0, b.base.baseAddress!.advanced(by: typeOffset).assumingMemoryBound(to: UInt8.self), UInt64(4 + length))
            guard UInt32(truncatingIfNeeded: crc) == crcStored else { return invalid("PNG chunk \(type) has a bad CRC") }

            if header == nil && type != "IHDR" { return invalid("PNG does not start with an IHDR chunk (found \(type))") }
            switch type {
            case "IHDR":
                if header != nil { return invalid("PNG has a second IHDR chunk") }
                switch Header.parse(b, at: dataOffset, length: length) {
                case .success(let h): header = h
                case .failure(let e): return .invalid(e)
                }
            case "PLTE":
                guard length > 0, length % 3 == 0, length / 3 <= 256 else { return invalid("PNG PLTE chunk has length \(length)") }
                if sawData { return invalid("PNG PLTE chunk after IDAT") }
                sawPalette = true
            case "tRNS":
                sawTransparency = true
            case "IDAT":
                if header!.colourType == 3 && !sawPalette { return invalid("PNG palette image without a PLTE chunk") }
                sawData = true
            case "IEND":
                guard sawData else { return invalid("PNG has no IDAT chunk") }
                return .image(header!.info(transparency: sawTransparency))
            default:
                let critical = b[typeOffset] & 0x20 == 0
                if critical { return invalid("PNG has an unknown critical chunk \(type)") }
            }
            i = dataOffset + length + 4
        }
    }

    /// The 4-letter chunk type, or nil when it is not ASCII letters.
    static func chunkType(_ b: ByteView, at offset: Int) -> String? {
        guard offset + 4 <= b.count else { return nil }
        var s = ""
        for k in 0..<4 {
            let c = b[offset + k]
            guard (0x41...0x5A).contains(c) || (0x61...0x7A).contains(c) else { return nil }
            s.unicodeScalars.append(Unicode.Scalar(c))
        }
        return s
    }

    static func invalid(_ reason: String) -> ProbeResult { .invalid(InvalidImage(reason)) }

    struct Header {
        var width: Int, height: Int, bitDepth: UInt8, colourType: UInt8

        static func parse(_ b: ByteView, at o: Int, length: Int) -> Result<Header, InvalidImage> {
            guard length == 13 else { return .failure(InvalidImage("PNG IHDR chunk has length \(length)")) }
            let width = Int(b.u32(o)), height = Int(b.u32(o + 4))
            let depth = b[o + 8], colour = b[o + 9]
            guard width > 0, width <= Int(Int32.max) else { return .failure(InvalidImage("PNG has width \(width)")) }
            guard height > 0, height <= Int(Int32.max) else { return .failure(InvalidImage("PNG has height \(height)")) }
            let allowed: [UInt8]
            switch colour {
            case 0: allowed = [1, 2, 4, 8, 16]
            case 3: allowed = [1, 2, 4, 8]
            case 2, 4, 6: allowed = [8, 16]
            default: return .failure(InvalidImage("PNG has invalid colour type \(colour)"))
            }
            guard allowed.contains(depth) else {
                return .failure(InvalidImage("PNG has invalid bit depth \(depth) for colour type \(colour)"))
            }
            guard b[o + 10] == 0 else { return .failure(InvalidImage("PNG has unknown compression method \(b[o + 10])")) }
            guard b[o + 11] == 0 else { return .failure(InvalidImage("PNG has unknown filter method \(b[o + 11])")) }
            guard b[o + 12] <= 1 else { return .failure(InvalidImage("PNG has unknown interlace method \(b[o + 12])")) }
            return .success(Header(width: width, height: height, bitDepth: depth, colourType: colour))
        }

        func info(transparency: Bool) -> ImageInfo {
            let channels: Int
            switch colourType {
            case 0: channels = 1
            case 4: channels = 2
            case 2: channels = 3
            case 3: channels = transparency ? 4 : 3
            default: channels = 4
            }
            return ImageInfo(format: .png, width: width, height: height, channels: channels)
        }
    }
}
