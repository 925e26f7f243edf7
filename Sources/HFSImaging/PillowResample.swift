import Foundation
import Synchronization

/// Pillow's convolution resampling (`Image.resize(size, filter)` for 8-bit images), reimplemented
/// to give the same bytes as Pillow.
///
/// The algorithm (Pillow `libImaging/Resample.c`, read to learn it):
/// - Per axis, `scale = inSize / outSize`, `filterScale = max(scale, 1)` (antialiasing when
///   downscaling: the kernel is stretched by the scale), `support = filter.support * filterScale`.
/// - Output sample `i` is centred at `(i + 0.5) * scale` in input coordinates; it reads inputs
///   `xmin ..< xmin + count` with `xmin = max(0, Int(center - support + 0.5))`,
///   `xmax = min(inSize, Int(center + support + 0.5))`, weights
///   `filter((x + xmin - center + 0.5) / filterScale)` normalised to sum 1 (in Double).
/// - Weights become fixed point with 22 fraction bits, rounded half away from zero.
/// - Horizontal pass first (only over the rows the vertical pass reads), then vertical — except
///   that Pillow 13 goes vertical first when the height shrinks much more (`verticalFirst`); each pass
///   sums `pixel * weight` in Int32 starting from `1 << 21` and stores `clip(sum >> 22, 0, 255)`,
///   so the intermediate image is rounded to 8 bits exactly as Pillow does.
/// - A pass whose size does not change is skipped (same size on both axes = copy).
///
/// Channels are resampled independently. For RGBA this differs from Pillow, which premultiplies
/// alpha before resampling; the feature hooks only resample gray (hashes) and RGB (HOG).
public enum PillowResample {
    /// The resampling filters of Pillow (`Image.Resampling`), with Pillow's supports.
    public enum Filter: Sendable, Hashable {
        case box, bilinear, hamming, bicubic, lanczos

        /// Half-width of the kernel before stretching: 0.5, 1, 1, 2, 3.
        public var support: Double {
            switch self {
            case .box: 0.5
            case .bilinear, .hamming: 1
            case .bicubic: 2
            case .lanczos: 3
            }
        }

        func weight(_ x: Double) -> Double {
            switch self {
            case .box:
                return (x > -0.5 && x <= 0.5) ? 1 : 0
            case .bilinear:
                let a = abs(x)
                return a < 1 ? 1 - a : 0
            case .hamming:
                let a = abs(x)
                if a == 0 { return 1 }
                if a >= 1 { return 0 }
                let t = a * Double.pi
                return sin(t) / t * (Double(Float(0.54)) + Double(Float(0.46)) * cos(t))
            case .bicubic:
                let a = abs(x), c = -0.5
                if a < 1 { return ((c + 2) * a - (c + 3)) * a * a + 1 }
                if a < 2 { return (((a - 5) * a + 8) * a - 4) * c }
                return 0
            case .lanczos:
                return (-3 <= x && x < 3) ? Self.sinc(x) * Self.sinc(x / 3) : 0
            }
        }

        private static func sinc(_ x: Double) -> Double {
            if x == 0 { return 1 }
            let t = x * Double.pi
            return sin(t) / t
        }
    }

    /// Fixed-point fraction bits of the weights (Pillow's `PRECISION_BITS`, 32 - 8 - 2).
    public static let precisionBits = 22

    /// The fixed-point weights of one axis: output sample `i` is
    /// `Σ_{t < count[i]} in[start[i] + t] * weights[i * taps + t]`.
    public struct Coefficients: Sendable {
        public let inSize: Int
        public let outSize: Int
        /// Row length of `weights` (Pillow's `ksize`: `2 * ceil(support) + 1`).
        public let taps: Int
        public let start: [Int]
        public let count: [Int]
        public let weights: [Int32]
    }

    /// Pillow's `precompute_coeffs` + `normalize_coeffs_8bpc` for the box `0...inSize`.
    public static func coefficients(inSize: Int, outSize: Int, filter: Filter) -> Coefficients {
        precondition(inSize > 0 && outSize > 0, "resample sizes must be positive")
        let key = CoefficientKey(inSize: inSize, outSize: outSize, filter: filter)
        if let cached = coefficientCache.withLock({ $0[key] }) { return cached }
        let made = makeCoefficients(inSize: inSize, outSize: outSize, filter: filter)
        coefficientCache.withLock { cache in
            if cache.count >= coefficientCacheEntriesMax { cache.removeAll(keepingCapacity: true) }
            cache[key] = made
        }
        return made
    }

