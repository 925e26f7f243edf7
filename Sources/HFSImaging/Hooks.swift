import HFSCore

/// What a hook gives back: an encoded image (filters) or a JSON value (features).
public enum HookOutput: Sendable, Equatable {
    case image([UInt8], ImageFormat)
    case value(JSONValue)
}

/// The built-in hooks: names, parameters (typed, with defaults) and what they compute. A hook
/// takes the bytes of one stored image and its parameters as strings (`--param k=v`); every
/// failure is a thrown error with a one-line message, never a crash.
///
/// Filters keep the input's format (JPEG stays JPEG, PNG stays PNG, PPM/PGM become PNG) unless
/// `format=png|jpeg` is given; `quality` (1...100, default 90) applies to JPEG output. Canny,
/// Sobel and threshold work on the grayscale image (BT.601 as OpenCV); an alpha channel is
/// dropped for JPEG output.
public enum Hooks {
    typealias P = HookDescription.Parameter

    static let outputParameters = [
        P(name: "format", type: "string", defaultValue: "input", help: "png or jpeg; input keeps the input's (PPM/PGM give PNG)"),
        P(name: "quality", type: "int", defaultValue: "90", help: "JPEG quality 1...100"),
    ]

    public static let all: [HookDescription] = filters + features

    static let filters: [HookDescription] = [
        .init(name: "grayscale", kind: .filter, summary: "BT.601 luma as cv2.cvtColor(RGB2GRAY) (15-bit fixed point)", parameters: outputParameters),
        .init(name: "resize", kind: .filter, summary: "resize to width×height as cv2.resize", parameters: [
            P(name: "width", type: "int", defaultValue: nil, help: "output width"),
            P(name: "height", type: "int", defaultValue: nil, help: "output height"),
            P(name: "interpolation", type: "string", defaultValue: "bilinear", help: "bilinear (INTER_LINEAR) or area (INTER_AREA)"),
        ] + outputParameters),
        .init(name: "thumbnail", kind: .filter, summary: "fit within size×size, aspect kept, never enlarged (area interpolation)", parameters: [
            P(name: "size", type: "int", defaultValue: "256", help: "longest side of the output"),
            P(name: "exact", type: "bool", defaultValue: "false",
              help: "false: JPEGs are first decoded at 1/2, 1/4 or 1/8 scale in the DCT domain (several times faster, slightly different pixels); true: full decode, then area resize (as cv2.resize INTER_AREA)"),
        ] + outputParameters),
        .init(name: "gaussian_blur", kind: .filter, summary: "cv2.GaussianBlur, BORDER_REFLECT_101", parameters: [
            P(name: "sigma", type: "double", defaultValue: "1", help: "standard deviation"),
            P(name: "ksize", type: "int", defaultValue: "0", help: "odd kernel size; 0 derives it from sigma as OpenCV does"),
        ] + outputParameters),
        .init(name: "sobel", kind: .filter, summary: "gradient magnitude min(255, |dx|+|dy|) of 3×3 Sobel on the grayscale image", parameters: outputParameters),
        .init(name: "canny", kind: .filter, summary: "cv2.Canny(gray, low, high, apertureSize=3, L2gradient=False): edges 255, else 0", parameters: [
            P(name: "low", type: "double", defaultValue: "100", help: "hysteresis low threshold"),
            P(name: "high", type: "double", defaultValue: "200", help: "hysteresis high threshold"),
        ] + outputParameters),
        .init(name: "threshold", kind: .filter, summary: "binary threshold of the grayscale image: > value → 255 (cv2.THRESH_BINARY), or Otsu's level", parameters: [
            P(name: "value", type: "double", defaultValue: "127", help: "threshold"),
            P(name: "method", type: "string", defaultValue: "value", help: "value or otsu (cv2.THRESH_OTSU)"),
        ] + outputParameters),
        .init(name: "crop", kind: .filter, summary: "the rectangle x, y, width, height (must lie inside the image)", parameters: [
            P(name: "x", type: "int", defaultValue: "0", help: "left"), P(name: "y", type: "int", defaultValue: "0", help: "top"),
            P(name: "width", type: "int", defaultValue: nil, help: "width"), P(name: "height", type: "int", defaultValue: nil, help: "height"),
        ] + outputParameters),
        .init(name: "flip", kind: .filter, summary: "mirror the image", parameters: [
            P(name: "direction", type: "string", defaultValue: "horizontal", help: "horizontal (left↔right) or vertical (top↔bottom)"),
        ] + outputParameters),
        .init(name: "rotate90", kind: .filter, summary: "rotate clockwise by 90° steps", parameters: [
            P(name: "times", type: "int", defaultValue: "1", help: "quarter turns clockwise (negative: counter-clockwise)"),
        ] + outputParameters),
    ]

