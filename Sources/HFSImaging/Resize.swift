// Resizing as OpenCV's cv2.resize for 8-bit images (INTER_LINEAR and INTER_AREA), and thumbnails.

extension Image {
    public enum Interpolation: String, Sendable, CaseIterable {
        /// `cv2.INTER_LINEAR`: bilinear with half-pixel centres, 11-bit fixed-point weights.
        case bilinear
        /// `cv2.INTER_AREA`: pixel-area averaging when shrinking, bilinear-like when enlarging.
        case area
    }

    /// Resized to `width` × `height` as `cv2.resize(img, (width, height), interpolation=...)`.
    ///
    /// - `.bilinear` (INTER_LINEAR): source coordinate `(d + 0.5)·scale − 0.5` clamped to the image,
    ///   weights rounded to 1/2048; rows are filtered horizontally into 32-bit sums, then combined
    ///   vertically as OpenCV's SIMD path does:
    ///   `((β0·(S0 >> 4)) >> 16 + (β1·(S1 >> 4)) >> 16 + 2) >> 2`. An exact 2× reduction on both
    ///   axes is the 2×2 average, as in OpenCV.
    /// - `.area` (INTER_AREA), shrinking: each output is the area-weighted mean of the source
    ///   pixels its footprint covers (Float weights as OpenCV's `computeResizeAreaTab`, rounded
    ///   half to even); for integer factors the plain block mean, `(sum + 2) >> 2` for 2×2.
    ///   Enlarging: OpenCV's area-mode bilinear coefficients.
    ///
    /// Throws ``ImagingError/invalidArgument(_:)`` for a non-positive size or an empty image, and
    /// ``ImagingError/tooLarge(width:height:limit:)`` when the output exceeds ``Imaging/pixelLimit``.
    public func resize(width newWidth: Int, height newHeight: Int,
                       interpolation: Interpolation = .bilinear) throws -> Image {
        guard newWidth > 0, newHeight > 0, newWidth <= 1 << 20, newHeight <= 1 << 20 else {
            throw ImagingError.invalidArgument("resize to \(newWidth)x\(newHeight): sides must be in 1...\(1 << 20)")
        }
        guard newWidth * newHeight <= Imaging.pixelLimit else {
            throw ImagingError.tooLarge(width: newWidth, height: newHeight, limit: Imaging.pixelLimit)
        }
        guard !isEmpty else { throw ImagingError.invalidArgument("resize of an empty \(width)x\(height) image") }
        if newWidth == width && newHeight == height { return self }
        // As OpenCV: scale = 1 / (dst / src), not src / dst (they can differ in the last bit).
        let scaleX = 1 / (Double(newWidth) / Double(width)), scaleY = 1 / (Double(newHeight) / Double(height))
        let intScaleX = Int(scaleX.rounded()), intScaleY = Int(scaleY.rounded())
        let isAreaFast = abs(scaleX - Double(intScaleX)) < Double.ulpOfOne
            && abs(scaleY - Double(intScaleY)) < Double.ulpOfOne
        switch interpolation {
        case .bilinear:
            if isAreaFast && intScaleX == 2 && intScaleY == 2 {
                return resizeAreaInteger(newWidth, newHeight, intScaleX, intScaleY)
            }
            return resizeLinear(newWidth, newHeight, areaMode: false)
        case .area:
            if scaleX >= 1 && scaleY >= 1 {
                if isAreaFast { return resizeAreaInteger(newWidth, newHeight, intScaleX, intScaleY) }
                return resizeAreaGeneral(newWidth, newHeight)
            }
            return resizeLinear(newWidth, newHeight, areaMode: true)
        }
    }

    /// Size of a thumbnail fitting in `maxSide` × `maxSide`: the longer side becomes `maxSide`, the
    /// other `round(short · maxSide / long)` (at least 1); images already small enough keep their size.
    public static func thumbnailSize(width: Int, height: Int, maxSide: Int) -> (width: Int, height: Int) {
        let long = max(width, height)
        guard long > maxSide, maxSide > 0 else { return (width, height) }
        let scaled = { (side: Int) in max(1, (side * maxSide + long / 2) / long) }
        return width >= height ? (maxSide, scaled(height)) : (scaled(width), maxSide)
    }

