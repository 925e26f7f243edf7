import Foundation
@testable import HFSImaging

/// Minimal reader for the binary TestPNM files the reference script writes: P5 (gray), P6 (RGB) and
/// P7 with DEPTH 4 (RGBA), maxval 255.
enum TestPNM {
    struct Malformed: Error { let reason: String }

    static func read(_ url: URL) throws -> Image {
        let data = try Data(contentsOf: url)
        return try decode([UInt8](data))
    }

    static func decode(_ bytes: [UInt8]) throws -> Image {
        var position = 0
        func token() throws -> String {
            while position < bytes.count {
                if bytes[position] == UInt8(ascii: "#") {
                    while position < bytes.count && bytes[position] != 10 { position += 1 }
                } else if bytes[position] == 32 || (9...13).contains(bytes[position]) {
                    position += 1
                } else { break }
            }
            let start = position
            while position < bytes.count && !(bytes[position] == 32 || (9...13).contains(bytes[position])) { position += 1 }
            guard position > start else { throw Malformed(reason: "truncated header") }
            return String(decoding: bytes[start..<position], as: UTF8.self)
        }
        let magic = try token()
        var width = 0, height = 0, channels = 0
        switch magic {
        case "P5", "P6":
            guard let w = Int(try token()), let h = Int(try token()), try token() == "255" else {
                throw Malformed(reason: "bad P5/P6 header")
            }
            width = w; height = h; channels = magic == "P5" ? 1 : 3
        case "P7":
            while true {
                let key = try token()
                if key == "ENDHDR" { break }
                let value = try token()
                switch key {
                case "WIDTH": width = Int(value) ?? 0
                case "HEIGHT": height = Int(value) ?? 0
                case "DEPTH": channels = Int(value) ?? 0
                case "MAXVAL": guard value == "255" else { throw Malformed(reason: "maxval \(value)") }
                default: break
                }
            }
        default:
            throw Malformed(reason: "unsupported magic \(magic)")
        }
        position += 1  // the single whitespace byte after the header
        let count = width * height * channels
        guard bytes.count - position >= count else { throw Malformed(reason: "truncated pixels") }
        return Image(width: width, height: height, channels: channels, pixels: Array(bytes[position..<(position + count)]))
    }
}