    /// Resizes `image` to `width` x `height` like Pillow's `Image.resize((width, height), filter)`
    /// on an image of mode L (1 channel) or RGB (3 channels); see the type's documentation.
    public static func resize(_ image: Image, width: Int, height: Int, filter: Filter = .lanczos) -> Image {
        precondition(width > 0 && height > 0, "resize target must be positive")
        if image.width == width && image.height == height { return image }
        precondition(image.width > 0 && image.height > 0, "cannot resize an empty image")
        return image.pixels.withUnsafeBufferPointer { src in
            resample(src.baseAddress!, inWidth: image.width, inHeight: image.height, channels: image.channels,
                     outWidth: width, outHeight: height, filter: filter, luma: false)
        }
    }

    /// Pillow's `image.convert("L").resize((width, height), filter)` in one pass: each source row is
    /// converted to 8-bit luma (ITU-R 601-2, Pillow's fixed point:
    /// `L = (19595 R + 38470 G + 7471 B + 0x8000) >> 16`, alpha ignored) just before it is
    /// resampled, so no full-size gray image is made. The result has 1 channel.
    public static func lumaResize(_ image: Image, width: Int, height: Int, filter: Filter = .lanczos) -> Image {
        precondition(width > 0 && height > 0, "resize target must be positive")
        precondition(image.width > 0 && image.height > 0, "cannot resize an empty image")
        if image.channels == 1 { return resize(image, width: width, height: height, filter: filter) }
        return image.pixels.withUnsafeBufferPointer { src in
            resample(src.baseAddress!, inWidth: image.width, inHeight: image.height, channels: image.channels,
                     outWidth: width, outHeight: height, filter: filter, luma: true)
        }
    }

    /// Pillow's RGB(A) → L conversion of one pixel.
    @inline(__always)
    public static func luma(r: UInt8, g: UInt8, b: UInt8) -> UInt8 {
        UInt8(truncatingIfNeeded: (UInt32(r) &* 19595 &+ UInt32(g) &* 38470 &+ UInt32(b) &* 7471 &+ 0x8000) >> 16)
    }

    // MARK: - implementation

    private struct CoefficientKey: Hashable {
        let inSize: Int
        let outSize: Int
        let filter: Filter
    }

    private static let coefficientCacheEntriesMax = 512
    private static let coefficientCache = Mutex<[CoefficientKey: Coefficients]>([:])

    private static func makeCoefficients(inSize: Int, outSize: Int, filter: Filter) -> Coefficients {
        let scale = Double(Float(inSize)) / Double(outSize)
        let filterScale = max(scale, 1)
        let support = filter.support * filterScale
        let taps = Int(support.rounded(.up)) * 2 + 1
        var start = [Int](repeating: 0, count: outSize)
        var count = [Int](repeating: 0, count: outSize)
        var weights = [Int32](repeating: 0, count: outSize * taps)
        var k = [Double](repeating: 0, count: taps)
        let one = Double(1 << precisionBits)
        for i in 0..<outSize {
            let center = (Double(i) + 0.5) * scale
            let inverse = 1 / filterScale
            let xmin = max(0, Int(center - support + 0.5))
            let xmax = min(inSize, Int(center + support + 0.5)) - xmin
            var total = 0.0
            for x in 0..<max(xmax, 0) {
                let w = filter.weight((Double(x + xmin) - center + 0.5) * inverse)
                k[x] = w
                total += w
            }
            for x in 0..<max(xmax, 0) {
                let w = total != 0 ? k[x] / total : k[x]
                weights[i * taps + x] = w < 0 ? Int32(-0.5 + w * one) : Int32(0.5 + w * one)
            }
            start[i] = xmin
            count[i] = max(xmax, 0)
        }
        return Coefficients(inSize: inSize, outSize: outSize, taps: taps, start: start, count: count, weights: weights)
    }

    /// Pillow 13 runs the vertical pass first when the height shrinks by more than twice as many
    /// pixels as the width (`inHeight - outHeight > 2 * (inWidth - outWidth)`, height reduced);
    /// otherwise horizontal first. The order matters because the intermediate is rounded to 8 bits.
    public static func verticalFirst(inWidth: Int, inHeight: Int, outWidth: Int, outHeight: Int) -> Bool {
        outHeight < inHeight && (inHeight - outHeight) > 2 * (inWidth - outWidth)
    }

