import Foundation

/// JPEG: walks the marker segments from SOI to EOI. Segment lengths are followed (so a thumbnail
/// inside APP1 cannot end the walk early), the frame header (SOF0/1/2) gives size and
/// components, and each scan's entropy-coded data is skipped with `memchr` to the next real
/// marker (0xFF not followed by a stuffed 0x00 or a restart marker).
enum JPEGProbe {
    static let truncated = ProbeResult.invalid(InvalidImage("truncated JPEG (no EOI marker)"))

    static func probe(_ b: ByteView) -> ProbeResult {
        var i = 2                     // after SOI
        var frame: ImageInfo?
        var scans = 0
        while true {
            guard i < b.count else { return truncated }
            guard b[i] == 0xFF else { return invalid("JPEG has no marker at offset \(i) (byte 0x\(hex(b[i])))") }
            while i < b.count && b[i] == 0xFF { i += 1 }      // fill bytes
            guard i < b.count else { return truncated }
            let marker = b[i]
            let markerOffset = i - 1
            i += 1
            switch marker {
            case 0xD9:                                         // EOI
                guard let frame else { return invalid("JPEG has no frame header (SOF marker)") }
                guard scans > 0 else { return invalid("JPEG has no image data (no SOS marker)") }
                return .image(frame)
            case 0x01, 0xD0...0xD7:                            // TEM, RSTn: no length
                continue
            case 0xD8:
                return invalid("JPEG has a second SOI marker at offset \(markerOffset)")
            case 0x00:
                return invalid("JPEG has an invalid marker 0xFF00 at offset \(markerOffset)")
            default:
                break
            }
            guard i + 2 <= b.count else { return truncated }
            let length = b.u16(i)
            guard length >= 2 else {
                return invalid("JPEG segment 0xFF\(hex(marker)) at offset \(markerOffset) has length \(length)")
            }
            guard i + length <= b.count else { return truncated }
            let body = i + 2
            let end = i + length
            switch marker {
            case 0xC0, 0xC1, 0xC2:
                if frame != nil { return invalid("JPEG has a second frame header at offset \(markerOffset)") }
                switch parseFrame(b, body: body, end: end) {
                case .image(let info): frame = info
                case let other: return other
                }
            case 0xC3, 0xC5, 0xC6, 0xC7, 0xCB, 0xCD, 0xCE, 0xCF:
                return invalid("unsupported JPEG (lossless or hierarchical, SOF\(Int(marker) - 0xC0))")
            case 0xC9, 0xCA:
                return invalid("unsupported JPEG (arithmetic coding, SOF\(Int(marker) - 0xC0))")
            case 0xDA:
                guard frame != nil else { return invalid("JPEG scan before the frame header at offset \(markerOffset)") }
                let components = body < end ? Int(b[body]) : 0
                guard (1...4).contains(components), length == 6 + 2 * components else {
                    return invalid("JPEG scan header at offset \(markerOffset) is malformed")
                }
                scans += 1
                guard let next = skipEntropyCodedData(b, from: end) else { return truncated }
                i = next
                continue
            default:
                break                                          // DHT, DQT, DRI, APPn, COM, …
            }
            i = end
        }
    }

    /// SOF0/1/2 body: precision, height, width, components with sampling factors.
    static func parseFrame(_ b: ByteView, body: Int, end: Int) -> ProbeResult {
        guard end - body >= 6 else { return invalid("JPEG frame header is too short") }
        let precision = b[body]
        let height = b.u16(body + 1)
        let width = b.u16(body + 3)
        let components = Int(b[body + 5])
        guard precision == 8 else { return invalid("unsupported JPEG (\(precision)-bit precision)") }
        guard width > 0 else { return invalid("JPEG has zero width") }
        guard height > 0 else { return invalid("JPEG has zero height") }
        guard components == 1 || components == 3 || components == 4 else {
            return invalid("JPEG has \(components) components (1, 3 or 4 supported)")
        }
        guard end - body >= 6 + 3 * components else { return invalid("JPEG frame header is too short") }
        for c in 0..<components {
            let sampling = b[body + 6 + 3 * c + 1]
            let h = sampling >> 4, v = sampling & 0x0F
            guard (1...4).contains(h), (1...4).contains(v) else {
                return invalid("JPEG component \(c) has invalid sampling factors \(h)x\(v)")
            }
        }
        return .image(ImageInfo(format: .jpeg, width: width, height: height, channels: components))
    }

    /// Offset of the 0xFF that starts the first marker after entropy-coded data starting at
    /// `start`, or nil when the data runs to the end of the buffer.
    static func skipEntropyCodedData(_ b: ByteView, from start: Int) -> Int? {
        guard let base = b.base.baseAddress else { return nil }
        var j = start
        while j < b.count {
            guard let hit = memchr(base + j, 0xFF, b.count - j) else { return nil }
            j = base.distance(to: UnsafeRawPointer(hit))
            guard j + 1 < b.count else { return nil }
            let next = b[j + 1]
            if next == 0x00 || (0xD0...0xD7).contains(next) { j += 2; continue }   // stuffing, RSTn
            if next == 0xFF { j += 1; continue }                                    // fill byte
            return j
        }
        return nil
    }

    static func invalid(_ reason: String) -> ProbeResult { .invalid(InvalidImage(reason)) }
    static func hex(_ v: UInt8) -> String { String(v, radix: 16, uppercase: true).leftPadded(2) }
}

extension String {
    func leftPadded(_ width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
