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
        #expect(ImageMagic.isCompressedFormat(prefix), "\(name)")
        #expect(ImageMagic.isCompressedFormat(prefix[...]), "\(name) as a slice")
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
        #expect(!ImageMagic.isCompressedFormat(prefix), "\(name)")
    }
}
