/// The image file formats HFSImaging reads and writes.
public enum ImageFormat: String, Sendable, Codable, CaseIterable {
    case jpeg, png, ppm, pgm

    /// Recognises a format from its magic bytes; `nil` if none matches.
    /// PNM variants other than binary P5/P6 are not recognised here (``Imaging/probe(_:)`` names them).
    public static func detect(_ bytes: UnsafeRawBufferPointer) -> ImageFormat? {
        if bytes.count >= 3, bytes[0] == 0xFF, bytes[1] == 0xD8, bytes[2] == 0xFF { return .jpeg }
        if bytes.count >= 8, Array(bytes[0..<8]) == PNGCodec.signature { return .png }
        if bytes.count >= 2, bytes[0] == UInt8(ascii: "P") {
            if bytes[1] == UInt8(ascii: "5") { return .pgm }
            if bytes[1] == UInt8(ascii: "6") { return .ppm }
        }
        return nil
    }

    public static func detect(_ bytes: [UInt8]) -> ImageFormat? {
        bytes.withUnsafeBytes { detect($0) }
    }
}

/// What a header says, read without decoding pixels.
public struct ImageInfo: Sendable, Equatable, Codable {
    public var format: ImageFormat
    public var width: Int
    public var height: Int
    /// From ``Imaging/probe(_:)``: the channels ``Imaging/decode(_:options:)`` will produce (1, 3
    /// or 4). From ``ImageProbe/probe(_:)`` (ingest): the channels stored in the file (gray+alpha
    /// PNG 2, CMYK JPEG 4), which is what a dataset manifest reports.
    public var channels: Int

    public init(format: ImageFormat, width: Int, height: Int, channels: Int) {
        self.format = format
        self.width = width
        self.height = height
        self.channels = channels
    }
}

/// DCT-domain downscaling factor of the JPEG decoder (1, 1/2, 1/4, 1/8). Other formats ignore it.
public enum JPEGScale: Int, Sendable, CaseIterable, Comparable {
    case full = 1, half = 2, quarter = 4, eighth = 8

    /// Size of one side decoded at this scale (libjpeg rounds up: ceil(side / denominator)).
    @inlinable public func scaled(_ side: Int) -> Int { (side + rawValue - 1) / rawValue }

    /// The strongest reduction whose output is still at least `minWidth` × `minHeight`
    /// (`.full` when even 1/2 would be smaller).
    public static func largestReduction(width: Int, height: Int, minWidth: Int, minHeight: Int) -> JPEGScale {
        for scale in [JPEGScale.eighth, .quarter, .half]
        where scale.scaled(width) >= minWidth && scale.scaled(height) >= minHeight {
            return scale
        }
        return .full
    }

    /// The strongest reduction whose output still has both sides ≥ `minSide`.
    public static func largestReduction(width: Int, height: Int, minSide: Int) -> JPEGScale {
        largestReduction(width: width, height: height, minWidth: minSide, minHeight: minSide)
    }

    public static func < (a: JPEGScale, b: JPEGScale) -> Bool { a.rawValue < b.rawValue }
}

/// Options for ``Imaging/decode(_:options:)``.
public struct DecodeOptions: Sendable, Equatable {
    /// Largest width × height accepted, checked on the header before decoding.
    public var pixelLimit: Int
    /// JPEG only: decode at 1/scale size in the DCT domain (much faster for thumbnails).
    public var scale: JPEGScale

    public init(pixelLimit: Int = Imaging.pixelLimit, scale: JPEGScale = .full) {
        self.pixelLimit = pixelLimit
        self.scale = scale
    }
}

extension Imaging {
    /// Reads format, size and channel count from the header only (no pixel decoding).
    public static func probe(_ bytes: UnsafeRawBufferPointer) throws -> ImageInfo {
        switch try format(of: bytes) {
        case .jpeg: return try JPEGCodec.probe(bytes)
        case .png: return try PNGCodec.probe(bytes)
        case .ppm, .pgm: return try PNMCodec.probe(bytes).info
        }
    }

    public static func probe(_ bytes: [UInt8]) throws -> ImageInfo {
        try bytes.withUnsafeBytes { try probe($0) }
    }

