import CZlib
import Testing
@testable import HFSImaging

/// Codec round trips, header probing, limits and hostile input.
@Suite struct CodecTests {
    let rgb = Synthetic.shapes(width: 67, height: 45)
    let rgba = Synthetic.gradient(width: 33, height: 17, channels: 4)
    let gray = Synthetic.checkerboard(width: 31, height: 29, cell: 3)

    @Test func pngRoundTripIsExact() throws {
        for image in [rgb, rgba, gray, Synthetic.noise(width: 1, height: 1, channels: 3)] {
            let bytes = try Imaging.encode(image, as: .png)
            #expect(ImageFormat.detect(bytes) == .png)
            #expect(try Imaging.probe(bytes) == ImageInfo(format: .png, width: image.width, height: image.height, channels: image.channels))
            #expect(try Imaging.decode(bytes) == image)
        }
    }

    @Test func pnmRoundTripIsExact() throws {
        let ppm = try Imaging.encode(rgb, as: .ppm)
        #expect(try Imaging.decode(ppm) == rgb)
        #expect(try Imaging.probe(ppm) == ImageInfo(format: .ppm, width: 67, height: 45, channels: 3))
        let pgm = try Imaging.encode(gray, as: .pgm)
        #expect(try Imaging.decode(pgm) == gray)
        #expect(throws: ImagingError.self) { try Imaging.encode(rgba, as: .ppm) }
        #expect(throws: ImagingError.self) { try Imaging.encode(rgb, as: .pgm) }
    }

