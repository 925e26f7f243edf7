import Foundation
import Testing
import HFSImaging
import HFSTestSupport

@Suite struct ImageProbeValidTests {
    @Test func matchesPillowOnEveryGeneratedImage() throws {
        let f = try ProbeFixtures.get()
        #expect(f.images.count >= 20)
        for image in f.images {
            let result = ImageProbe.probe(try f.bytes(image.name))
            let expected = ImageInfo(format: ImageFormat(rawValue: image.format)!, width: image.width,
                                     height: image.height, channels: image.channels)
            #expect(result == .image(expected), "\(image.name)")
        }
    }

    @Test func acceptsDataAndBufferPointers() throws {
        let bytes = try ProbeFixtures.get().bytes("gray.png")
        let fromData = ImageProbe.probe(Data(bytes))
        let fromPointer = bytes.withUnsafeBytes { ImageProbe.probe($0) }
        #expect(fromData == fromPointer)
        #expect(fromData.info?.channels == 1)
    }

    @Test func bytesAfterTheEndAreIgnored() throws {
        let f = try ProbeFixtures.get()
        #expect(ImageProbe.probe(try f.bytes("rgb-17x9.jpg") + [0, 0, 0x12, 0xFF]).info?.width == 17)
        #expect(ImageProbe.probe(try f.bytes("rgba.png") + [1, 2, 3]).info?.channels == 4)
    }

    @Test func pnmHeaderWithComments() {
        let header = Array("P6\n# made by hand\n 3 # width\n2\n# max\n255\n".utf8)
        let ok = ImageProbe.probe(header + [UInt8](repeating: 7, count: 18))
        #expect(ok == .image(ImageInfo(format: .ppm, width: 3, height: 2, channels: 3)))
        let pgm = ImageProbe.probe(Array("P5 2 2 100 ".utf8) + [1, 2, 3, 4, 99])   // trailing bytes ok
        #expect(pgm == .image(ImageInfo(format: .pgm, width: 2, height: 2, channels: 1)))
    }
}

@Suite struct ImageProbeInvalidTests {
    func reason(_ bytes: [UInt8]) -> String? { ImageProbe.probe(bytes).invalidReason }

    @Test func emptyAndRandom() {
        #expect(reason([]) == "empty file")
        var rng = SeededRandom(seed: 42)
        for n in [1, 2, 7, 100, 5000] {
            var bytes = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
            bytes[0] = 0x5A   // not the first byte of any known signature
            #expect(reason(bytes) == "not an image (unknown signature)")
        }
        #expect(reason(Array("hello, I am a text file named .jpg\n".utf8)) == "not an image (unknown signature)")
    }

    @Test func unsupportedFormatsBySignature() throws {
        let f = try ProbeFixtures.get()
        for (file, name) in [("x.gif", "gif"), ("x.webp", "webp"), ("x.bmp", "bmp"), ("x.tiff", "tiff")] {
            #expect(reason(try f.bytes(file)) == "unsupported format \(name)")
        }
        #expect(reason(try f.bytes("deep.pgm")) == "unsupported PGM (maxval 65535, 16-bit)")
        #expect(reason(Array("P3\n1 1\n255\n0 0 0\n".utf8)) == "unsupported format ascii pnm (P3)")
    }

    @Test func truncatedJPEGAtTenOffsets() throws {
        let f = try ProbeFixtures.get()
        for name in ["rgb-640x480.jpg", "progressive.jpg"] {
            let jpeg = try f.bytes(name)
            let n = jpeg.count
            let cuts = [3, 4, 20, 200, 700, n / 4, n / 2, 3 * n / 4, n - 2, n - 1]
            for cut in cuts {
                #expect(reason(Array(jpeg[..<cut])) == "truncated JPEG (no EOI marker)", "\(name) cut at \(cut)")
            }
        }
    }

    @Test func jpegFrameHeaderProblems() throws {
        let jpeg = try ProbeFixtures.get().bytes("rgb-17x9.jpg")
        let sof = try #require(markerOffset(jpeg, 0xC0))
        var zeroWidth = jpeg
        zeroWidth[sof + 7] = 0; zeroWidth[sof + 8] = 0
        #expect(reason(zeroWidth) == "JPEG has zero width")
        var zeroHeight = jpeg
        zeroHeight[sof + 5] = 0; zeroHeight[sof + 6] = 0
        #expect(reason(zeroHeight) == "JPEG has zero height")
        var arithmetic = jpeg
        arithmetic[sof + 1] = 0xC9
        #expect(reason(arithmetic) == "unsupported JPEG (arithmetic coding, SOF9)")
        var lossless = jpeg
        lossless[sof + 1] = 0xC3
        #expect(reason(lossless) == "unsupported JPEG (lossless or hierarchical, SOF3)")
        var deep = jpeg
        deep[sof + 4] = 12
        #expect(reason(deep) == "unsupported JPEG (12-bit precision)")
        // an EOI right after the headers: no scan
        let sos = try #require(markerOffset(jpeg, 0xDA))
        #expect(reason(Array(jpeg[..<sos]) + [0xFF, 0xD9]) == "JPEG has no image data (no SOS marker)")
    }

