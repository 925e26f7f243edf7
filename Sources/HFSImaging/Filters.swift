// Simple per-pixel and geometric filter hooks: grayscale, threshold, crop, flip, rotate.

extension Image {
    /// Luma as OpenCV `cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)` (RGBA2GRAY for 4 channels; alpha is
    /// ignored): BT.601 weights (0.299, 0.587, 0.114) in 15-bit fixed point,
    /// `Y = (R·9798 + G·19235 + B·3735 + 16384) >> 15`.
    /// This is bit-exact with the OpenCV used by the reference tests (5.0, checked on all 2²⁴
    /// colours); OpenCV 4's 14-bit form `(R·4899 + G·9617 + B·1868 + 8192) >> 14` differs by at most
    /// 1 on ~0.3% of colours. A 1-channel image is returned unchanged.
    public func grayscale() -> Image {
        if channels == 1 { return self }
        let count = pixelCount, cn = channels
        let out = [UInt8](unsafeUninitializedCapacity: count) { dst, initialized in
            pixels.withUnsafeBufferPointer { src in
                guard let s = src.baseAddress, let d = dst.baseAddress else { return }
                // The integer sum S = 9798·R + 19235·G + 3735·B is below 2²³, so Float holds it exactly
                // and vectorises (baseline x86-64 has no 32-bit integer multiply). (S + 2¹⁴) >> 15 is
                // S·2⁻¹⁵ rounded half up, i.e. S·2⁻¹⁵ + 2⁻¹⁶ (never a tie) rounded half to even,
                // which adding 1.5·2²³ does; the integer is then in the low mantissa bits.
                @inline(__always) func luma(_ p: UnsafePointer<UInt8>) -> UInt8 {
                    let sum = Float(p[0]) * 9798 + Float(p[1]) * 19235 + Float(p[2]) * 3735
                    let rounded = (sum * (1.0 / 32768) + (1.0 / 65536)) + 12_582_912
                    return UInt8(truncatingIfNeeded: rounded.bitPattern)
                }
                // Separate loops per channel count so the stride is a constant.
                if cn == 3 {
                    for i in 0..<count { d[i] = luma(s + i &* 3) }
                } else {
                    for i in 0..<count { d[i] = luma(s + i &* 4) }
                }
            }
            initialized = count
        }
        return Image(width: width, height: height, channels: 1, pixels: out)
    }

    /// Binary threshold as `cv2.threshold(img, value, 255, cv2.THRESH_BINARY)`, per channel:
    /// a sample becomes 255 when `sample > floor(value)`, else 0 (so `value < 0` gives all 255 and
    /// `value >= 255` — or NaN — all 0).
    public func threshold(value: Double) -> Image {
        let level: Int = value.isNaN ? 255 : (value < 0 ? -1 : (value >= 255 ? 255 : Int(value.rounded(.down))))
        var table = [UInt8](repeating: 0, count: 256)
        for v in 0..<256 where v > level { table[v] = 255 }
        return mapSamples(table)
    }

    /// How ``threshold(_:)`` picks its level.
    public enum ThresholdMethod: Sendable, Equatable {
        /// `sample > value` → 255, as ``threshold(value:)``.
        case fixed(Double)
        /// Otsu's level on the grayscale image, as `cv2.THRESH_BINARY | cv2.THRESH_OTSU`.
        case otsu
    }

    /// Binary threshold by a fixed level (per channel) or by Otsu's method. Otsu works on
    /// ``grayscale()`` (OpenCV accepts only 1-channel input for Otsu) and returns a 1-channel image.
    public func threshold(_ method: ThresholdMethod) -> Image {
        switch method {
        case .fixed(let value): return threshold(value: value)
        case .otsu:
            let gray = grayscale()
            return gray.threshold(value: Double(gray.otsuLevel()))
        }
    }

    /// Otsu's threshold of a 1-channel image exactly as OpenCV's `getThreshVal_Otsu_8u`: the level
    /// `t` maximising the between-class variance q1·q2·(μ1−μ2)², classes `≤ t` and `> t`, computed
    /// in Double, first maximum wins. Multi-channel images are converted with ``grayscale()`` first.
    public func otsuLevel() -> Int {
        if channels != 1 { return grayscale().otsuLevel() }
        var histogram = [Int](repeating: 0, count: 256)
        pixels.withUnsafeBufferPointer { src in
            for v in src { histogram[Int(v)] += 1 }
        }
        let scale = 1.0 / Double(max(1, pixelCount))
        var mu = 0.0
        for i in 0..<256 { mu += Double(i) * Double(histogram[i]) }
        mu *= scale
        var mu1 = 0.0, q1 = 0.0, maxSigma = 0.0, best = 0
        let epsilon = Double(Float.ulpOfOne)
        for i in 0..<256 {
            let p = Double(histogram[i]) * scale
            mu1 *= q1
            q1 += p
            let q2 = 1.0 - q1
            if min(q1, q2) < epsilon || max(q1, q2) > 1.0 - epsilon { continue }
            mu1 = (mu1 + Double(i) * p) / q1
            let mu2 = (mu - q1 * mu1) / q2
            let sigma = q1 * q2 * (mu1 - mu2) * (mu1 - mu2)
            if sigma > maxSigma {
                maxSigma = sigma
                best = i
            }
        }
        return best
    }

