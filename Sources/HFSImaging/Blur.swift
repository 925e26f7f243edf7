import Foundation // exp

// Gaussian blur and Sobel gradients.

extension Image {
    /// Largest accepted Gaussian kernel side.
    public static let gaussianKernelSizeMax = 1001

    /// Gaussian blur as `cv2.GaussianBlur(img, (k, k), sigma)` on 8-bit images (same σ on both axes,
    /// BORDER_REFLECT_101, each channel independently).
    ///
    /// - `kernelSize` 0 computes it from σ as OpenCV does for 8-bit: `round(σ·6 + 1) | 1`.
    /// - `sigma` ≤ 0 with an odd `kernelSize` uses OpenCV's `0.3·((k−1)/2 − 1) + 0.8` (and its fixed
    ///   tables for k ≤ 7).
    /// - Kernel: `cv2.getGaussianKernel(k, σ)`, i.e. `exp(−(i−(k−1)/2)²/(2σ²))` normalised, then
    ///   quantised like OpenCV's bit-exact 8-bit path to 8 fractional bits (taps rounded from the
    ///   outside in with error diffusion, the centre takes the rest so the sum is exactly 256). The row pass is exact in 16 bits, the column pass
    ///   in 32 bits, and the result is rounded: `(Σ + 2¹⁵) >> 16`.
    ///
    /// Throws ``ImagingError/invalidArgument(_:)`` for an even or negative size, both parameters ≤ 0,
    /// or a kernel over ``gaussianKernelSizeMax``.
    public func gaussianBlur(sigma: Double, kernelSize: Int = 0) throws -> Image {
        let kernel = try Self.gaussianKernelFixed(sigma: sigma, kernelSize: kernelSize)
        if isEmpty { return self }
        let radius = kernel.count / 2
        if radius == 0 { return self }
        let w = width, h = height, cn = channels, stride = rowStride
        let taps = kernel.count
        // Row pass into 8.8 fixed point (at most 255·256: exact in UInt16), from a reflected,
        // padded copy of the row; the kernel is symmetric, so mirrored taps share one multiply.
        var rows = [UInt16](repeating: 0, count: stride * h)
        var padded = [UInt16](repeating: 0, count: (w + 2 * radius) * cn)
        let columnIndex = (-radius..<(w + radius)).map { reflect101($0, w) }
        pixels.withUnsafeBufferPointer { src in
            rows.withUnsafeMutableBufferPointer { rowsOut in
                padded.withUnsafeMutableBufferPointer { pad in
                    guard let s = src.baseAddress, let p = pad.baseAddress, let r = rowsOut.baseAddress else { return }
                    for y in 0..<h {
                        let line = s + y * stride
                        for (i, x) in columnIndex.enumerated() where i < radius || i >= radius + w {
                            for c in 0..<cn { p[i * cn + c] = UInt16(line[x * cn + c]) }
                        }
                        let interior = p + radius * cn
                        for i in 0..<stride { interior[i] = UInt16(line[i]) }
                        Self.gaussianRow(p, cn: cn, count: stride, kernel: kernel, into: r + y * stride)
                    }
                }
            }
        }
        // Column pass: 8.8 × 0.8 → 16 fractional bits, rounded to 8 bits.
        let rowIndex = (-radius..<(h + radius)).map { reflect101($0, h) * stride }
        let out = [UInt8](unsafeUninitializedCapacity: stride * h) { dst, initialized in
            rows.withUnsafeBufferPointer { rowsIn in
                guard let r = rowsIn.baseAddress, let d = dst.baseAddress else { return }
                var sources = [UnsafePointer<UInt16>](repeating: r, count: taps)
                for y in 0..<h {
                    for t in 0..<taps { sources[t] = r + rowIndex[y + t] }
                    sources.withUnsafeBufferPointer { rowPointers in
                        Self.gaussianColumn(rowPointers, count: stride, kernel: kernel, into: d + y * stride)
                    }
                }
            }
            initialized = stride * h
        }
        return Image(width: w, height: h, channels: cn, pixels: out)
    }

    private typealias U16x16 = SIMD16<UInt16>

    /// One output row of the horizontal pass: `out[i] = Σ_t k[t] · padded[i + t·cn]`, 16 lanes at a time.
    private static func gaussianRow(_ padded: UnsafePointer<UInt16>, cn: Int, count: Int, kernel: [UInt16],
                                    into out: UnsafeMutablePointer<UInt16>) {
        let taps = kernel.count, radius = taps / 2
        let center = padded + radius * cn
        kernel.withUnsafeBufferPointer { k in
            var i = 0
            while i + 16 <= count {
                var acc = load16(center + i) &* U16x16(repeating: k[radius])
                for t in 0..<radius where k[t] != 0 {
                    acc &+= (load16(padded + t * cn + i) &+ load16(padded + (taps - 1 - t) * cn + i)) &* U16x16(repeating: k[t])
                }
                UnsafeMutableRawPointer(out + i).storeBytes(of: acc, as: U16x16.self)
                i += 16
            }
            while i < count {
                var acc = center[i] &* k[radius]
                for t in 0..<radius { acc &+= (padded[t * cn + i] &+ padded[(taps - 1 - t) * cn + i]) &* k[t] }
                out[i] = acc
                i += 1
            }
        }
    }