    /// Decodes JPEG, PNG or binary PPM/PGM into an ``Image``.
    ///
    /// The size is read from the header first and refused with ``ImagingError/tooLarge(width:height:limit:)``
    /// when width × height exceeds `options.pixelLimit` (the full-size header dimensions, also when
    /// decoding at a reduced JPEG scale). Output channels: JPEG gray → 1, colour → 3, CMYK/YCCK → 3
    /// (converted as OpenCV does); PNG gray → 1, gray+alpha → 4 (RGBA), RGB/palette → 3, with alpha
    /// or tRNS → 4; PGM → 1, PPM → 3. EXIF orientation is not applied (as `cv2.IMREAD_UNCHANGED`).
    public static func decode(_ bytes: UnsafeRawBufferPointer, options: DecodeOptions = DecodeOptions()) throws -> Image {
        switch try format(of: bytes) {
        case .jpeg: return try JPEGCodec.decode(bytes, options: options)
        case .png: return try PNGCodec.decode(bytes, pixelLimit: options.pixelLimit)
        case .ppm, .pgm: return try PNMCodec.decode(bytes, pixelLimit: options.pixelLimit)
        }
    }

    public static func decode(_ bytes: [UInt8], options: DecodeOptions = DecodeOptions()) throws -> Image {
        try bytes.withUnsafeBytes { try decode($0, options: options) }
    }

    /// Encodes an image. `quality` (1...100) is used by JPEG only.
    /// PNG: 1 → gray, 3 → RGB, 4 → RGBA (lossless). JPEG: 1 or 3 channels (4 is refused: JPEG has
    /// no alpha). PGM needs 1 channel, PPM 3.
    public static func encode(_ image: Image, as format: ImageFormat, quality: Int = 90) throws -> [UInt8] {
        switch format {
        case .jpeg: return try JPEGCodec.encode(image, quality: quality)
        case .png: return try PNGCodec.encode(image)
        case .ppm, .pgm: return try PNMCodec.encode(image, as: format)
        }
    }

    /// Decodes and shrinks to fit in `maxSide` × `maxSide` (aspect kept, never upscaled), using JPEG
    /// DCT-domain scaling to the smallest size still at least the target, then ``Image/thumbnail(maxSide:)``.
    public static func decodeThumbnail(_ bytes: UnsafeRawBufferPointer, maxSide: Int,
                                       pixelLimit: Int = Imaging.pixelLimit) throws -> Image {
        guard maxSide > 0 else { throw ImagingError.invalidArgument("thumbnail maxSide \(maxSide) must be > 0") }
        var options = DecodeOptions(pixelLimit: pixelLimit)
        if ImageFormat.detect(bytes) == .jpeg {
            let info = try JPEGCodec.probe(bytes)
            let (tw, th) = Image.thumbnailSize(width: info.width, height: info.height, maxSide: maxSide)
            options.scale = JPEGScale.largestReduction(width: info.width, height: info.height,
                                                       minWidth: tw, minHeight: th)
        }
        return try decode(bytes, options: options).thumbnail(maxSide: maxSide)
    }

    public static func decodeThumbnail(_ bytes: [UInt8], maxSide: Int,
                                       pixelLimit: Int = Imaging.pixelLimit) throws -> Image {
        try bytes.withUnsafeBytes { try decodeThumbnail($0, maxSide: maxSide, pixelLimit: pixelLimit) }
    }

    static func format(of bytes: UnsafeRawBufferPointer) throws -> ImageFormat {
        if let format = ImageFormat.detect(bytes) { return format }
        if bytes.count >= 2, bytes[0] == UInt8(ascii: "P"), (UInt8(ascii: "1")...UInt8(ascii: "7")).contains(bytes[1]) {
            throw ImagingError.unsupported("PNM type P\(Character(UnicodeScalar(bytes[1]))): only binary P5 (PGM) and P6 (PPM) are read")
        }
        if bytes.isEmpty { throw ImagingError.corrupt("empty input") }
        let head = bytes.prefix(8).map { String($0, radix: 16) }.joined(separator: " ")
        throw ImagingError.unsupported("unknown image format (first bytes: \(head))")
    }
}