    /// The `width` × `height` region whose top-left corner is (`x`, `y`). Throws
    /// ``ImagingError/invalidArgument(_:)`` unless the region is non-empty and inside the image.
    public func crop(x: Int, y: Int, width w: Int, height h: Int) throws -> Image {
        guard x >= 0, y >= 0, w > 0, h > 0, x <= width - w, y <= height - h else {
            throw ImagingError.invalidArgument("crop \(w)x\(h) at (\(x), \(y)) is not inside the \(width)x\(height) image")
        }
        let cn = channels, srcStride = rowStride, dstStride = w * cn
        let out = [UInt8](unsafeUninitializedCapacity: dstStride * h) { dst, initialized in
            pixels.withUnsafeBufferPointer { src in
                for row in 0..<h {
                    let from = src.baseAddress! + (y + row) * srcStride + x * cn
                    (dst.baseAddress! + row * dstStride).update(from: from, count: dstStride)
                }
            }
            initialized = dstStride * h
        }
        return Image(width: w, height: h, channels: cn, pixels: out)
    }

    public enum FlipDirection: Sendable { case horizontal, vertical }

    /// Mirror image: `.horizontal` swaps left and right (cv2.flip code 1), `.vertical` swaps top
    /// and bottom (code 0).
    public func flip(_ direction: FlipDirection) -> Image {
        let cn = channels, stride = rowStride, w = width, h = height
        let out = [UInt8](unsafeUninitializedCapacity: pixels.count) { dst, initialized in
            pixels.withUnsafeBufferPointer { src in
                guard let s = src.baseAddress, let d = dst.baseAddress else { return }
                for y in 0..<h {
                    switch direction {
                    case .vertical:
                        (d + y * stride).update(from: s + (h - 1 - y) * stride, count: stride)
                    case .horizontal:
                        let srow = s + y * stride, drow = d + y * stride
                        switch cn {
                        case 1: for x in 0..<w { drow[x] = srow[w - 1 - x] }
                        case 3: Self.copyPixels(3, count: w, from: srow + (w - 1) * 3, step: -3, to: drow, step: 3)
                        default: Self.copyPixels(4, count: w, from: srow + (w - 1) * 4, step: -4, to: drow, step: 4)
                        }
                    }
                }
            }
            initialized = pixels.count
        }
        return Image(width: w, height: h, channels: cn, pixels: out)
    }

    /// Rotation by `times` × 90° clockwise (any integer; negative turns counter-clockwise).
    /// `times ≡ 1 (mod 4)` equals `cv2.rotate(img, cv2.ROTATE_90_CLOCKWISE)`.
    public func rotate90(times: Int = 1) -> Image {
        let turns = ((times % 4) + 4) % 4
        if turns == 0 { return self }
        if turns == 2 { return flip(.vertical).flip(.horizontal) }
        let cn = channels, w = width, h = height, srcStride = rowStride
        let dstStride = h * cn
        let out = [UInt8](unsafeUninitializedCapacity: pixels.count) { dst, initialized in
            pixels.withUnsafeBufferPointer { src in
                guard let s = src.baseAddress, let d = dst.baseAddress else { return }
                // Output is h wide and w high; output row `yo` is source column `yo` (clockwise,
                // read bottom-up) or column `w-1-yo` (counter-clockwise, read top-down).
                for yo in 0..<w {
                    let column = turns == 1 ? yo : w - 1 - yo
                    let start = turns == 1 ? s + (h - 1) * srcStride + column * cn : s + column * cn
                    let step = turns == 1 ? -srcStride : srcStride
                    let drow = d + yo * dstStride
                    switch cn {
                    case 1: Self.copyPixels(1, count: h, from: start, step: step, to: drow, step: 1)
                    case 3: Self.copyPixels(3, count: h, from: start, step: step, to: drow, step: 3)
                    default: Self.copyPixels(4, count: h, from: start, step: step, to: drow, step: 4)
                    }
                }
            }
            initialized = pixels.count
        }
        return Image(width: h, height: w, channels: cn, pixels: out)
    }

    /// Copies `count` pixels of `size` bytes between strided positions (size is a literal at each
    /// call site, so the inner loop is unrolled).
    @inline(__always)
    static func copyPixels(_ size: Int, count: Int, from source: UnsafePointer<UInt8>, step sourceStep: Int,
                           to destination: UnsafeMutablePointer<UInt8>, step destinationStep: Int) {
        var s = source, d = destination
        for _ in 0..<count {
            for c in 0..<size { d[c] = s[c] }
            s += sourceStep
            d += destinationStep
        }
    }

    /// Applies a 256-entry lookup table to every sample.
    func mapSamples(_ table: [UInt8]) -> Image {
        precondition(table.count == 256)
        let count = pixels.count
        let out = [UInt8](unsafeUninitializedCapacity: count) { dst, initialized in
            pixels.withUnsafeBufferPointer { src in
                table.withUnsafeBufferPointer { lut in
                    for i in 0..<count { dst[i] = lut[Int(src[i])] }
                }
            }
            initialized = count
        }
        return Image(width: width, height: height, channels: channels, pixels: out)
    }
}

/// Index of a sample outside 0..<n under OpenCV's BORDER_REFLECT_101 (`gfedcb|abcdefgh|gfedcba`).
@inline(__always)
func reflect101(_ i: Int, _ n: Int) -> Int {
    if n == 1 { return 0 }
    var i = i
    while i < 0 || i >= n {
        if i < 0 { i = -i }
        if i >= n { i = 2 * n - 2 - i }
    }
    return i
}