    /// Shrunk to fit in `maxSide` × `maxSide` with the aspect kept (``thumbnailSize(width:height:maxSide:)``),
    /// never enlarged, using `.area` interpolation. Returns the image itself when it already fits
    /// (or when `maxSide < 1`).
    public func thumbnail(maxSide: Int) -> Image {
        let (w, h) = Image.thumbnailSize(width: width, height: height, maxSide: maxSide)
        if (w == width && h == height) || isEmpty { return self }
        // Cannot throw: w, h are in 1...maxSide and the image is not empty.
        return (try? resize(width: w, height: h, interpolation: .area)) ?? self
    }

    // MARK: - INTER_LINEAR (and INTER_AREA enlarging), fixed point

    private static let coefBits = 11
    private static let coefScale: Float = 2048

    private func resizeLinear(_ dw: Int, _ dh: Int, areaMode: Bool) -> Image {
        let sw = width, sh = height, cn = channels
        let invScaleX = Double(dw) / Double(sw), invScaleY = Double(dh) / Double(sh)
        let scaleX = 1 / invScaleX, scaleY = 1 / invScaleY

        // Horizontal taps: source column and two weights per output column.
        var xofs = [Int](repeating: 0, count: dw)
        var alpha = [Int32](repeating: 0, count: dw * 2)
        var xmax = dw
        for dx in 0..<dw {
            var (sx, fx) = Self.linearTap(dx, scale: scaleX, invScale: invScaleX, areaMode: areaMode)
            if sx < 0 { fx = 0; sx = 0 }
            if sx + 1 >= sw {
                xmax = min(xmax, dx)
                if sx >= sw - 1 { fx = 0; sx = sw - 1 }
            }
            xofs[dx] = sx * cn
            let a0 = Self.fixedWeight(1 - fx)
            alpha[dx * 2] = a0
            alpha[dx * 2 + 1] = Self.fixedWeight(fx)
        }
        // Vertical taps: first source row (unclamped) and two weights per output row.
        var yofs = [Int](repeating: 0, count: dh)
        var beta = [Int32](repeating: 0, count: dh * 2)
        for dy in 0..<dh {
            let (sy, fy) = Self.linearTap(dy, scale: scaleY, invScale: invScaleY, areaMode: areaMode)
            yofs[dy] = sy
            beta[dy * 2] = Self.fixedWeight(1 - fy)
            beta[dy * 2 + 1] = Self.fixedWeight(fy)
        }

        let rowLength = dw * cn
        var rowA = [Int32](repeating: 0, count: rowLength), rowB = rowA
        var indexA = -1, indexB = -1
        let srcStride = rowStride
        let out = [UInt8](unsafeUninitializedCapacity: rowLength * dh) { dst, initialized in
            pixels.withUnsafeBufferPointer { src in
                xofs.withUnsafeBufferPointer { xofs in
                    alpha.withUnsafeBufferPointer { alpha in
                        func horizontal(_ sy: Int, into row: UnsafeMutableBufferPointer<Int32>) {
                            guard let s = src.baseAddress.map({ $0 + sy * srcStride }), let o = row.baseAddress,
                                  let xo = xofs.baseAddress, let al = alpha.baseAddress else { return }
                            // Specialised per channel count so the channel loop unrolls.
                            @inline(__always) func taps(_ cn: Int) {
                                for dx in 0..<xmax {
                                    let sx = xo[dx], a0 = al[dx &* 2], a1 = al[dx &* 2 &+ 1]
                                    for c in 0..<cn {
                                        o[dx &* cn &+ c] = Int32(s[sx &+ c]) &* a0 &+ Int32(s[sx &+ cn &+ c]) &* a1
                                    }
                                }
                                for dx in xmax..<dw {
                                    let sx = xo[dx]
                                    for c in 0..<cn { o[dx &* cn &+ c] = Int32(s[sx &+ c]) << Self.coefBits }
                                }
                            }
                            switch cn {
                            case 1: taps(1)
                            case 3: taps(3)
                            default: taps(4)
                            }
                        }
                        for dy in 0..<dh {
                            let sy0 = min(max(yofs[dy], 0), sh - 1), sy1 = min(max(yofs[dy] + 1, 0), sh - 1)
                            // Keep the two most recent source rows; compute only missing ones.
                            if indexA != sy0 && indexB == sy0 { swap(&rowA, &rowB); swap(&indexA, &indexB) }
                            if indexA != sy0 {
                                rowA.withUnsafeMutableBufferPointer { horizontal(sy0, into: $0) }
                                indexA = sy0
                            }
                            if indexB != sy1 {
                                if sy1 == sy0 {
                                    rowB = rowA
                                } else {
                                    rowB.withUnsafeMutableBufferPointer { horizontal(sy1, into: $0) }
                                }
                                indexB = sy1
                            }
                            // OpenCV's SIMD rounding: 16-bit lanes, (β·(S >> 4)) >> 16 is a "multiply high".
                            let b0 = Int32(beta[dy * 2]), b1 = Int32(beta[dy * 2 + 1])
                            guard let d = dst.baseAddress.map({ $0 + dy * rowLength }) else { return }
                            rowA.withUnsafeBufferPointer { r0 in
                                rowB.withUnsafeBufferPointer { r1 in
                                    for x in 0..<rowLength {
                                        let s0 = Int32(Int16(truncatingIfNeeded: r0[x] &>> 4))
                                        let s1 = Int32(Int16(truncatingIfNeeded: r1[x] &>> 4))
                                        let m0 = Int16(truncatingIfNeeded: (s0 &* b0) &>> 16)
                                        let m1 = Int16(truncatingIfNeeded: (s1 &* b1) &>> 16)
                                        d[x] = UInt8(clamping: (m0 &+ m1 &+ 2) &>> 2)
                                    }
                                }
                            }
                        }
                    }
                }
            }
            initialized = rowLength * dh
        }
        return Image(width: dw, height: dh, channels: cn, pixels: out)
    }