    /// Both passes. `luma` converts RGB(A) source rows to L first (the output has 1 channel).
    private static func resample(
        _ src: UnsafePointer<UInt8>, inWidth: Int, inHeight: Int, channels: Int,
        outWidth: Int, outHeight: Int, filter: Filter, luma: Bool
    ) -> Image {
        let outChannels = luma ? 1 : channels
        let needHorizontal = outWidth != inWidth
        let needVertical = outHeight != inHeight
        let vertical = coefficients(inSize: inHeight, outSize: outHeight, filter: filter)
        let horizontal = needHorizontal ? coefficients(inSize: inWidth, outSize: outWidth, filter: filter) : nil
        let rowFirst = needVertical ? vertical.start[0] : 0
        let rowEnd = needVertical ? vertical.start[outHeight - 1] + vertical.count[outHeight - 1] : inHeight
        let inStride = inWidth * channels
        // Per-row scratch: one luma row, or the planes of one multi-channel row.
        var scratch = [UInt8](repeating: 0, count: inWidth * max(outChannels, 1) + inWidth)

        if needVertical && needHorizontal
            && verticalFirst(inWidth: inWidth, inHeight: inHeight, outWidth: outWidth, outHeight: outHeight) {
            var gray: [UInt8] = []
            if luma { gray = lumaRows(src, width: inWidth, channels: channels, rows: rowFirst..<rowEnd) }
            let rowLength = inWidth * outChannels
            let mid: [UInt8] = luma
                ? gray.withUnsafeBufferPointer { verticalPass($0.baseAddress!, rowLength: rowLength, rowFirst: rowFirst, coefficients: vertical) }
                : verticalPass(src + rowFirst * inStride, rowLength: rowLength, rowFirst: rowFirst, coefficients: vertical)
            let outStride = outWidth * outChannels
            var out = [UInt8](repeating: 0, count: outHeight * outStride)
            mid.withUnsafeBufferPointer { m in
                out.withUnsafeMutableBufferPointer { o in
                    scratch.withUnsafeMutableBufferPointer { sc in
                        for r in 0..<outHeight {
                            horizontalRow(m.baseAddress! + r * rowLength, channels: outChannels, coefficients: horizontal!,
                                          planes: sc.baseAddress!, into: o.baseAddress! + r * outStride)
                        }
                    }
                }
            }
            return Image(width: outWidth, height: outHeight, channels: outChannels, pixels: out)
        }

        // Horizontal pass (or luma conversion / copy) into `mid`: rows rowFirst..<rowEnd.
        let midWidth = needHorizontal ? outWidth : inWidth
        let midStride = midWidth * outChannels
        let midRows = rowEnd - rowFirst
        var mid = [UInt8](repeating: 0, count: midRows * midStride)
        mid.withUnsafeMutableBufferPointer { midBuffer in
            scratch.withUnsafeMutableBufferPointer { sc in
                let midBase = midBuffer.baseAddress!
                let lumaRow = sc.baseAddress! + inWidth * outChannels
                for r in 0..<midRows {
                    var row = src + (rowFirst + r) * inStride
                    if luma {
                        ResampleKernels.luma(row, channels: channels, count: inWidth, into: lumaRow)
                        row = UnsafePointer(lumaRow)
                    }
                    let out = midBase + r * midStride
                    if let h = horizontal {
                        horizontalRow(row, channels: outChannels, coefficients: h, planes: sc.baseAddress!, into: out)
                    } else {
                        out.update(from: row, count: midStride)
                    }
                }
            }
        }
        guard needVertical else {
            return Image(width: midWidth, height: midRows, channels: outChannels, pixels: mid)
        }
        let out = mid.withUnsafeBufferPointer {
            verticalPass($0.baseAddress!, rowLength: midStride, rowFirst: rowFirst, coefficients: vertical)
        }
        return Image(width: midWidth, height: outHeight, channels: outChannels, pixels: out)
    }

    private static func lumaRows(_ src: UnsafePointer<UInt8>, width: Int, channels: Int, rows: Range<Int>) -> [UInt8] {
        var gray = [UInt8](repeating: 0, count: rows.count * width)
        gray.withUnsafeMutableBufferPointer { g in
            for (i, r) in rows.enumerated() {
                ResampleKernels.luma(src + r * width * channels, channels: channels, count: width, into: g.baseAddress! + i * width)
            }
        }
        return gray
    }

    /// Vertical pass: `rows` holds source rows `rowFirst...`, each `rowLength` bytes.
    private static func verticalPass(
        _ rows: UnsafePointer<UInt8>, rowLength: Int, rowFirst: Int, coefficients vertical: Coefficients
    ) -> [UInt8] {
        let outHeight = vertical.outSize
        var out = [UInt8](repeating: 0, count: outHeight * rowLength)
        var acc = [Int32](repeating: 0, count: rowLength)
        out.withUnsafeMutableBufferPointer { outBuffer in
            acc.withUnsafeMutableBufferPointer { accBuffer in
                vertical.weights.withUnsafeBufferPointer { wBuffer in
                    let a = accBuffer.baseAddress!
                    for yy in 0..<outHeight {
                        a.update(repeating: ResampleKernels.half, count: rowLength)
                        let first = vertical.start[yy] - rowFirst
                        let k = wBuffer.baseAddress! + yy * vertical.taps
                        for t in 0..<vertical.count[yy] {
                            ResampleKernels.accumulate(a, rows + (first + t) * rowLength, weight: k[t], count: rowLength)
                        }
                        ResampleKernels.clip(a, count: rowLength, into: outBuffer.baseAddress! + yy * rowLength)
                    }
                }
            }
        }
        return out
    }

