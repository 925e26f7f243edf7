import Foundation
import Testing
@testable import HFSImaging

/// Agreement with OpenCV (through `scripts/reference/ref_filters.py` and `$HFS_REF_PYTHON`) on
/// generated images and on scikit-image's sample photos. Each test prints one line per image with
/// the measured agreement, prefixed with `REF`.
@Suite(.enabled(if: Reference.python != nil, Reference.skipReason), .serialized)
struct ReferenceTests {
    /// Generated inputs plus natural photos, decoded by HFSImaging.
    static func inputs() throws -> [(name: String, image: Image)] {
        var list: [(String, Image)] = [
            ("gradient97x61", Synthetic.gradient(width: 97, height: 61)),
            ("checker64x48", Synthetic.checkerboard(width: 64, height: 48, cell: 5)),
            ("noise83x57", Synthetic.noise(width: 83, height: 57)),
            ("shapes160x120", Synthetic.shapes(width: 160, height: 120)),
            ("shapesRGBA75x50", Synthetic.shapes(width: 75, height: 50, channels: 4, seed: 3)),
        ]
        let data = try Reference.dataDirectory()
        for name in ["astronaut.png", "coffee.png", "chelsea.png", "camera.png"] {
            let bytes = try [UInt8](Data(contentsOf: data.appendingPathComponent(name)))
            list.append((name, try Imaging.decode(bytes)))
        }
        return list
    }