    /// OpenCV's source position for output index `d`: (integer part, fraction) as Float.
    private static func linearTap(_ d: Int, scale: Double, invScale: Double, areaMode: Bool) -> (Int, Float) {
        if !areaMode {
            let f = Float((Double(d) + 0.5) * scale - 0.5)
            let s = Int(f.rounded(.down))
            return (s, f - Float(s))
        }
        let s = Int((Double(d) * scale).rounded(.down))
        var f = Float(Double(d + 1) - Double(s + 1) * invScale)
        f = f <= 0 ? 0 : f - f.rounded(.down)
        return (s, f)
    }

    /// `saturate_cast<short>(w * 2048)`: round half to even.
    private static func fixedWeight(_ w: Float) -> Int32 {
        Int32((w * coefScale).rounded(.toNearestOrEven))
    }

    // MARK: - INTER_AREA

    /// Integer reduction factors: block means (`(sum + 2) >> 2` for 2×2, else sum/area rounded half to even).
    private func resizeAreaInteger(_ dw: Int, _ dh: Int, _ fx: Int, _ fy: Int) -> Image {
        let cn = channels, srcStride = rowStride, rowLength = dw * cn
        let area = fx * fy
        let inverse = 1 / Float(area)
        let out = [UInt8](unsafeUninitializedCapacity: rowLength * dh) { dst, initialized in
            pixels.withUnsafeBufferPointer { src in
                guard let s = src.baseAddress, let d = dst.baseAddress else { return }
                for dy in 0..<dh {
                    let top = s + dy * fy * srcStride, line = d + dy * rowLength
                    if fx == 2 && fy == 2 {
                        let bottom = top + srcStride
                        for dx in 0..<dw {
                            let p = dx &* 2 &* cn
                            for c in 0..<cn {
                                let sum = UInt16(top[p + c]) &+ UInt16(top[p + cn + c]) &+ UInt16(bottom[p + c]) &+ UInt16(bottom[p + cn + c])
                                line[dx * cn + c] = UInt8(truncatingIfNeeded: (sum &+ 2) >> 2)
                            }
                        }
                        continue
                    }
                    for dx in 0..<dw {
                        for c in 0..<cn {
                            var sum = 0
                            var p = top + dx * fx * cn + c
                            for _ in 0..<fy {
                                var q = p
                                for _ in 0..<fx { sum &+= Int(q.pointee); q += cn }
                                p += srcStride
                            }
                            line[dx * cn + c] = UInt8(clamping: roundHalfEven(Float(sum) * inverse))
                        }
                    }
                }
            }
            initialized = rowLength * dh
        }
        return Image(width: dw, height: dh, channels: cn, pixels: out)
    }

    /// One term of the area-resize tables: output index, source index, weight.
    private struct AreaTap {
        var dst: Int
        var src: Int
        var weight: Float
    }

