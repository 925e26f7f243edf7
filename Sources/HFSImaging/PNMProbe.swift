/// Binary PGM (P5) and PPM (P6) with maxval ≤ 255: the header is `P5|P6`, width, height and
/// maxval separated by whitespace (with `#` comments to end of line), then exactly one
/// whitespace byte, then width × height × channels bytes. Trailing bytes are allowed (several
/// images may be concatenated; only the first is described).
enum PNMProbe {
    static let headerNumberDigitsMax = 10

    static func probe(_ b: ByteView) -> ProbeResult {
        let kind = b[1]
        let format: ImageFormat, channels: Int
        switch kind {
        case UInt8(ascii: "5"): (format, channels) = (.pgm, 1)
        case UInt8(ascii: "6"): (format, channels) = (.ppm, 3)
        case UInt8(ascii: "1"), UInt8(ascii: "4"): return invalid("unsupported format pbm")
        case UInt8(ascii: "2"), UInt8(ascii: "3"): return invalid("unsupported format ascii pnm (P\(Character(Unicode.Scalar(kind))))")
        case UInt8(ascii: "7"): return invalid("unsupported format pam")
        default: return invalid("not an image (unknown signature)")
        }
        let name = format == .pgm ? "PGM" : "PPM"
        guard b.count > 2, isSpace(b[2]) || b[2] == UInt8(ascii: "#") else { return invalid("not an image (unknown signature)") }
        var i = 2
        var numbers: [Int] = []
        while numbers.count < 3 {
            // skip whitespace and comments
            while i < b.count {
                if isSpace(b[i]) { i += 1 } else if b[i] == UInt8(ascii: "#") {
                    while i < b.count && b[i] != 0x0A && b[i] != 0x0D { i += 1 }
                } else { break }
            }
            guard i < b.count else { return invalid("truncated \(name) header") }
            var value = 0, digits = 0
            while i < b.count, (0x30...0x39).contains(b[i]) {
                digits += 1
                guard digits <= headerNumberDigitsMax else { return invalid("\(name) header has a number that is too long") }
                value = value * 10 + Int(b[i] - 0x30)
                i += 1
            }
            guard digits > 0 else { return invalid("\(name) header is malformed at offset \(i)") }
            guard i < b.count else { return invalid("truncated \(name) header") }
            numbers.append(value)
        }
        // exactly one whitespace byte after maxval
        guard isSpace(b[i]) else { return invalid("\(name) header is malformed at offset \(i)") }
        i += 1
        let (width, height, maxval) = (numbers[0], numbers[1], numbers[2])
        guard width > 0 else { return invalid("\(name) has zero width") }
        guard height > 0 else { return invalid("\(name) has zero height") }
        guard maxval > 0 else { return invalid("\(name) has maxval 0") }
        guard maxval <= 255 else { return invalid("unsupported \(name) (maxval \(maxval), 16-bit)") }
        let (pixels, o1) = width.multipliedReportingOverflow(by: height)
        let (payload, o2) = pixels.multipliedReportingOverflow(by: channels)
        guard !o1, !o2 else { return invalid("\(name) dimensions \(width)x\(height) are too large") }
        let available = b.count - i
        guard available >= payload else {
            return invalid("truncated \(name) (payload \(available) of \(payload) bytes)")
        }
        return .image(ImageInfo(format: format, width: width, height: height, channels: channels))
    }

    static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D || c == 0x0B || c == 0x0C }
    static func invalid(_ reason: String) -> ProbeResult { .invalid(InvalidImage(reason)) }
}
