import Foundation

/// Image header probing: format, width, height and channels from the header and structure of an
/// image alone, without decoding pixels, so that ingest can describe thousands of images per
/// second and reject broken ones before they are stored.
///
/// Detection is by content only (never by file name). Supported formats are the ones the compute
/// codecs decode: JPEG (baseline, extended and progressive Huffman, 8-bit), PNG, and binary
/// PPM/PGM (P6/P5, maxval ≤ 255). Every other input is an ``InvalidImage`` with a one-line reason:
/// - empty input → `empty file`; unknown bytes → `not an image (unknown signature)`;
/// - GIF, WebP, BMP, TIFF, HEIC/AVIF, … → `unsupported format gif` and so on;
/// - JPEG: the marker segments are walked to the frame header (SOFn) and every scan's
///   entropy-coded data is skipped to the next marker; the file must reach EOI, so a JPEG cut
///   anywhere is `truncated JPEG (no EOI marker)`;
/// - PNG: IHDR must come first with a valid bit depth / colour type; every chunk is bounds-checked
///   and its CRC verified (CRC-32 through ISA-L); the file must reach IEND;
/// - PPM/PGM: the header is parsed (comments allowed) and the payload must hold
///   width × height × channels bytes.
///
/// The caller passes a buffer it already holds (`UnsafeRawBufferPointer`, or any `ContiguousBytes`
/// such as `[UInt8]` or `Data` through the generic overload, which does not copy).
public enum ImageProbe {
    /// Probes `bytes`; never traps, whatever the input.
    public static func probe(_ bytes: UnsafeRawBufferPointer) -> ProbeResult {
        if bytes.isEmpty { return .invalid(InvalidImage("empty file")) }
        let b = ByteView(bytes)
        if b.hasPrefix([0xFF, 0xD8, 0xFF]) { return JPEGProbe.probe(b) }
        if b.hasPrefix(PNGProbe.signature) { return PNGProbe.probe(b) }
        if b.count >= 2 && b[0] == UInt8(ascii: "P") && (b[1] >= UInt8(ascii: "1") && b[1] <= UInt8(ascii: "7")) {
            return PNMProbe.probe(b)
        }
        if let name = unsupportedFormat(b) { return .invalid(InvalidImage("unsupported format \(name)")) }
        return .invalid(InvalidImage("not an image (unknown signature)"))
    }

    /// Probes any contiguous byte container (`[UInt8]`, `Data`, …) in place.
    public static func probe<Bytes: ContiguousBytes>(_ bytes: Bytes) -> ProbeResult {
        bytes.withUnsafeBytes { probe($0) }
    }

    /// Recognised image formats that hfs does not decode.
    static func unsupportedFormat(_ b: ByteView) -> String? {
        if b.hasPrefix(Array("GIF87a".utf8)) || b.hasPrefix(Array("GIF89a".utf8)) { return "gif" }
        if b.hasPrefix(Array("RIFF".utf8)) && b.count >= 12 && b.matches(Array("WEBP".utf8), at: 8) { return "webp" }
        if b.hasPrefix(Array("BM".utf8)) && b.count >= 26 { return "bmp" }
        if b.hasPrefix([0x49, 0x49, 0x2A, 0x00]) || b.hasPrefix([0x4D, 0x4D, 0x00, 0x2A]) { return "tiff" }
        if b.hasPrefix([0x49, 0x49, 0x2B, 0x00]) || b.hasPrefix([0x4D, 0x4D, 0x00, 0x2B]) { return "tiff" }
        if b.hasPrefix([0x00, 0x00, 0x01, 0x00]) && b.count >= 22 { return "ico" }
        if b.hasPrefix([0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20]) || b.hasPrefix([0xFF, 0x4F, 0xFF, 0x51]) { return "jpeg2000" }
        if b.hasPrefix([0xFF, 0x0A]) || b.hasPrefix([0x00, 0x00, 0x00, 0x0C, 0x4A, 0x58, 0x4C, 0x20]) { return "jpegxl" }
        if b.hasPrefix(Array("8BPS".utf8)) { return "psd" }
        if b.count >= 12 && b.matches(Array("ftyp".utf8), at: 4) {
            let brand = String(decoding: (8..<12).map { b[$0] }, as: UTF8.self)
            if brand.hasPrefix("avi") { return "avif" }
            if ["heic", "heix", "hevc", "heim", "heis", "mif1", "msf1"].contains(brand) { return "heic" }
        }
        return nil
    }
}

/// What ``ImageProbe`` found.
public enum ProbeResult: Sendable, Equatable {
    case image(ImageInfo)
    case invalid(InvalidImage)

    public var info: ImageInfo? { if case .image(let i) = self { return i } else { return nil } }
    public var invalidReason: String? { if case .invalid(let e) = self { return e.reason } else { return nil } }
}

/// Why some bytes are not a usable image, in one line (`truncated JPEG (no EOI marker)`).
public struct InvalidImage: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// Bounds-checked, non-owning byte access used by the format probes.
struct ByteView {
    let base: UnsafeRawBufferPointer
    init(_ base: UnsafeRawBufferPointer) { self.base = base }

    var count: Int { base.count }
    subscript(i: Int) -> UInt8 { base[i] }

    func hasPrefix(_ p: [UInt8]) -> Bool { matches(p, at: 0) }

    func matches(_ p: [UInt8], at offset: Int) -> Bool {
        guard offset >= 0, offset + p.count <= count else { return false }
        for i in 0..<p.count where base[offset + i] != p[i] { return false }
        return true
    }

    /// Big-endian UInt16 at `i` (the caller checked `i + 2 <= count`).
    func u16(_ i: Int) -> Int { Int(base[i]) << 8 | Int(base[i + 1]) }

    /// Big-endian UInt32 at `i` (the caller checked `i + 4 <= count`).
    func u32(_ i: Int) -> UInt32 {
        UInt32(base[i]) << 24 | UInt32(base[i + 1]) << 16 | UInt32(base[i + 2]) << 8 | UInt32(base[i + 3])
    }
}