    /// Runs `filter` on every input through OpenCV and compares with `ours`.
    func compare(_ filter: String, _ parameters: [String: String] = [:], tolerance: Int,
                 minimumWithin: Double, maxDiffAllowed: Int = 255,
                 inputs: [(name: String, image: Image)]? = nil,
                 _ ours: (Image) throws -> Image) throws {
        let inputs = try inputs ?? Self.inputs()
        let references = try Reference.runBatch(inputs.map { Reference.Job(filter: filter, input: $0.image, parameters: parameters) })
        for ((name, image), reference) in zip(inputs, references) {
            let mine = try ours(image)
            try #require(mine.width == reference.width && mine.height == reference.height && mine.channels == reference.channels,
                         "\(filter) \(name): \(mine.width)x\(mine.height)x\(mine.channels) vs OpenCV \(reference.width)x\(reference.height)x\(reference.channels)")
            let agreement = Agreement(mine, reference, tolerance: tolerance)
            print("REF \(filter) \(parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")) \(name): \(agreement)")
            #expect(agreement.fractionWithin >= minimumWithin, "\(filter) \(name): \(agreement)")
            #expect(agreement.maxDiff <= maxDiffAllowed, "\(filter) \(name): \(agreement)")
        }
    }

    @Test func grayscale() throws {
        try compare("grayscale", tolerance: 0, minimumWithin: 0.99, maxDiffAllowed: 1) { $0.grayscale() }
    }

    @Test func resizeBilinear() throws {
        let inputs = try Self.inputs()
        for (fx, fy) in [(0.37, 0.41), (0.5, 0.5), (1.7, 1.3), (0.8, 2.1), (0.25, 0.25)] {
            for input in inputs {
                let w = max(1, Int(Double(input.image.width) * fx)), h = max(1, Int(Double(input.image.height) * fy))
                try compare("resize", ["width": "\(w)", "height": "\(h)", "interpolation": "bilinear"],
                            tolerance: 1, minimumWithin: 0.99, maxDiffAllowed: 2, inputs: [input]) {
                    try $0.resize(width: w, height: h, interpolation: .bilinear)
                }
            }
        }
    }

    @Test func resizeArea() throws {
        let inputs = try Self.inputs()
        for (fx, fy) in [(0.37, 0.41), (0.5, 0.5), (0.25, 0.2), (1.7, 1.3), (0.8, 2.1)] {
            for input in inputs {
                let w = max(1, Int(Double(input.image.width) * fx)), h = max(1, Int(Double(input.image.height) * fy))
                try compare("resize", ["width": "\(w)", "height": "\(h)", "interpolation": "area"],
                            tolerance: 1, minimumWithin: 0.99, maxDiffAllowed: 2, inputs: [input]) {
                    try $0.resize(width: w, height: h, interpolation: .area)
                }
            }
        }
    }

    @Test func thumbnail() throws {
        try compare("thumbnail", ["maxSide": "100"], tolerance: 1, minimumWithin: 0.99, maxDiffAllowed: 2) {
            $0.thumbnail(maxSide: 100)
        }
    }

    @Test(arguments: [(1.0, 0), (2.5, 0), (0.0, 5), (1.5, 7), (0.6, 0), (4.0, 9)])
    func gaussianBlur(sigma: Double, kernelSize: Int) throws {
        try compare("gaussian", ["sigma": "\(sigma)", "ksize": "\(kernelSize)"], tolerance: 2, minimumWithin: 0.99) {
            try $0.gaussianBlur(sigma: sigma, kernelSize: kernelSize)
        }
    }

    @Test func sobel() throws {
        try compare("sobel", tolerance: 2, minimumWithin: 0.99) { $0.sobel() }
    }

    @Test(arguments: [(50.0, 150.0), (100.0, 200.0), (20.0, 60.0), (80.5, 80.5)])
    func canny(low: Double, high: Double) throws {
        let inputs = try Self.inputs()
        let references = try Reference.runBatch(inputs.map {
            Reference.Job(filter: "canny", input: $0.image, parameters: ["low": "\(low)", "high": "\(high)"])
        })
        for ((name, image), reference) in zip(inputs, references) {
            let mine = image.canny(low: low, high: high)
            let f1 = edgeF1(mine, reference)
            let agreement = Agreement(mine, reference, tolerance: 0)
            print(String(format: "REF canny low=%g high=%g %@: F1 %.4f, %d edge px, %.3f%% identical", low, high, name,
                         f1, reference.pixels.filter { $0 != 0 }.count, agreement.fractionWithin * 100))
            #expect(f1 >= 0.95, "canny \(name): F1 \(f1)")
        }
    }

    @Test func geometry() throws {
        for times in [1, 2, 3] {
            try compare("rotate90", ["times": "\(times)"], tolerance: 0, minimumWithin: 1) { $0.rotate90(times: times) }
        }
        for direction in ["horizontal", "vertical"] {
            try compare("flip", ["direction": direction], tolerance: 0, minimumWithin: 1) {
                $0.flip(direction == "horizontal" ? .horizontal : .vertical)
            }
        }
        try compare("crop", ["x": "3", "y": "5", "width": "20", "height": "11"], tolerance: 0, minimumWithin: 1) {
            try $0.crop(x: 3, y: 5, width: 20, height: 11)
        }
    }

    @Test func threshold() throws {
        try compare("threshold", ["value": "127.5"], tolerance: 0, minimumWithin: 1) { $0.threshold(value: 127.5) }
        try compare("otsu", tolerance: 0, minimumWithin: 1) { $0.threshold(.otsu) }
    }

    /// Tiny images, kernels wider than the image, extreme and integer resize factors.
    @Test func edgeCases() throws {
        let tiny: [(name: String, image: Image)] = [
            ("1x1", Synthetic.noise(width: 1, height: 1, seed: 1)),
            ("2x3", Synthetic.noise(width: 2, height: 3, seed: 2)),
            ("7x1gray", Synthetic.noise(width: 7, height: 1, channels: 1, seed: 3)),
            ("1x9", Synthetic.noise(width: 1, height: 9, seed: 4)),
            ("5x4rgba", Synthetic.noise(width: 5, height: 4, channels: 4, seed: 5)),
            ("13x11", Synthetic.shapes(width: 13, height: 11, seed: 6)),
        ]
        try compare("gaussian", ["sigma": "3.0", "ksize": "0"], tolerance: 0, minimumWithin: 1, inputs: tiny) {
            try $0.gaussianBlur(sigma: 3)
        }
        try compare("gaussian", ["sigma": "0.3", "ksize": "0"], tolerance: 0, minimumWithin: 1, inputs: tiny) {
            try $0.gaussianBlur(sigma: 0.3)
        }
        try compare("sobel", tolerance: 0, minimumWithin: 1, inputs: tiny) { $0.sobel() }
        try compare("grayscale", tolerance: 0, minimumWithin: 1, inputs: tiny) { $0.grayscale() }
        for (w, h) in [(1, 1), (3, 2), (20, 17)] {
            for interpolation in Image.Interpolation.allCases {
                try compare("resize", ["width": "\(w)", "height": "\(h)", "interpolation": interpolation.rawValue],
                            tolerance: 0, minimumWithin: 1, inputs: tiny) {
                    try $0.resize(width: w, height: h, interpolation: interpolation)
                }
            }
        }
        let big = try Self.inputs().filter { $0.name == "astronaut.png" || $0.name == "shapes160x120" }
        for (fx, fy) in [(3, 3), (4, 2), (8, 8), (5, 1)] {
            for input in big {
                let w = input.image.width / fx, h = input.image.height / fy
                try compare("resize", ["width": "\(w)", "height": "\(h)", "interpolation": "area"],
                            tolerance: 1, minimumWithin: 0.99, maxDiffAllowed: 1, inputs: [input]) {
                    try $0.resize(width: w, height: h, interpolation: .area)
                }
            }
        }
        let references = try Reference.runBatch(tiny.map { Reference.Job(filter: "canny", input: $0.image, parameters: ["low": "30", "high": "90"]) })
        for ((name, image), reference) in zip(tiny, references) {
            #expect(image.canny(low: 30, high: 90) == reference, "canny \(name)")
        }
    }

    @Test func cmykJPEGMatchesOpenCV() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hfs-cmyk-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = directory.appendingPathComponent("in.ppm"), output = directory.appendingPathComponent("cmyk.jpg")
        try Data(Imaging.encode(Synthetic.shapes(width: 64, height: 40), as: .ppm)).write(to: input)
        _ = try Reference.run(["cmykjpeg", input.path, output.path])
        let bytes = try [UInt8](Data(contentsOf: output))
        #expect(try Imaging.probe(bytes).channels == 3)
        let mine = try Imaging.decode(bytes)
        let reference = try Reference.decode(output)
        let agreement = Agreement(mine, reference, tolerance: 0)
        print("REF decode CMYK JPEG: \(agreement)")
        #expect(agreement.fractionWithin == 1, "\(agreement)")
    }

    /// HFSImaging's decoders against cv2.imread on the sample files (PNG and JPEG).
    @Test func decodersMatchOpenCV() throws {
        let data = try Reference.dataDirectory()
        let files = try FileManager.default.contentsOfDirectory(atPath: data.path)
            .filter { $0.hasSuffix(".png") || $0.hasSuffix(".jpg") }.sorted()
        for name in files {
            let url = data.appendingPathComponent(name)
            let mine: Image
            do {
                mine = try Imaging.decode([UInt8](Data(contentsOf: url)))
            } catch {
                Issue.record("decode \(name): \(error)")
                continue
            }
            let reference = try Reference.decode(url)
            guard mine.width == reference.width, mine.height == reference.height, mine.channels == reference.channels else {
                print("REF decode \(name): shape \(mine.width)x\(mine.height)x\(mine.channels) vs OpenCV \(reference.width)x\(reference.height)x\(reference.channels)")
                // OpenCV expands gray+alpha to BGRA too; a different channel count is reported, not failed.
                #expect(mine.width == reference.width && mine.height == reference.height)
                continue
            }
            let agreement = Agreement(mine, reference, tolerance: 0)
            print("REF decode \(name): \(agreement)")
            #expect(agreement.fractionWithin >= 0.999, "\(name): \(agreement)")
        }
    }
}