    @Test func pngCorruption() throws {
        let png = try ProbeFixtures.get().bytes("rgb.png")
        let idat = try #require(chunkOffset(png, "IDAT"))
        var flipped = png
        flipped[idat + 8 + 100] ^= 0x01
        #expect(reason(flipped) == "PNG chunk IDAT has a bad CRC")
        var badHeaderCRC = png
        badHeaderCRC[16] ^= 0x80  // width byte inside IHDR
        #expect(reason(badHeaderCRC) == "PNG chunk IHDR has a bad CRC")
        for cut in [8, 20, 33, idat + 50, png.count - 12, png.count - 1] {
            #expect(reason(Array(png[..<cut])) == "truncated PNG (no IEND chunk)", "cut at \(cut)")
        }
        #expect(reason(Array(png[..<5])) == "not an image (unknown signature)")
    }

    @Test func pnmProblems() throws {
        let ppm = try ProbeFixtures.get().bytes("rgb.ppm")
        #expect(reason(Array(ppm[..<(ppm.count - 1)])) == "truncated PPM (payload \(64 * 32 * 3 - 1) of \(64 * 32 * 3) bytes)")
        #expect(reason(Array("P6\n0 5\n255\n".utf8)) == "PPM has zero width")
        #expect(reason(Array("P5\n4 4\n".utf8)) == "truncated PGM header")
        #expect(reason(Array("P6\n4 x4\n255\n".utf8)) == "PPM header is malformed at offset 5")
    }

    /// Offset of the first `FF marker` found by walking segments from SOI.
    func markerOffset(_ b: [UInt8], _ marker: UInt8) -> Int? {
        var i = 2
        while i + 4 <= b.count, b[i] == 0xFF {
            if b[i + 1] == marker { return i }
            i += 2 + (Int(b[i + 2]) << 8 | Int(b[i + 3]))
        }
        return nil
    }

    func chunkOffset(_ b: [UInt8], _ type: String) -> Int? {
        var i = 8
        while i + 8 <= b.count {
            let length = Int(b[i]) << 24 | Int(b[i + 1]) << 16 | Int(b[i + 2]) << 8 | Int(b[i + 3])
            if String(decoding: b[(i + 4)..<(i + 8)], as: UTF8.self) == type { return i }
            i += 12 + length
        }
        return nil
    }
}

@Suite struct ImageProbeFuzzTests {
    /// 2,000 seeded mutations and truncations of valid files: the probe must return, whatever it
    /// returns; mutations of the entropy-coded data may even stay valid.
    @Test func mutationsNeverCrash() throws {
        let f = try ProbeFixtures.get()
        let seeds = ["rgb-17x9.jpg", "progressive.jpg", "restart-comment.jpg", "palette-trns.png", "gray-alpha.png", "rgb.ppm", "gray.pgm"]
        let files = try seeds.map { try f.bytes($0) }
        var rng = SeededRandom(seed: 2026)
        var outcomes = [String: Int]()
        for round in 0..<2000 {
            var b = files[round % files.count]
            switch Int.random(in: 0..<4, using: &rng) {
            case 0:  // flip a few bytes, biased to the header
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    let limit = Bool.random(using: &rng) ? min(b.count, 64) : b.count
                    b[Int.random(in: 0..<limit, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                }
            case 1:  // truncate
                b = Array(b[..<Int.random(in: 0..<b.count, using: &rng)])
            case 2:  // 0xFF / 0x00 bursts, interesting to marker and length parsing
                let at = Int.random(in: 0..<b.count, using: &rng)
                for k in at..<min(b.count, at + Int.random(in: 1...8, using: &rng)) { b[k] = Bool.random(using: &rng) ? 0xFF : 0x00 }
            default: // drop or duplicate a slice
                let at = Int.random(in: 0..<b.count, using: &rng)
                let len = Int.random(in: 1...32, using: &rng)
                let end = min(b.count, at + len)
                if Bool.random(using: &rng) { b.removeSubrange(at..<end) } else { b.insert(contentsOf: b[at..<end], at: at) }
            }
            let r = ImageProbe.probe(b)
            outcomes[r.info == nil ? "invalid" : "image", default: 0] += 1
        }
        #expect(outcomes.values.reduce(0, +) == 2000)
        #expect((outcomes["invalid"] ?? 0) > 1000)
    }
}

@Suite struct ImageProbeSpeed {
    /// Measured, not asserted: probes per second on a ~100 KB JPEG and a PNG.
    @Test func probesPerSecond() throws {
        let f = try ProbeFixtures.get()
        for name in ["photo-100k.jpg", "progressive.jpg", "rgb-640x480.jpg", "rgb.png", "rgb.ppm"] {
            let bytes = try f.bytes(name)
            let rounds = 5000
            let start = ContinuousClock.now
            var ok = 0
            bytes.withUnsafeBytes { buffer in
                for _ in 0..<rounds where ImageProbe.probe(buffer).info != nil { ok += 1 }
            }
            let seconds = (ContinuousClock.now - start) / .seconds(1)
            #expect(ok == rounds)
            print("probe \(name) (\(bytes.count / 1024) KB): \(Int(Double(rounds) / seconds)) probes/s, \(Int(Double(bytes.count * rounds) / seconds / 1e6)) MB/s")
        }
    }
}