    /// OpenCV's `computeResizeAreaTab`: the source cells covering each output cell and their shares.
    private static func areaTaps(source: Int, destination: Int, scale: Double) -> [AreaTap] {
        var taps = [AreaTap]()
        taps.reserveCapacity(source * 2)
        for d in 0..<destination {
            let f1 = Double(d) * scale, f2 = f1 + scale
            let cell = min(scale, Double(source) - f1)
            var s2 = Int(f2.rounded(.down))
            s2 = min(s2, source - 1)
            let s1 = min(Int(f1.rounded(.up)), s2)
            if Double(s1) - f1 > 1e-3 { taps.append(AreaTap(dst: d, src: s1 - 1, weight: Float((Double(s1) - f1) / cell))) }
            for s in s1..<max(s1, s2) { taps.append(AreaTap(dst: d, src: s, weight: Float(1.0 / cell))) }
            if f2 - Double(s2) > 1e-3 {
                taps.append(AreaTap(dst: d, src: s2, weight: Float(min(min(f2 - Double(s2), 1), cell) / cell)))
            }
        }
        return taps
    }

    private func resizeAreaGeneral(_ dw: Int, _ dh: Int) -> Image {
        let cn = channels, srcStride = rowStride, rowLength = dw * cn
        let xtaps = Self.areaTaps(source: width, destination: dw, scale: 1 / (Double(dw) / Double(width)))
        let ytaps = Self.areaTaps(source: height, destination: dh, scale: 1 / (Double(dh) / Double(height)))
        var buffer = [Float](repeating: 0, count: rowLength)
        var sum = [Float](repeating: 0, count: rowLength)
        let out = [UInt8](unsafeUninitializedCapacity: rowLength * dh) { dst, initialized in
            pixels.withUnsafeBufferPointer { src in
                xtaps.withUnsafeBufferPointer { xtaps in
                    buffer.withUnsafeMutableBufferPointer { bufferPointer in
                        sum.withUnsafeMutableBufferPointer { sumPointer in
                            guard let s = src.baseAddress, let d = dst.baseAddress,
                                  let buf = bufferPointer.baseAddress, let acc = sumPointer.baseAddress else { return }
                            func flush(_ dy: Int) {
                                let line = d + dy * rowLength
                                for x in 0..<rowLength { line[x] = UInt8(clamping: roundHalfEven(acc[x])) }
                            }
                            // Horizontal pass of one source row, specialised per channel count. Taps are
                            // sorted by output pixel, so each output sums its run in registers (in
                            // the same order as OpenCV) and is stored once.
                            @inline(__always) func horizontal(_ row: UnsafePointer<UInt8>, _ channels: Int) {
                                guard let taps = xtaps.baseAddress else { return }
                                var k = 0
                                for d in 0..<dw {
                                    var sums: (Float, Float, Float, Float) = (0, 0, 0, 0)
                                    while k < xtaps.count && taps[k].dst == d {
                                        let i = taps[k].src &* channels, weight = taps[k].weight
                                        sums.0 += Float(row[i]) * weight
                                        if channels > 1 {
                                            sums.1 += Float(row[i + 1]) * weight
                                            sums.2 += Float(row[i + 2]) * weight
                                        }
                                        if channels > 3 { sums.3 += Float(row[i + 3]) * weight }
                                        k += 1
                                    }
                                    let o = d &* channels
                                    buf[o] = sums.0
                                    if channels > 1 { buf[o + 1] = sums.1; buf[o + 2] = sums.2 }
                                    if channels > 3 { buf[o + 3] = sums.3 }
                                }
                            }
                            var previous = ytaps.first?.dst ?? 0
                            for ytap in ytaps {
                                let row = s + ytap.src * srcStride
                                switch cn {
                                case 1: horizontal(row, 1)
                                case 3: horizontal(row, 3)
                                default: horizontal(row, 4)
                                }
                                let beta = ytap.weight
                                if ytap.dst != previous {
                                    flush(previous)
                                    for x in 0..<rowLength { acc[x] = beta * buf[x] }
                                    previous = ytap.dst
                                } else {
                                    for x in 0..<rowLength { acc[x] += beta * buf[x] }
                                }
                            }
                            flush(previous)
                        }
                    }
                }
            }
            initialized = rowLength * dh
        }
        return Image(width: dw, height: dh, channels: cn, pixels: out)
    }
}

/// Round half to even for |v| < 2²², as OpenCV's `cvRound`, without a libm call or a trapping
/// conversion: adding 1.5·2²³ makes the FPU round at the units digit in its default mode, and the
/// integer (offset by 2²²) is then the low 23 bits of the representation.
@inline(__always)
func roundHalfEven(_ v: Float) -> Int32 {
    let magic: Float = 12_582_912
    return Int32(bitPattern: (v + magic).bitPattern & 0x7F_FFFF) &- 0x40_0000
}
