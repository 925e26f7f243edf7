import Foundation
@testable import HFSImaging

/// Reference values made by `scripts/reference/ref_features.py` with the Python named by
/// `HFS_REF_PYTHON` (Pillow, imagehash, numpy, scipy, skimage) and, for HOG, `HFS_REF_HOG_PYTHON`
/// (an OpenCV 4.x, which still has `cv2.HOGDescriptor`; defaults to HFS_REF_PYTHON).
/// Generated once per test process into `$TMPDIR/hfs-features-ref`.
enum FeatureReference {
    static let environment = ProcessInfo.processInfo.environment
    static var enabled: Bool { environment["HFS_REF_PYTHON"] != nil }

    static let script: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("scripts/reference/ref_features.py")

    struct Failure: Error, CustomStringConvertible { let description: String }

    /// The folder with NAME.pnm / NAME.json / NAME.hog*.f32, or the reason it could not be made.
    static let directory: Result<URL, Failure> = {
        guard let python = environment["HFS_REF_PYTHON"] else { return .failure(Failure(description: "HFS_REF_PYTHON unset")) }
        // One fixed folder (~100 MB), replaced by each run, so runs do not pile up copies.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hfs-features-ref")
        try? FileManager.default.removeItem(at: dir)
        do {
            try run(python, ["batch", dir.path, "--generated", "--skimage"])
            try run(environment["HFS_REF_HOG_PYTHON"] ?? python, ["batch", dir.path, "--generated", "--skimage", "--no-features", "--hog"])
        } catch {
            return .failure(error as? Failure ?? Failure(description: "\(error)"))
        }
        return .success(dir)
    }()

    static func run(_ python: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script.path] + arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let stderr = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "\(python) ref_features.py \(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(String(decoding: stderr, as: UTF8.self))")
        }
    }

    struct Case {
        let name: String
        let image: Image
        let json: [String: Any]
        let directory: URL

        func floats(_ file: String) throws -> [Float] {
            let data = try Data(contentsOf: directory.appendingPathComponent(file))
            return data.withUnsafeBytes { raw in
                (0..<(data.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
            }
        }
    }

    static func cases() throws -> [Case] {
        let dir = try directory.get()
        let index = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("index.json"))) as! [String]
        return try index.map { name in
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent(name + ".json"))) as! [String: Any]
            return Case(name: name, image: try TestPNM.read(dir.appendingPathComponent(name + ".pnm")), json: json, directory: dir)
        }
    }
}

/// A small histogram of integers for reporting distributions ("0:40 1:3 2:1").
func featureDistribution(_ values: [Int]) -> String {
    Dictionary(grouping: values, by: { $0 }).sorted { $0.key < $1.key }.map { "\($0.key):\($0.value.count)" }.joined(separator: " ")
}