    /// One output row of the vertical pass over the `taps` source rows. The 32-bit sum
    /// Σ k·r (r in 8.8) is kept as two exact 16-bit sums over the high and low bytes of r,
    /// A = Σ k·(r >> 8), B = Σ k·(r & 255), so the rounded result (Σ + 2¹⁵) >> 16 equals
    /// (A >> 8) + (((A & 255) + 128 + (B >> 8)) >> 8), all in 16-bit lanes.
    private static func gaussianColumn(_ rows: UnsafeBufferPointer<UnsafePointer<UInt16>>, count: Int,
                                       kernel: [UInt16], into out: UnsafeMutablePointer<UInt8>) {
        let taps = kernel.count, radius = taps / 2
        let low = U16x16(repeating: 0xFF), half = U16x16(repeating: 128)
        kernel.withUnsafeBufferPointer { k in
            var i = 0
            while i + 16 <= count {
                let c = load16(rows[radius] + i), kc = U16x16(repeating: k[radius])
                var a = (c &>> 8) &* kc, b = (c & low) &* kc
                for t in 0..<radius where k[t] != 0 {
                    let above = load16(rows[t] + i), below = load16(rows[taps - 1 - t] + i)
                    let kt = U16x16(repeating: k[t])
                    a &+= ((above &>> 8) &+ (below &>> 8)) &* kt
                    b &+= ((above & low) &+ (below & low)) &* kt
                }
                let result = (a &>> 8) &+ (((a & low) &+ half &+ (b &>> 8)) &>> 8)
                UnsafeMutableRawPointer(out + i).storeBytes(of: SIMD16<UInt8>(truncatingIfNeeded: result), as: SIMD16<UInt8>.self)
                i += 16
            }
            while i < count {
                var sum = UInt32(rows[radius][i]) * UInt32(k[radius])
                for t in 0..<radius { sum += (UInt32(rows[t][i]) + UInt32(rows[taps - 1 - t][i])) * UInt32(k[t]) }
                out[i] = UInt8(truncatingIfNeeded: min(255, (sum + 0x8000) >> 16))
                i += 1
            }
        }
    }

    @inline(__always)
    private static func load16(_ p: UnsafePointer<UInt16>) -> U16x16 {
        UnsafeRawPointer(p).loadUnaligned(as: U16x16.self)
    }

    /// `cv2.getGaussianKernel(kernelSize, sigma)` with OpenCV's 8-bit rules for a 0 size or σ ≤ 0,
    /// in Double.
    public static func gaussianKernel(sigma: Double, kernelSize: Int = 0) throws -> [Double] {
        var size = kernelSize
        if size == 0 {
            guard sigma > 0, sigma.isFinite else {
                throw ImagingError.invalidArgument("gaussian blur: sigma \(sigma) must be > 0 when kernelSize is 0")
            }
            let computed = (sigma * 6 + 1).rounded(.toNearestOrEven)
            guard computed <= Double(gaussianKernelSizeMax) else {
                throw ImagingError.invalidArgument("gaussian blur: sigma \(sigma) needs a kernel over \(gaussianKernelSizeMax)")
            }
            size = Int(computed) | 1
        }
        guard size > 0, size % 2 == 1, size <= gaussianKernelSizeMax else {
            throw ImagingError.invalidArgument("gaussian blur: kernelSize \(kernelSize) must be 0 or odd in 1...\(gaussianKernelSizeMax)")
        }
        guard sigma.isFinite else { throw ImagingError.invalidArgument("gaussian blur: sigma \(sigma) is not finite") }
        if sigma <= 0 {
            switch size {
            case 1: return [1]
            case 3: return [0.25, 0.5, 0.25]
            case 5: return [0.0625, 0.25, 0.375, 0.25, 0.0625]
            case 7: return [0.03125, 0.109375, 0.21875, 0.28125, 0.21875, 0.109375, 0.03125]
            default: break
            }
        }
        let s = sigma > 0 ? sigma : ((Double(size) - 1) * 0.5 - 1) * 0.3 + 0.8
        let scale = -0.5 / (s * s)
        var values = (0..<size).map { i -> Double in
            let x = Double(i) - Double(size - 1) * 0.5
            return exp(scale * x * x)
        }
        let sum = values.reduce(0, +)
        for i in values.indices { values[i] /= sum }
        return values
    }

