// Canny edge detector, defined as OpenCV's cv2.Canny(gray, low, high, apertureSize=3, L2gradient=False).

extension Image {
    /// Edge map (1 channel, 0 or 255) of ``grayscale()``, as
    /// `cv2.Canny(gray, low, high, apertureSize=3, L2gradient=False)`:
    /// 1. dx, dy: 3×3 Sobel with BORDER_REPLICATE (what cv2.Canny uses), magnitude `m = |dx| + |dy|`;
    /// 2. non-maximum suppression in 4 sectors with OpenCV's integer tangent test
    ///    (`tan 22.5° ≈ 13573 / 2¹⁵`): horizontal keeps `m > left && m ≥ right`, vertical
    ///    `m > up && m ≥ down`, diagonals `m >` both neighbours along the gradient;
    ///    pixels outside the image count as magnitude 0;
    /// 3. double threshold on `floor(low)`, `floor(high)` (swapped if low > high): a surviving pixel is
    ///    strong when `m > high`, weak when `m > low`;
    /// 4. hysteresis: weak pixels 8-connected to a strong one become edges.
    ///
    /// Thresholds are clamped to −1…10⁹ (NaN counts as 10⁹: no edges).
    public func canny(low: Double, high: Double) -> Image {
        let gray = grayscale()
        let w = gray.width, h = gray.height
        if gray.isEmpty { return gray }
        var lowInt = Int32(clamping: Int(max(-1, min(1e9, low)).rounded(.down)))
        var highInt = Int32(clamping: Int(max(-1, min(1e9, high)).rounded(.down)))
        if lowInt > highInt { swap(&lowInt, &highInt) }

        let (dx, dy) = gray.sobelDerivatives(border: .replicate)
        // Magnitude and map with a one-pixel frame: magnitude 0 and "not an edge" there.
        let pw = w + 2
        var magnitude = [Int32](repeating: 0, count: pw * (h + 2))
        // Map states: 0 = candidate (weak), 1 = not an edge, 2 = edge.
        var map = [UInt8](repeating: 1, count: pw * (h + 2))
        var stack = [Int32]()
        let tg22: Int32 = 13573 // Int((sqrt(2) - 1) * 2^15 + 0.5)
        let shift: Int32 = 15

        dx.withUnsafeBufferPointer { gxBuffer in
            dy.withUnsafeBufferPointer { gyBuffer in
                guard let gx = gxBuffer.baseAddress, let gy = gyBuffer.baseAddress else { return }
                magnitude.withUnsafeMutableBufferPointer { magBuffer in
                    guard let mag = magBuffer.baseAddress else { return }
                    for y in 0..<h {
                        let row = mag + (y + 1) * pw + 1, sx = gx + y * w, sy = gy + y * w
                        for x in 0..<w { row[x] = abs(Int32(sx[x])) &+ abs(Int32(sy[x])) }
                    }
                }
                magnitude.withUnsafeBufferPointer { magBuffer in
                    map.withUnsafeMutableBufferPointer { edgeBuffer in
                        guard let mag = magBuffer.baseAddress, let edges = edgeBuffer.baseAddress else { return }
                        for y in 0..<h {
                            let rowStart = (y + 1) * pw + 1, sx = gx + y * w, sy = gy + y * w
                            for x in 0..<w {
                                let p = rowStart &+ x
                                let m = mag[p]
                                guard m > lowInt else { continue }
                                let xs = Int32(sx[x]), ys = Int32(sy[x])
                                let ax = abs(xs), ay = abs(ys) &<< shift
                                let tg22x = ax &* tg22
                                let isMaximum: Bool
                                if ay < tg22x {
                                    isMaximum = m > mag[p &- 1] && m >= mag[p &+ 1]
                                } else {
                                    let tg67x = tg22x &+ (ax &<< (shift + 1))
                                    if ay > tg67x {
                                        isMaximum = m > mag[p &- pw] && m >= mag[p &+ pw]
                                    } else {
                                        let s = (xs ^ ys) < 0 ? -1 : 1
                                        isMaximum = m > mag[p &- pw &- s] && m > mag[p &+ pw &+ s]
                                    }
                                }
                                guard isMaximum else { continue }
                                if m > highInt {
                                    edges[p] = 2
                                    stack.append(Int32(p))
                                } else {
                                    edges[p] = 0
                                }
                            }
                        }
                        // Hysteresis: grow edges into 8-connected candidates (the frame is "not an
                        // edge", so neighbours never leave the buffer).
                        let neighbours = [-pw - 1, -pw, -pw + 1, -1, 1, pw - 1, pw, pw + 1]
                        while let top = stack.popLast() {
                            let p = Int(top)
                            for offset in neighbours where edges[p &+ offset] == 0 {
                                edges[p &+ offset] = 2
                                stack.append(Int32(p &+ offset))
                            }
                        }
                    }
                }
            }
        }
        let out = [UInt8](unsafeUninitializedCapacity: w * h) { dst, initialized in
            map.withUnsafeBufferPointer { edgeBuffer in
                guard let edges = edgeBuffer.baseAddress, let d = dst.baseAddress else { return }
                for y in 0..<h {
                    let source = edges + (y + 1) * pw + 1, line = d + y * w
                    for x in 0..<w { line[x] = source[x] == 2 ? 255 : 0 }
                }
            }
            initialized = w * h
        }
        return Image(width: w, height: h, channels: 1, pixels: out)
    }
}