    static let features: [HookDescription] = [
        .init(name: "stats", kind: .feature, summary: "{width, height, channels, mean[c], std[c]} (population std over all pixels)", parameters: []),
        .init(name: "histogram", kind: .feature, summary: "{bins, channels, counts[c][bin]}: bin = value*bins/256", parameters: [
            P(name: "bins", type: "int", defaultValue: "16", help: "bins per channel, 1...256"),
        ]),
        .init(name: "ahash", kind: .feature, summary: "average hash, as str(imagehash.average_hash(img)) (16 hex digits)", parameters: []),
        .init(name: "dhash", kind: .feature, summary: "difference hash, as str(imagehash.dhash(img))", parameters: []),
        .init(name: "phash", kind: .feature, summary: "perceptual hash, as str(imagehash.phash(img))", parameters: []),
        .init(name: "hog", kind: .feature, summary: "HOG as cv2.HOGDescriptor() defaults (64×128 window, 16×16 blocks, 8×8 stride and cells, 9 bins, L2-Hys 0.2, gamma)", parameters: [
            P(name: "window", type: "bool", defaultValue: "true",
              help: "true: the image resized to 64×128 (Lanczos, as Pillow), one window, 3,780 values; false: every window of the whole image at an 8-pixel stride"),
        ]),
        .init(name: "edge_density", kind: .feature, summary: "fraction of pixels that canny marks as edges", parameters: [
            P(name: "low", type: "double", defaultValue: "100", help: "canny low threshold"),
            P(name: "high", type: "double", defaultValue: "200", help: "canny high threshold"),
        ]),
    ]

    public static func description(_ name: String) -> HookDescription? { all.first { $0.name == name } }

    /// Checks that `params` names only parameters of the hook, with values of their types, and
    /// that every required one is there (the client checks before a job starts).
    public static func validate(_ name: String, params: [String: String]) throws {
        guard let d = description(name) else {
            throw ImagingError.invalidArgument("no hook named '\(name)' (hfs compute hooks lists them)")
        }
        _ = try Params(d, params)
    }

    /// Runs the hook `name` on the encoded image `input`.
    public static func run(_ name: String, params: [String: String], input: [UInt8], pixelLimit: Int = Imaging.pixelLimit) throws -> HookOutput {
        guard let d = description(name) else { throw ImagingError.invalidArgument("no hook named '\(name)'") }
        let p = try Params(d, params)
        let inputFormat = try input.withUnsafeBytes { try Imaging.format(of: $0) }
        let decode = { try Imaging.decode(input, options: DecodeOptions(pixelLimit: pixelLimit)) }
        func output(_ image: Image) throws -> HookOutput {
            let format: ImageFormat
            switch try p.string("format") {
            case "input"?, nil: format = inputFormat == .jpeg ? .jpeg : .png
            case "png": format = .png
            case "jpeg", "jpg": format = .jpeg
            case let other?: throw ImagingError.invalidArgument("format=\(other): use png or jpeg")
            }
            let quality = try p.int("quality")!
            guard (1...100).contains(quality) else { throw ImagingError.invalidArgument("quality=\(quality) is outside 1...100") }
            let img = format == .jpeg && (image.channels == 2 || image.channels == 4) ? image.droppingAlpha() : image
            return .image(try Imaging.encode(img, as: format, quality: quality), format)
        }
        switch name {
        case "grayscale": return try output(decode().grayscale())
        case "resize":
            let interpolation = try p.string("interpolation")!
            guard let i = Image.Interpolation(rawValue: interpolation) else {
                throw ImagingError.invalidArgument("interpolation=\(interpolation): use \(Image.Interpolation.allCases.map(\.rawValue).joined(separator: " or "))")
            }
            return try output(try decode().resize(width: p.int("width")!, height: p.int("height")!, interpolation: i))
        case "thumbnail":
            let size = try p.int("size")!
            guard size > 0 else { throw ImagingError.invalidArgument("size=\(size) must be > 0") }
            if try p.bool("exact")! { return try output(decode().thumbnail(maxSide: size)) }
            return try output(Imaging.decodeThumbnail(input, maxSide: size, pixelLimit: pixelLimit))
        case "gaussian_blur": return try output(decode().gaussianBlur(sigma: p.double("sigma")!, kernelSize: p.int("ksize")!))
        case "sobel": return try output(decode().grayscale().sobel())
        case "canny": return try output(decode().grayscale().canny(low: p.double("low")!, high: p.double("high")!))
        case "threshold":
            let gray = try decode().grayscale()
            switch try p.string("method")! {
            case "value": return try output(gray.threshold(value: p.double("value")!))
            case "otsu": return try output(gray.threshold(.otsu))
            case let m: throw ImagingError.invalidArgument("method=\(m): use value or otsu")
            }
        case "crop": return try output(decode().crop(x: p.int("x")!, y: p.int("y")!, width: p.int("width")!, height: p.int("height")!))
        case "flip":
            switch try p.string("direction")! {
            case "horizontal": return try output(decode().flip(.horizontal))
            case "vertical": return try output(decode().flip(.vertical))
            case let d: throw ImagingError.invalidArgument("direction=\(d): use horizontal or vertical")
            }
        case "rotate90": return try output(decode().rotate90(times: p.int("times")!))
        case "stats":
            let s = stats(try decode())
            return .value(.object(["width": .number(Double(s.width)), "height": .number(Double(s.height)),
                                   "channels": .number(Double(s.channels)),
                                   "mean": .array(s.mean.map { .number($0) }), "std": .array(s.std.map { .number($0) })]))
        case "histogram":
            let h = try histogram(try decode(), bins: p.int("bins")!)
            return .value(.object(["bins": .number(Double(h.bins)), "channels": .number(Double(h.channels)),
                                   "counts": .array((0..<h.channels).map { c in .array(h.counts(channel: c).map { .number(Double($0)) }) })]))
        case "ahash": return .value(.string(ahash(try decode()).hex))
        case "dhash": return .value(.string(dhash(try decode()).hex))
        case "phash": return .value(.string(phash(try decode()).hex))
        case "hog":
            let image = try decode()
            let v = try p.bool("window")! ? try hogWindow(image) : try hog(image)
            return .value(.array(v.map { .number(Double($0)) }))
        case "edge_density":
            return .value(.number(edgeDensity(edges: try decode().grayscale().canny(low: p.double("low")!, high: p.double("high")!))))
        default:
            throw ImagingError.invalidArgument("hook '\(name)' has no implementation")
        }
    }