    @Test func pnmHeaderCommentsAndRejections() throws {
        let withComments = Array("P5 # a comment\n# another\n2 # w\n1\n255\n".utf8) + [7, 9]
        #expect(try Imaging.decode(withComments) == Image(width: 2, height: 1, channels: 1, pixels: [7, 9]))
        #expect(throws: ImagingError.unsupported("PNM type P3: only binary P5 (PGM) and P6 (PPM) are read")) {
            try Imaging.decode(Array("P3\n1 1\n255\n0 0 0\n".utf8))
        }
        #expect(throws: ImagingError.unsupported("PNM maxval 65535: only 255 (8-bit) is read")) {
            try Imaging.decode(Array("P5\n1 1\n65535\n".utf8) + [0, 0])
        }
        #expect(throws: ImagingError.self) { try Imaging.decode(Array("P6\n2 2\n255\n".utf8) + [1, 2, 3]) }
        #expect(throws: ImagingError.self) { try Imaging.decode(Array("P6\n99999999999 2\n255\n".utf8)) }
        #expect(throws: ImagingError.self) { try Imaging.decode(Array("P6\n0 2\n255\n".utf8)) }
        #expect(throws: ImagingError.self) { try Imaging.decode(Array("P6\n2".utf8)) }
    }

    @Test func jpegRoundTripWithinTolerance() throws {
        let smooth = Synthetic.gradient(width: 64, height: 48)
        let bytes = try Imaging.encode(smooth, as: .jpeg, quality: 95)
        #expect(ImageFormat.detect(bytes) == .jpeg)
        let decoded = try Imaging.decode(bytes)
        #expect(decoded.width == 64 && decoded.height == 48 && decoded.channels == 3)
        let agreement = Agreement(decoded, smooth, tolerance: 8)
        #expect(agreement.fractionWithin > 0.99, "\(agreement)")
        let grayBytes = try Imaging.encode(Synthetic.gradient(width: 40, height: 30, channels: 1), as: .jpeg)
        #expect(try Imaging.probe(grayBytes).channels == 1)
        #expect(try Imaging.decode(grayBytes).channels == 1)
        #expect(throws: ImagingError.self) { try Imaging.encode(rgba, as: .jpeg) }
        #expect(throws: ImagingError.self) { try Imaging.encode(smooth, as: .jpeg, quality: 0) }
        let low = try Imaging.encode(smooth, as: .jpeg, quality: 20)
        #expect(low.count < bytes.count)
    }

    @Test func jpegScaledDecodeRoundsUp() throws {
        let bytes = try Imaging.encode(Synthetic.shapes(width: 101, height: 75), as: .jpeg)
        for (scale, size) in [(JPEGScale.full, (101, 75)), (.half, (51, 38)), (.quarter, (26, 19)), (.eighth, (13, 10))] {
            let image = try Imaging.decode(bytes, options: DecodeOptions(scale: scale))
            #expect(image.width == size.0 && image.height == size.1, "\(scale)")
        }
        #expect(JPEGScale.largestReduction(width: 1024, height: 768, minWidth: 128, minHeight: 96) == .eighth)
        #expect(JPEGScale.largestReduction(width: 1024, height: 768, minWidth: 200, minHeight: 150) == .quarter)
        #expect(JPEGScale.largestReduction(width: 1024, height: 768, minWidth: 1000, minHeight: 1) == .full)
        #expect(JPEGScale.largestReduction(width: 1024, height: 768, minSide: 96) == .eighth)
        #expect(JPEGScale.largestReduction(width: 1024, height: 768, minSide: 97) == .quarter)
        #expect(JPEGScale.largestReduction(width: 1024, height: 768, minSide: 768) == .full)
        let thumb = try Imaging.decodeThumbnail(bytes, maxSide: 20)
        #expect(thumb.width == 20 && thumb.height == 15)
    }

    @Test func pixelLimitIsCheckedBeforeDecoding() throws {
        let image = Synthetic.noise(width: 100, height: 60, channels: 3)
        for format in [ImageFormat.png, .jpeg, .ppm] {
            let bytes = try Imaging.encode(image, as: format)
            #expect(throws: ImagingError.tooLarge(width: 100, height: 60, limit: 5999)) {
                try Imaging.decode(bytes, options: DecodeOptions(pixelLimit: 5999))
            }
            #expect(try Imaging.decode(bytes, options: DecodeOptions(pixelLimit: 6000)).width == 100)
        }
        // Forged headers: a 60000×60000 JPEG SOF and a 200000×200000 PNG IHDR in tiny files.
        var jpeg = try Imaging.encode(image, as: .jpeg)
        let sof = try #require(findMarker(jpeg, 0xC0))
        jpeg[sof + 5] = 0xEA; jpeg[sof + 6] = 0x60; jpeg[sof + 7] = 0xEA; jpeg[sof + 8] = 0x60
        #expect(throws: ImagingError.tooLarge(width: 60000, height: 60000, limit: Imaging.pixelLimit)) {
            try Imaging.decode(jpeg)
        }
        let png = PNGBuilder.make(width: 200_000, height: 200_000, bitDepth: 8, colorType: 0, rows: [[0, 0]])
        #expect(throws: ImagingError.tooLarge(width: 200_000, height: 200_000, limit: Imaging.pixelLimit)) {
            try Imaging.decode(png)
        }
        let ppm = Array("P6\n100000 100000\n255\n".utf8)
        #expect(throws: ImagingError.tooLarge(width: 100_000, height: 100_000, limit: Imaging.pixelLimit)) {
            try Imaging.decode(ppm)
        }
    }

    @Test func pngVariantsDecodeToExpectedChannels() throws {
        // Palette with tRNS → RGBA.
        let palette = PNGBuilder.make(width: 2, height: 1, bitDepth: 8, colorType: 3, rows: [[0, 1]],
                                      plte: [255, 0, 0, 0, 0, 255], trns: [128])
        let decodedPalette = try Imaging.decode(palette)
        #expect(decodedPalette == Image(width: 2, height: 1, channels: 4, pixels: [255, 0, 0, 128, 0, 0, 255, 255]))
        // Palette without tRNS → RGB.
        let opaque = PNGBuilder.make(width: 2, height: 1, bitDepth: 8, colorType: 3, rows: [[1, 0]], plte: [255, 0, 0, 0, 0, 255])
        #expect(try Imaging.decode(opaque) == Image(width: 2, height: 1, channels: 3, pixels: [0, 0, 255, 255, 0, 0]))
        // 16-bit gray → 8-bit (high byte, rounded).
        let sixteen = PNGBuilder.make(width: 3, height: 1, bitDepth: 16, colorType: 0, rows: [[0x00, 0x00, 0x80, 0x00, 0xFF, 0xFF]])
        let decoded16 = try Imaging.decode(sixteen)
        #expect(decoded16.channels == 1)
        #expect(decoded16.pixels == [0, 128, 255])
        // Gray + alpha → RGBA.
        let grayAlpha = PNGBuilder.make(width: 1, height: 1, bitDepth: 8, colorType: 4, rows: [[100, 50]])
        #expect(try Imaging.decode(grayAlpha) == Image(width: 1, height: 1, channels: 4, pixels: [100, 100, 100, 50]))
        // 2-bit gray → scaled to 8 bits.
        let twoBit = PNGBuilder.make(width: 4, height: 1, bitDepth: 2, colorType: 0, rows: [[0b00_01_10_11]])
        #expect(try Imaging.decode(twoBit).pixels == [0, 85, 170, 255])
        // Gray with tRNS → RGBA.
        let grayKey = PNGBuilder.make(width: 2, height: 1, bitDepth: 8, colorType: 0, rows: [[7, 9]], trns: [0, 7])
        #expect(try Imaging.decode(grayKey).pixels == [7, 7, 7, 0, 9, 9, 9, 255])
    }

    @Test func corruptInputsThrowAndNeverCrash() throws {
        let sources = [try Imaging.encode(rgb, as: .jpeg), try Imaging.encode(rgb, as: .png),
                       try Imaging.encode(rgb, as: .ppm), try Imaging.encode(gray, as: .jpeg)]
        for bytes in sources {
            // Every truncation point of the first 2 KB, then every 97th.
            let cuts = Array(0..<min(bytes.count, 2048)) + Array(stride(from: 2048, to: bytes.count, by: 97))
            for cut in cuts {
                #expect(throws: ImagingError.self) { try Imaging.decode(Array(bytes[0..<cut])) }
            }
        }
        var rng = SeededGenerator(seed: 99)
        for source in sources {
            for _ in 0..<300 {
                var bytes = source
                for _ in 0..<Int.random(in: 1...8, using: &rng) {
                    let i = Int.random(in: 0..<bytes.count, using: &rng)
                    bytes[i] = UInt8.random(in: 0...255, using: &rng)
                }
                // Corrupted data may still decode (JPEG has no checksum); it must not crash.
                if let image = try? Imaging.decode(bytes) {
                    #expect(image.pixels.count == image.width * image.height * image.channels)
                }
                _ = try? Imaging.probe(bytes)
            }
        }
        for prefix in [[UInt8](), [0xFF, 0xD8, 0xFF], PNGCodec.signature, Array("P6".utf8)] {
            for _ in 0..<200 {
                let noise = (0..<Int.random(in: 0...600, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                #expect(throws: ImagingError.self) { try Imaging.decode(prefix + noise) }
            }
        }
        #expect(throws: ImagingError.corrupt("empty input")) { try Imaging.decode([UInt8]()) }
        #expect(throws: ImagingError.self) { try Imaging.decode(Array("GIF89a".utf8)) }
    }

    @Test func truncatedJPEGSaysSo() throws {
        let bytes = try Imaging.encode(Synthetic.noise(width: 64, height: 64), as: .jpeg)
        do {
            _ = try Imaging.decode(Array(bytes[0..<(bytes.count / 2)]))
            Issue.record("truncated JPEG decoded")
        } catch let ImagingError.corrupt(message) {
            #expect(message.hasPrefix("truncated JPEG"), "\(message)")
        }
    }

    func findMarker(_ bytes: [UInt8], _ marker: UInt8) -> Int? {
        (0..<(bytes.count - 1)).first { bytes[$0] == 0xFF && bytes[$0 + 1] == marker }
    }
}

/// Builds small PNG files chunk by chunk (filter 0 on every row) to test decoder variants.
enum PNGBuilder {
    static func make(width: Int, height: Int, bitDepth: UInt8, colorType: UInt8, rows: [[UInt8]],
                     plte: [UInt8]? = nil, trns: [UInt8]? = nil) -> [UInt8] {
        var out = PNGCodec.signature
        var ihdr = be32(width) + be32(height)
        ihdr += [bitDepth, colorType, 0, 0, 0]
        out += chunk("IHDR", ihdr)
        if let plte { out += chunk("PLTE", plte) }
        if let trns { out += chunk("tRNS", trns) }
        let raw: [UInt8] = rows.flatMap { row -> [UInt8] in [0] + row }
        var compressedLength = compressBound(uLong(raw.count))
        var compressed = [UInt8](repeating: 0, count: Int(compressedLength))
        _ = compress(&compressed, &compressedLength, raw, uLong(raw.count))
        out += chunk("IDAT", Array(compressed[0..<Int(compressedLength)]))
        out += chunk("IEND", [])
        return out
    }

    static func be32(_ v: Int) -> [UInt8] {
        [UInt8(truncatingIfNeeded: v >> 24), UInt8(truncatingIfNeeded: v >> 16), UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)]
    }

    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        let crc = body.withUnsafeBufferPointer { crc32_z(0, $0.baseAddress, $0.count) }
        return be32(data.count) + body + be32(Int(crc))
    }
}
