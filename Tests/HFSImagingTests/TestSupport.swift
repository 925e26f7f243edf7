import Foundation
import Testing
import HFSImaging

/// Deterministic generator for test images (SplitMix64).
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Synthetic test images.
enum Synthetic {
    static func gradient(width: Int, height: Int, channels: Int = 3) -> Image {
        Image(width: width, height: height, channels: channels) { x, y, c in
            switch c {
            case 0: return UInt8(x * 255 / max(1, width - 1))
            case 1: return UInt8(y * 255 / max(1, height - 1))
            case 2: return UInt8((x + y) * 255 / max(1, width + height - 2))
            default: return UInt8(255 - (x * 255 / max(1, width - 1)))
            }
        }
    }

    static func checkerboard(width: Int, height: Int, cell: Int = 8, channels: Int = 1) -> Image {
        Image(width: width, height: height, channels: channels) { x, y, c in
            ((x / cell + y / cell) % 2 == 0) ? UInt8(30 + c * 20) : UInt8(220 - c * 30)
        }
    }

    static func noise(width: Int, height: Int, channels: Int = 3, seed: UInt64 = 42) -> Image {
        var rng = SeededGenerator(seed: seed)
        let pixels = (0..<(width * height * channels)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        return Image(width: width, height: height, channels: channels, pixels: pixels)
    }

    /// Filled circles and rectangles on a smooth background, plus a little noise.
    static func shapes(width: Int, height: Int, channels: Int = 3, seed: UInt64 = 7) -> Image {
        var rng = SeededGenerator(seed: seed)
        var image = Image(width: width, height: height, channels: channels) { x, y, c in
            UInt8((x * 3 + y * 2 + c * 40) % 256 / 2 + 40)
        }
        for _ in 0..<12 {
            let cx = Int.random(in: 0..<width, using: &rng), cy = Int.random(in: 0..<height, using: &rng)
            let r = Int.random(in: 4...max(5, min(width, height) / 4), using: &rng)
            let color = (0..<channels).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let isCircle = Bool.random(using: &rng)
            for y in max(0, cy - r)..<min(height, cy + r) {
                for x in max(0, cx - r)..<min(width, cx + r) {
                    if isCircle && (x - cx) * (x - cx) + (y - cy) * (y - cy) > r * r { continue }
                    for c in 0..<channels { image[x, y, c] = color[c] }
                }
            }
        }
        for i in image.pixels.indices {
            let jitter = Int.random(in: -6...6, using: &rng)
            image.pixels[i] = UInt8(clamping: Int(image.pixels[i]) + jitter)
        }
        return image
    }
}

/// How two images of the same shape differ.
struct Agreement: CustomStringConvertible {
    var maxDiff = 0
    var within = 0
    var total = 0
    var tolerance: Int
    var fractionWithin: Double { total == 0 ? 1 : Double(within) / Double(total) }

    init(_ a: Image, _ b: Image, tolerance: Int) {
        self.tolerance = tolerance
        precondition(a.width == b.width && a.height == b.height && a.channels == b.channels,
                     "shape \(a.width)x\(a.height)x\(a.channels) vs \(b.width)x\(b.height)x\(b.channels)")
        total = a.pixels.count
        for i in 0..<a.pixels.count {
            let d = abs(Int(a.pixels[i]) - Int(b.pixels[i]))
            maxDiff = max(maxDiff, d)
            if d <= tolerance { within += 1 }
        }
    }

    var description: String {
        String(format: "max diff %d, %.3f%% within ±%d", maxDiff, fractionWithin * 100, tolerance)
    }
}

/// F1 score of edge map `a` against reference `b` (non-zero = edge), exact pixel positions.
func edgeF1(_ a: Image, _ reference: Image) -> Double {
    var tp = 0, fp = 0, fn = 0
    for i in 0..<a.pixels.count {
        let x = a.pixels[i] != 0, y = reference.pixels[i] != 0
        if x && y { tp += 1 } else if x { fp += 1 } else if y { fn += 1 }
    }
    if tp + fp + fn == 0 { return 1 }
    return 2 * Double(tp) / Double(2 * tp + fp + fn)
}

/// The OpenCV reference, run through `scripts/reference/ref_filters.py` with `$HFS_REF_PYTHON`.
enum Reference {
    static let pythonVariable = "HFS_REF_PYTHON"
    static var python: String? { ProcessInfo.processInfo.environment[pythonVariable] }
    static let skipReason: Comment = "HFS_REF_PYTHON is not set (path to a python with opencv-python-headless, numpy, scikit-image): OpenCV comparison skipped"