    /// Parameters checked against a hook's description; defaults filled in.
    struct Params {
        let values: [String: String]
        let types: [String: String]

        init(_ d: HookDescription, _ given: [String: String]) throws {
            var values: [String: String] = [:]
            var types: [String: String] = [:]
            for p in d.parameters {
                types[p.name] = p.type
                if let v = given[p.name] ?? p.defaultValue { values[p.name] = v }
            }
            for key in given.keys.sorted() where types[key] == nil {
                let known = d.parameters.map(\.name)
                throw ImagingError.invalidArgument("\(d.name) has no parameter '\(key)'" + (known.isEmpty ? "" : " (it takes \(known.joined(separator: ", ")))"))
            }
            for p in d.parameters where p.defaultValue == nil && values[p.name] == nil {
                throw ImagingError.invalidArgument("\(d.name) needs --param \(p.name)=...")
            }
            self.values = values
            self.types = types
            for (k, v) in values {
                switch types[k] {
                case "int": _ = try int(k)
                case "double": _ = try double(k)
                case "bool": _ = try bool(k)
                default: _ = v
                }
            }
        }

        func string(_ k: String) throws -> String? { values[k] }
        func int(_ k: String) throws -> Int? {
            guard let v = values[k] else { return nil }
            guard let i = Int(v) else { throw ImagingError.invalidArgument("\(k)=\(v) is not an integer") }
            return i
        }
        func double(_ k: String) throws -> Double? {
            guard let v = values[k] else { return nil }
            guard let d = Double(v), d.isFinite else { throw ImagingError.invalidArgument("\(k)=\(v) is not a number") }
            return d
        }
        func bool(_ k: String) throws -> Bool? {
            guard let v = values[k] else { return nil }
            switch v { case "true", "1", "yes": return true; case "false", "0", "no": return false
            default: throw ImagingError.invalidArgument("\(k)=\(v) is not true or false") }
        }
    }
}

extension Image {
    /// The image without its alpha channel (gray+alpha → gray, RGBA → RGB); others unchanged.
    public func droppingAlpha() -> Image {
        guard channels == 2 || channels == 4 else { return self }
        let keep = channels - 1
        var out = [UInt8](repeating: 0, count: width * height * keep)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<(width * height) {
                    for c in 0..<keep { dst[i * keep + c] = src[i * channels + c] }
                }
            }
        }
        return Image(width: width, height: height, channels: keep, pixels: out)
    }
}