    /// One row of the horizontal pass. Multi-channel rows are split into planes (in `planes`,
    /// `channels * width` bytes) so that every dot product runs over contiguous bytes.
    private static func horizontalRow(
        _ row: UnsafePointer<UInt8>, channels: Int, coefficients h: Coefficients,
        planes: UnsafeMutablePointer<UInt8>, into out: UnsafeMutablePointer<UInt8>
    ) {
        h.weights.withUnsafeBufferPointer { wBuffer in
            h.start.withUnsafeBufferPointer { startBuffer in
                h.count.withUnsafeBufferPointer { countBuffer in
                    let w = wBuffer.baseAddress!, start = startBuffer.baseAddress!, count = countBuffer.baseAddress!
                    if channels == 1 {
                        for xx in 0..<h.outSize {
                            let s = ResampleKernels.dot(row + start[xx], w + xx * h.taps, count: count[xx])
                            out[xx] = ResampleKernels.clip8(s &+ ResampleKernels.half)
                        }
                        return
                    }
                    let width = h.inSize
                    ResampleKernels.deinterleave(row, channels: channels, count: width, into: planes)
                    for c in 0..<channels {
                        let plane = UnsafePointer(planes + c * width)
                        for xx in 0..<h.outSize {
                            let s = ResampleKernels.dot(plane + start[xx], w + xx * h.taps, count: count[xx])
                            out[xx * channels + c] = ResampleKernels.clip8(s &+ ResampleKernels.half)
                        }
                    }
                }
            }
        }
    }
}

/// The inner loops of `PillowResample`, kept as small non-inlined functions over raw pointers so
/// that the compiler vectorises them (Int32 wrapping arithmetic: Pillow's sums fit in Int32).
enum ResampleKernels {
    /// Rounding offset of the fixed-point sums: 0.5 in 22-bit fixed point.
    static let half: Int32 = 1 << Int32(PillowResample.precisionBits - 1)

    @inline(never)
    static func dot(_ p: UnsafePointer<UInt8>, _ k: UnsafePointer<Int32>, count: Int) -> Int32 {
        var s: Int32 = 0
        for t in 0..<count { s = s &+ Int32(p[t]) &* k[t] }
        return s
    }

    @inline(never)
    static func accumulate(_ acc: UnsafeMutablePointer<Int32>, _ row: UnsafePointer<UInt8>, weight: Int32, count: Int) {
        for i in 0..<count { acc[i] = acc[i] &+ Int32(row[i]) &* weight }
    }

    @inline(__always)
    static func clip8(_ sum: Int32) -> UInt8 {
        let v = sum >> Int32(PillowResample.precisionBits)
        return v < 0 ? 0 : (v > 255 ? 255 : UInt8(truncatingIfNeeded: v))
    }

    @inline(never)
    static func clip(_ acc: UnsafePointer<Int32>, count: Int, into out: UnsafeMutablePointer<UInt8>) {
        for i in 0..<count { out[i] = clip8(acc[i]) }
    }

    /// Pillow's L = (19595 R + 38470 G + 7471 B + 0x8000) >> 16 for `count` pixels.
    @inline(never)
    static func luma(_ p: UnsafePointer<UInt8>, channels: Int, count: Int, into l: UnsafeMutablePointer<UInt8>) {
        if channels == 3 {
            for x in 0..<count {
                let q = p + 3 * x
                l[x] = UInt8(truncatingIfNeeded: (UInt32(q[0]) &* 19595 &+ UInt32(q[1]) &* 38470 &+ UInt32(q[2]) &* 7471 &+ 0x8000) >> 16)
            }
        } else {
            for x in 0..<count {
                let q = p + channels * x
                l[x] = UInt8(truncatingIfNeeded: (UInt32(q[0]) &* 19595 &+ UInt32(q[1]) &* 38470 &+ UInt32(q[2]) &* 7471 &+ 0x8000) >> 16)
            }
        }
    }

    @inline(never)
    static func deinterleave(_ p: UnsafePointer<UInt8>, channels: Int, count: Int, into planes: UnsafeMutablePointer<UInt8>) {
        for c in 0..<channels {
            let plane = planes + c * count
            for x in 0..<count { plane[x] = p[x * channels + c] }
        }
    }
}
