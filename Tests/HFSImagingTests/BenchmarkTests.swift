import Foundation
import Testing
@testable import HFSImaging

/// Throughput measurements, printed with a `BENCH` prefix and never asserted (timings depend on the
/// machine and its load). Meaningful only in release:
/// `swift test -c release -Xswiftc -enable-testing --filter BenchmarkTests`.
/// Debug builds run each measurement only briefly (a smoke test of the code paths).
@Suite(.serialized) struct BenchmarkTests {
    /// A 1024×768 photo-like JPEG (q85): the sample photo `coffee.png` when the reference python is
    /// available, else generated shapes with noise.
    static func testJPEG() throws -> (name: String, bytes: [UInt8]) {
        var source = Synthetic.shapes(width: 1024, height: 768, seed: 11)
        var name = "synthetic"
        if Reference.python != nil, let data = try? Reference.dataDirectory(),
           let png = try? Data(contentsOf: data.appendingPathComponent("coffee.png")) {
            source = try Imaging.decode([UInt8](png)).resize(width: 1024, height: 768, interpolation: .bilinear)
            name = "coffee"
        }
        return (name, try Imaging.encode(source, as: .jpeg, quality: 85))
    }

    /// Runs `body` repeatedly for about `seconds` and returns operations per second.
    func rate(seconds: Double = 1.5, _ body: () throws -> Void) rethrows -> Double {
        #if DEBUG
        let seconds = 0.02
        #endif
        try body() // warm up
        let clock = ContinuousClock()
        var count = 0
        let start = clock.now
        var elapsed = 0.0
        repeat {
            try body()
            count += 1
            let d = clock.now - start
            elapsed = Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
        } while elapsed < seconds
        return Double(count) / elapsed
    }

    func report(_ label: String, _ perSecond: Double, _ unit: String = "img/s") {
        #if DEBUG
        let build = " (debug build, not representative)"
        #else
        let build = ""
        #endif
        print(String(format: "BENCH %@: %.1f %@%@", label, perSecond, unit, build))
    }

    @Test func decodeAndThumbnail() throws {
        let (name, jpeg) = try Self.testJPEG()
        print("BENCH input: 1024x768 \(name) JPEG q85, \(jpeg.count) bytes")
        report("JPEG decode full", try rate { _ = try Imaging.decode(jpeg) })
        report("JPEG decode 1/4", try rate { _ = try Imaging.decode(jpeg, options: DecodeOptions(scale: .quarter)) })
        for side in [128, 200, 256] {
            report("decodeThumbnail maxSide \(side) (DCT scaling + area)", try rate { _ = try Imaging.decodeThumbnail(jpeg, maxSide: side) })
        }
        report("decode full + thumbnail(200) area", try rate { _ = try Imaging.decode(jpeg).thumbnail(maxSide: 200) })
    }

    @Test func filters() throws {
        let (_, jpeg) = try Self.testJPEG()
        let image = try Imaging.decode(jpeg)
        let gray = image.grayscale()
        report("grayscale 1024x768", rate { _ = image.grayscale() })
        report("resize bilinear 1024x768 -> 640x480", try rate { _ = try image.resize(width: 640, height: 480) })
        report("resize area 1024x768 -> 640x480", try rate { _ = try image.resize(width: 640, height: 480, interpolation: .area) })
        report("resize area 1024x768 -> 512x384 (2x)", try rate { _ = try image.resize(width: 512, height: 384, interpolation: .area) })
        report("thumbnail(200) from full 1024x768", rate { _ = image.thumbnail(maxSide: 200) })
        report("gaussianBlur sigma 2 RGB", try rate { _ = try image.gaussianBlur(sigma: 2) })
        report("sobel (incl. grayscale)", rate { _ = image.sobel() })
        report("canny 50/150 gray", rate { _ = gray.canny(low: 50, high: 150) })
        report("threshold otsu", rate { _ = image.threshold(.otsu) })
        report("rotate90 RGB", rate { _ = image.rotate90() })
        report("flip horizontal RGB", rate { _ = image.flip(.horizontal) })
    }

    @Test func encoders() throws {
        let (_, jpeg) = try Self.testJPEG()
        let image = try Imaging.decode(jpeg)
        report("JPEG encode q90 1024x768", try rate { _ = try Imaging.encode(image, as: .jpeg) })
        let png = try Imaging.encode(image, as: .png)
        print("BENCH PNG size 1024x768 RGB: \(png.count) bytes")
        report("PNG encode 1024x768 RGB", try rate { _ = try Imaging.encode(image, as: .png) })
        report("PNG decode 1024x768 RGB", try rate { _ = try Imaging.decode(png) })
        // zlib level × row filter × strategy (filters: 0x08 none, 0x10 sub, 0x20 up, 0xF8 all).
        for (level, filter, strategy, label) in [(1, 0x08, 0, "L1 none"), (1, 0x10, 0, "L1 sub"), (1, 0x20, 0, "L1 up"),
                                                 (2, 0x10, 0, "L2 sub"), (3, 0x10, 0, "L3 sub"), (1, 0xF8, 0, "L1 all"),
                                                 (1, 0x10, 3, "L1 sub RLE"), (1, 0x08, 2, "L1 none huffman"),
                                                 (6, 0xF8, 0, "L6 all (libpng default)")] {
            let bytes = try PNGCodec.encode(image, level: Int32(level), filter: Int32(filter), strategy: Int32(strategy))
            report("PNG encode \(label), \(bytes.count / 1024) KiB", try rate(seconds: 1) {
                _ = try PNGCodec.encode(image, level: Int32(level), filter: Int32(filter), strategy: Int32(strategy))
            })
        }
        let thumb = image.thumbnail(maxSide: 256)
        report("PNG encode 256x192 thumbnail", try rate { _ = try Imaging.encode(thumb, as: .png) })
    }
}