    /// ``gaussianKernel(sigma:kernelSize:)`` quantised to 8 fractional bits as OpenCV's bit-exact
    /// path: outer taps first, each `round(k·256 + carried error)` (half to even) with the rounding
    /// error carried inwards, mirrored; the centre takes the rest so the sum is exactly 256.
    static func gaussianKernelFixed(sigma: Double, kernelSize: Int) throws -> [UInt16] {
        let kernel = try gaussianKernel(sigma: sigma, kernelSize: kernelSize)
        let n = kernel.count, half = n / 2
        var fixed = [UInt16](repeating: 0, count: n)
        var sides = 0
        var error = 0.0
        for i in 0..<half {
            let adjusted = kernel[i] * 256 + error
            let v = adjusted.rounded(.toNearestOrEven)
            error = adjusted - v
            fixed[i] = UInt16(max(0, v))
            fixed[n - 1 - i] = fixed[i]
            sides += 2 * Int(fixed[i])
        }
        fixed[half] = UInt16(max(0, 256 - sides))
        return fixed
    }

    /// Gradient magnitude of ``grayscale()``: `min(255, |dx| + |dy|)` where dx, dy are the 3×3 Sobel
    /// derivatives (`cv2.Sobel(gray, cv2.CV_16S, 1, 0, ksize=3)` and `(0, 1)`) with
    /// BORDER_REFLECT_101. One channel out.
    public func sobel() -> Image {
        let gray = grayscale()
        if gray.isEmpty { return gray }
        let (dx, dy) = gray.sobelDerivatives(border: .reflect101)
        let count = gray.pixelCount
        let out = [UInt8](unsafeUninitializedCapacity: count) { dst, initialized in
            dx.withUnsafeBufferPointer { gx in
                dy.withUnsafeBufferPointer { gy in
                    for i in 0..<count {
                        dst[i] = UInt8(clamping: abs(Int32(gx[i])) + abs(Int32(gy[i])))
                    }
                }
            }
            initialized = count
        }
        return Image(width: gray.width, height: gray.height, channels: 1, pixels: out)
    }

    enum Border { case reflect101, replicate }

    /// 3×3 Sobel derivatives of a 1-channel image: dx = [−1 0 1; −2 0 2; −1 0 1], dy its transpose.
    func sobelDerivatives(border: Border) -> (dx: [Int16], dy: [Int16]) {
        precondition(channels == 1, "sobelDerivatives needs a 1-channel image")
        let w = width, h = height
        func outside(_ i: Int, _ n: Int) -> Int {
            switch border {
            case .reflect101: return reflect101(i, n)
            case .replicate: return min(max(i, 0), n - 1)
            }
        }
        let left = outside(-1, w), right = outside(w, w)
        var dx = [Int16](repeating: 0, count: w * h), dy = dx
        pixels.withUnsafeBufferPointer { src in
            dx.withUnsafeMutableBufferPointer { gxBuffer in
                dy.withUnsafeMutableBufferPointer { gyBuffer in
                    guard let s = src.baseAddress, let gx = gxBuffer.baseAddress, let gy = gyBuffer.baseAddress else { return }
                    for y in 0..<h {
                        let r0 = s + outside(y - 1, h) * w, r1 = s + y * w, r2 = s + outside(y + 1, h) * w
                        let ox = gx + y * w, oy = gy + y * w
                        @inline(__always) func at(_ x: Int, _ xl: Int, _ xr: Int) {
                            let a0 = Int32(r0[xl]), a1 = Int32(r0[x]), a2 = Int32(r0[xr])
                            let b0 = Int32(r1[xl]), b2 = Int32(r1[xr])
                            let c0 = Int32(r2[xl]), c1 = Int32(r2[x]), c2 = Int32(r2[xr])
                            ox[x] = Int16(truncatingIfNeeded: (a2 &+ 2 &* b2 &+ c2) &- (a0 &+ 2 &* b0 &+ c0))
                            oy[x] = Int16(truncatingIfNeeded: (c0 &+ 2 &* c1 &+ c2) &- (a0 &+ 2 &* a1 &+ a2))
                        }
                        at(0, left, w > 1 ? 1 : right)
                        if w > 1 { at(w - 1, w - 2, right) }
                        if w > 2 {
                            // Interior: branch-free and vectorisable.
                            for x in 1..<(w - 1) {
                                let a0 = Int16(r0[x - 1]), a1 = Int16(r0[x]), a2 = Int16(r0[x + 1])
                                let b0 = Int16(r1[x - 1]), b2 = Int16(r1[x + 1])
                                let c0 = Int16(r2[x - 1]), c1 = Int16(r2[x]), c2 = Int16(r2[x + 1])
                                ox[x] = (a2 &+ 2 &* b2 &+ c2) &- (a0 &+ 2 &* b0 &+ c0)
                                oy[x] = (c0 &+ 2 &* c1 &+ c2) &- (a0 &+ 2 &* a1 &+ a2)
                            }
                        }
                    }
                }
            }
        }
        return (dx, dy)
    }
}
