import CZlib
import Testing
@testable import HFSFormat

@Suite struct CRC32Tests {
    @Test func knownValues() {
        #expect(checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(checksum(Array("The quick brown fox jumps over the lazy dog".utf8)) == 0x414F_A339)
        #expect(checksum([]) == 0)
    }

    /// Frames written before the switch to ISA-L carry zlib's CRC: both must agree on every length
    /// and alignment (ISA-L folds 64-byte blocks, with separate code for short and unaligned tails).
    @Test func agreesWithZlib() {
        let data = TestData.random(70_000, seed: 4)
        for (start, count) in [(0, 1), (1, 7), (3, 63), (5, 64), (0, 65), (7, 4095), (1, 65_536), (0, 70_000)] {
            let slice = data[start..<(start + count)]
            let zlib = slice.withUnsafeBytes { UInt32(crc32_z(0, $0.baseAddress!.assumingMemoryBound(to: Bytef.self), z_size_t(count))) }
            #expect(slice.withUnsafeBytes { CRC32.checksum($0) } == zlib, "\(count) bytes at \(start)")
        }
    }

    @Test func seedContinuesAChecksum() {
        let data = TestData.random(100_000, seed: 9)
        let whole = checksum(data)
        let first = checksum(Array(data[..<33_333]))
        let chained = data[33_333...].withUnsafeBytes { CRC32.checksum($0, seed: first) }
        #expect(chained == whole)
        #expect([UInt8]().withUnsafeBytes { CRC32.checksum($0, seed: 0xDEAD_BEEF) } == 0xDEAD_BEEF)
    }
}

@Suite struct ImageMagicTests {
    @Test(arguments: [
        ("jpeg", [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10] as [UInt8]),
        ("png", [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00]),
        ("gif87a", Array("GIF87a....".utf8)),
        ("gif89a", Array("GIF89a".utf8)),
        ("webp", Array("RIFF".utf8) + [0x24, 0x00, 0x00, 0x00] + Array("WEBPVP8 ".utf8)),
    ])
    func recognisesCompressedFormats(name: String, prefix: [UInt8]) {
        #expect(ImageMagic.kind(prefix) == .compressed, "\(name)")
        #expect(ImageMagic.kind(prefix[...]) == .compressed, "\(name) as a slice")
    }

    @Test(arguments: [
        ("empty", [] as [UInt8]),
        ("short jpeg", [0xFF, 0xD8]),
        ("png without its tail", [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A]),
        ("gif88a", Array("GIF88a".utf8)),
        ("wav", Array("RIFF".utf8) + [0x24, 0x00, 0x00, 0x00] + Array("WAVEfmt ".utf8)),
        ("riff too short", Array("RIFF\0\0\0\0WEB".utf8)),
        ("text", Array("hello, world".utf8)),
    ])
    func rejectsOtherData(name: String, prefix: [UInt8]) {
        #expect(ImageMagic.kind(prefix) == .other, "\(name)")
    }

    /// A BMP file header and BITMAPINFOHEADER (40 bytes) with `bpp` bits per pixel.
    static func bmp(bpp: Int, compression: Int, infoSize: Int = 40) -> [UInt8] {
        var h = [UInt8](repeating: 0, count: 54)
        h[0] = UInt8(ascii: "B"); h[1] = UInt8(ascii: "M")
        h[14] = UInt8(infoSize)
        h[28] = UInt8(bpp)
        h[30] = UInt8(compression)
        return h
    }

    static let pixelHeaders: [(String, [UInt8], Int)] = [
        ("ppm", Array("P6\n640 480\n255\n".utf8), 3),
        ("pgm", Array("P5 7 1 255 ".utf8), 1),
        ("16-bit ppm", Array("P6\n2 2\n65535\n".utf8), 6),
        ("16-bit pgm", Array("P5\t3\r\n3\r\n1023\n".utf8), 2),
        ("ppm with comments", Array("P6\n# made by a scanner\n# 2 comments\n640 480\n255\n".utf8), 3),
        ("24-bit bmp", ImageMagicTests.bmp(bpp: 24, compression: 0), 3),
        ("32-bit bmp", ImageMagicTests.bmp(bpp: 32, compression: 0), 4),
        ("32-bit bitfields bmp", ImageMagicTests.bmp(bpp: 32, compression: 3), 4),
    ]

    @Test(arguments: pixelHeaders)
    func recognisesUncompressedPixels(name: String, prefix: [UInt8], stride: Int) {
        #expect(ImageMagic.kind(prefix + [1, 2, 3]) == .pixels(stride: stride), "\(name)")
    }

    static let otherHeaders: [(String, [UInt8])] = [
        ("ascii ppm", Array("P3\n2 2\n255\n".utf8)),
        ("ppm without maxval", Array("P6\n640 480\n".utf8)),
        ("maxval not ended in the prefix", Array("P6\n640 480\n255".utf8)),
        ("maxval 0", Array("P6\n640 480\n0\n".utf8)),
        ("maxval too large", Array("P6\n640 480\n65536\n".utf8)),
        ("zero width", Array("P6\n0 480\n255\n".utf8)),
        ("letters", Array("P6\n64x 480\n255\n".utf8)),
        ("no space after magic", Array("P6640 480 255\n".utf8)),
        ("header beyond the prefix", Array(("P6\n# " + String(repeating: "c", count: 80) + "\n640 480\n255\n").utf8)),
        ("8-bit bmp", ImageMagicTests.bmp(bpp: 8, compression: 0)),
        ("rle bmp", ImageMagicTests.bmp(bpp: 24, compression: 1)),
        ("os/2 bmp", ImageMagicTests.bmp(bpp: 24, compression: 0, infoSize: 12)),
        ("short bmp", Array(ImageMagicTests.bmp(bpp: 24, compression: 0).prefix(30))),
    ]

    @Test(arguments: otherHeaders)
    func rejectsOtherHeaders(name: String, prefix: [UInt8]) {
        #expect(ImageMagic.kind(prefix) == .other, "\(name)")
    }
}
