import HFSCore
import Testing
@testable import HFSImaging

@Suite struct HookTests {
    /// A 40×30 RGB gradient with a bright square, encoded as `format`.
    static func sample(_ format: ImageFormat) throws -> [UInt8] {
        let image = Image(width: 40, height: 30, channels: 3) { x, y, c in
            (x >= 10 && x < 20 && y >= 10 && y < 20) ? 250 : UInt8((x * 5 + y * 3 + c * 40) % 200)
        }
        return try Imaging.encode(image, as: format)
    }

    @Test func everyHookRunsAndFiltersKeepTheFormat() throws {
        let png = try Self.sample(.png), jpeg = try Self.sample(.jpeg), ppm = try Self.sample(.ppm)
        let params: [String: [String: String]] = ["resize": ["width": "20", "height": "10"], "crop": ["width": "5", "height": "6"]]
        for hook in Hooks.all {
            for (input, format) in [(png, ImageFormat.png), (jpeg, .jpeg), (ppm, .ppm)] {
                let out = try Hooks.run(hook.name, params: params[hook.name] ?? [:], input: input)
                switch (hook.kind, out) {
                case (.filter, .image(let bytes, let f)):
                    #expect(f == (format == .jpeg ? .jpeg : .png), "\(hook.name) on \(format) gave \(f)")
                    #expect(try Imaging.probe(bytes).format == f)
                case (.feature, .value): break
                default: Issue.record("\(hook.name) on \(format) gave \(out)")
                }
            }
        }
    }

    @Test func resultsHaveTheDocumentedShapes() throws {
        let png = try Self.sample(.png)
        guard case .image(let small, _) = try Hooks.run("thumbnail", params: ["size": "10"], input: png) else { Issue.record("no image"); return }
        let info = try Imaging.probe(small)
        #expect(max(info.width, info.height) == 10 && info.width == 10 && info.height == 8)
        guard case .image(let cropped, _) = try Hooks.run("crop", params: ["x": "10", "y": "10", "width": "10", "height": "10"], input: png)
        else { Issue.record("no image"); return }
        #expect(try Imaging.decode(cropped).pixels.allSatisfy { $0 == 250 })
        guard case .value(.string(let hex)) = try Hooks.run("phash", params: [:], input: png) else { Issue.record("no hash"); return }
        #expect(hex.count == 16 && hex.allSatisfy(\.isHexDigit))
        guard case .value(.object(let s)) = try Hooks.run("stats", params: [:], input: png) else { Issue.record("no stats"); return }
        #expect(s["width"] == .number(40) && s["height"] == .number(30))
        guard case .value(.object(let h)) = try Hooks.run("histogram", params: ["bins": "4"], input: png),
              case .array(let counts)? = h["counts"] else { Issue.record("no histogram"); return }
        #expect(counts.count == 3)
        for c in counts {
            guard case .array(let bins) = c else { Issue.record("bad counts"); continue }
            #expect(bins.count == 4)
            #expect(bins.reduce(0.0) { if case .number(let n) = $1 { $0 + n } else { $0 } } == 1200)
        }
        guard case .value(.array(let hog)) = try Hooks.run("hog", params: [:], input: png) else { Issue.record("no hog"); return }
        #expect(hog.count == 3780)
        guard case .value(.number(let density)) = try Hooks.run("edge_density", params: [:], input: png) else { Issue.record("no density"); return }
        #expect(density > 0 && density < 1)
        guard case .image(let forced, .jpeg) = try Hooks.run("grayscale", params: ["format": "jpeg", "quality": "50"], input: png)
        else { Issue.record("format=jpeg ignored"); return }
        #expect(try Imaging.probe(forced).format == .jpeg)
    }

    @Test(arguments: [
        ("nope", [String: String](), "no hook named"),
        ("resize", ["width": "10"], "needs --param height"),
        ("thumbnail", ["size": "big"], "not an integer"),
        ("thumbnail", ["colour": "red"], "no parameter 'colour'"),
        ("gaussian_blur", ["sigma": "nan"], "not a number"),
        ("flip", ["direction": "sideways"], "direction=sideways"),
        ("grayscale", ["format": "gif"], "format=gif"),
        ("crop", ["x": "30", "y": "0", "width": "20", "height": "5"], "not inside"),
    ])
    func badParametersAreOneLineErrors(_ hook: String, _ params: [String: String], _ text: String) throws {
        let png = try Self.sample(.png)
        let error = #expect(throws: ImagingError.self) { _ = try Hooks.run(hook, params: params, input: png) }
        #expect(error.map { "\($0)".contains(text) && !"\($0)".contains("\n") } == true, "\(String(describing: error))")
    }

    @Test func undecodableInputIsAnError() {
        #expect(throws: ImagingError.self) { _ = try Hooks.run("phash", params: [:], input: Array("not an image".utf8)) }
        #expect(throws: ImagingError.self) { _ = try Hooks.run("phash", params: [:], input: []) }
    }
}