    static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
    static var script: URL { packageRoot.appendingPathComponent("scripts/reference/ref_filters.py") }

    /// Runs the script with arguments and optional stdin; returns stdout.
    static func run(_ arguments: [String], input: String? = nil) throws -> String {
        guard let python else { throw ReferenceError.noPython }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script.path] + arguments
        let stdout = Pipe(), stderr = Pipe(), stdin = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = stdin
        try process.run()
        if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
        try stdin.fileHandleForWriting.close()
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        let err = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ReferenceError.failed(String(decoding: err, as: UTF8.self))
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// scikit-image's bundled sample photos.
    static func dataDirectory() throws -> URL {
        let path = try run(["datadir"]).trimmingCharacters(in: .whitespacesAndNewlines)
        return URL(fileURLWithPath: path)
    }

    /// A job for ``runBatch(_:)``: filter name, input image, parameters.
    struct Job {
        var filter: String
        var input: Image
        var parameters: [String: String] = [:]
    }

    /// Runs every job in one python process; returns OpenCV's output per job.
    static func runBatch(_ jobs: [Job]) throws -> [Image] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hfs-ref-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var lines = [String]()
        var outputs = [URL]()
        var written = [Int: URL]() // identical inputs are written once
        for (i, job) in jobs.enumerated() {
            let key = job.input.pixels.hashValue ^ job.input.width
            let input: URL
            if let existing = written[key] {
                input = existing
            } else {
                input = directory.appendingPathComponent("in\(i).pnm")
                try Data(writeRaw(job.input)).write(to: input)
                written[key] = input
            }
            let output = directory.appendingPathComponent("out\(i).pnm")
            outputs.append(output)
            let params = job.parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            lines.append(([job.filter, input.path, output.path] + params).joined(separator: " "))
        }
        _ = try run(["batch"], input: lines.joined(separator: "\n") + "\n")
        return try outputs.map { try readRaw([UInt8](Data(contentsOf: $0))) }
    }

    /// cv2.imread of a file, as RGB(A) or gray.
    static func decode(_ file: URL) throws -> Image {
        let directory = FileManager.default.temporaryDirectory
        let output = directory.appendingPathComponent("hfs-ref-\(UUID().uuidString).pnm")
        defer { try? FileManager.default.removeItem(at: output) }
        _ = try run(["decode", file.path, output.path])
        return try readRaw([UInt8](Data(contentsOf: output)))
    }

    /// PGM/PPM, or "HFSRAW W H C\n" + samples for 4 channels.
    static func writeRaw(_ image: Image) throws -> [UInt8] {
        if image.channels == 4 {
            return Array("HFSRAW \(image.width) \(image.height) 4\n".utf8) + image.pixels
        }
        return try Imaging.encode(image, as: image.channels == 1 ? .pgm : .ppm)
    }

    static func readRaw(_ bytes: [UInt8]) throws -> Image {
        if bytes.starts(with: Array("HFSRAW".utf8)), let newline = bytes.firstIndex(of: 0x0A) {
            let fields = String(decoding: bytes[..<newline], as: UTF8.self).split(separator: " ").compactMap { Int($0) }
            guard fields.count == 3 else { throw ReferenceError.failed("bad HFSRAW header") }
            return Image(width: fields[0], height: fields[1], channels: fields[2], pixels: Array(bytes[(newline + 1)...]))
        }
        return try Imaging.decode(bytes)
    }
}

enum ReferenceError: Error {
    case noPython
    case failed(String)
}
