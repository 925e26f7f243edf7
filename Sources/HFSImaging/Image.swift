/// HFSImaging: the pure image layer of hfs.
///
/// Bytes in, bytes or numbers out: no I/O, no networking, no global mutable state. It holds
/// - the ``Image`` value type (8-bit, 1/3/4 interleaved channels),
/// - the codecs (``Imaging/decode(_:options:)``, ``Imaging/encode(_:as:quality:)``, header probing
///   with ``Imaging/probe(_:)``) over system libturbojpeg and libpng, plus binary PPM/PGM,
/// - the filter hooks (grayscale, resize, thumbnail, gaussian blur, sobel, canny, threshold, crop,
///   flip, rotate), defined to agree with OpenCV where noted in each doc comment.
///
/// Every failure on outside input is a thrown ``ImagingError``; hostile bytes never crash.
public struct Image: Sendable, Equatable {
    public var width: Int
    public var height: Int
    /// 1 (gray), 3 (RGB) or 4 (RGBA).
    public var channels: Int
    /// Row-major, interleaved samples; the stride of a row is `width * channels`.
    public var pixels: [UInt8]

    /// Wraps existing samples. `pixels.count` must be `width * height * channels`
    /// (a programmer error otherwise, checked with `precondition`).
    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        precondition(width >= 0 && height >= 0, "Image: negative size \(width)x\(height)")
        precondition(channels == 1 || channels == 3 || channels == 4, "Image: \(channels) channels")
        precondition(pixels.count == width * height * channels,
                     "Image: \(pixels.count) samples for \(width)x\(height)x\(channels)")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// An image filled with `value` in every sample.
    public init(width: Int, height: Int, channels: Int, filledWith value: UInt8 = 0) {
        self.init(width: width, height: height, channels: channels,
                  pixels: [UInt8](repeating: value, count: width * height * channels))
    }

    /// Builds an image by calling `sample(x, y, channel)` for every sample, row by row.
    public init(width: Int, height: Int, channels: Int, sample: (Int, Int, Int) -> UInt8) {
        var pixels = [UInt8]()
        pixels.reserveCapacity(width * height * channels)
        for y in 0..<height {
            for x in 0..<width {
                for c in 0..<channels { pixels.append(sample(x, y, c)) }
            }
        }
        self.init(width: width, height: height, channels: channels, pixels: pixels)
    }

    /// Samples in one row.
    @inlinable public var rowStride: Int { width * channels }
    @inlinable public var pixelCount: Int { width * height }
    @inlinable public var isEmpty: Bool { width == 0 || height == 0 }

    /// The sample at column `x`, row `y`, channel `c` (bounds-checked by the array).
    @inlinable public subscript(x: Int, y: Int, c: Int = 0) -> UInt8 {
        get { pixels[(y * width + x) * channels + c] }
        set { pixels[(y * width + x) * channels + c] = newValue }
    }
}

/// Why an imaging operation failed. Messages say what was wrong with which input.
public enum ImagingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The bytes are not a valid image of the format they claim (truncated, bad header, bad data).
    case corrupt(String)
    /// The image would be larger than the allowed pixel count (width, height, limit).
    case tooLarge(width: Int, height: Int, limit: Int)
    /// A valid input this library does not handle (format, bit depth, channel count, ...).
    case unsupported(String)
    /// A parameter given by the caller is out of range (crop outside the image, bad sigma, ...).
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .corrupt(let m): return "corrupt image: \(m)"
        case .tooLarge(let w, let h, let limit):
            return "image too large: \(w)x\(h) = \(w * h) pixels exceeds the limit of \(limit)"
        case .unsupported(let m): return "unsupported image: \(m)"
        case .invalidArgument(let m): return "invalid argument: \(m)"
        }
    }
}

/// Namespace for codecs and limits.
public enum Imaging {
    /// Default for the largest image (width × height, from the header) a decoder accepts: 64 Mi pixels.
    public static let pixelLimit = 64 * 1024 * 1024

    /// Refuses sizes over `limit` before any pixel buffer is allocated.
    static func checkSize(width: Int, height: Int, limit: Int) throws {
        guard width > 0, height > 0 else {
            throw ImagingError.corrupt("image header gives an empty size \(width)x\(height)")
        }
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        guard !overflow, pixels <= limit else {
            throw ImagingError.tooLarge(width: width, height: height, limit: limit)
        }
    }
}
