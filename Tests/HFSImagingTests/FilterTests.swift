import Testing
@testable import HFSImaging

/// Hand-computed small cases for every filter hook.
@Suite struct FilterTests {
    func gray(_ rows: [[UInt8]]) -> Image {
        Image(width: rows[0].count, height: rows.count, channels: 1, pixels: rows.flatMap { $0 })
    }

    @Test func grayscaleUsesOpenCVFixedPointWeights() {
        let image = Image(width: 5, height: 1, channels: 3,
                          pixels: [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255, 10, 20, 30])
        // (R·9798 + G·19235 + B·3735 + 16384) >> 15: 76.24, 149.69, 29.06, 255, 17.3
        let mixed: Int = (10 * 9798 + 20 * 19235 + 30 * 3735 + 16384) >> 15
        let expected: [UInt8] = [76, 150, 29, 255, UInt8(mixed)]
        #expect(image.grayscale().pixels == expected)
        #expect(image.grayscale().channels == 1)
        let rgba = Image(width: 1, height: 1, channels: 4, pixels: [0, 255, 0, 7])
        #expect(rgba.grayscale().pixels == [150])
        let already = gray([[1, 2, 3]])
        #expect(already.grayscale() == already)
    }

    /// The vectorised Float evaluation must equal the integer formula (all R, G; every 5th B, plus
    /// the values next to the rounding ties are covered by the R·G plane).
    @Test func grayscaleEqualsIntegerFormula() {
        var pixels = [UInt8]()
        pixels.reserveCapacity(256 * 256 * 3)
        for b in stride(from: 0, through: 255, by: 5) {
            pixels.removeAll(keepingCapacity: true)
            for r in 0..<256 { for g in 0..<256 { pixels += [UInt8(r), UInt8(g), UInt8(b)] } }
            let gray = Image(width: 256, height: 256, channels: 3, pixels: pixels).grayscale()
            var mismatches = 0
            for i in 0..<(256 * 256) {
                let expected = (Int(pixels[i * 3]) * 9798 + Int(pixels[i * 3 + 1]) * 19235 + Int(pixels[i * 3 + 2]) * 3735 + 16384) >> 15
                if Int(gray.pixels[i]) != expected { mismatches += 1 }
            }
            #expect(mismatches == 0, "blue \(b)")
        }
    }

    @Test func thresholdIsStrictlyGreaterThanFlooredValue() {
        let image = gray([[0, 100, 101, 255]])
        #expect(image.threshold(value: 100).pixels == [0, 0, 255, 255])
        #expect(image.threshold(value: 100.7).pixels == [0, 0, 255, 255])
        #expect(image.threshold(value: -1).pixels == [255, 255, 255, 255])
        #expect(image.threshold(value: 255).pixels == [0, 0, 0, 0])
        #expect(image.threshold(.fixed(99.5)).pixels == [0, 255, 255, 255])
        #expect(image.threshold(value: .nan).pixels == [0, 0, 0, 0])
        #expect(image.threshold(value: .infinity).pixels == [0, 0, 0, 0])
        #expect(image.threshold(value: -.infinity).pixels == [255, 255, 255, 255])
    }

    @Test func otsuSplitsTwoClusters() {
        let image = gray([[10, 10, 10, 200, 200, 10, 200, 10]])
        // Every level in 10..<200 separates the clusters equally well; OpenCV keeps the first.
        #expect(image.otsuLevel() == 10)
        #expect(image.threshold(.otsu).pixels == [0, 0, 0, 255, 255, 0, 255, 0])
        let three = gray([[0, 0, 0, 0, 100, 100, 250, 250]])
        let level = three.otsuLevel()
        #expect(level >= 0 && level < 250)
    }

    @Test func cropCopiesTheRegionAndChecksBounds() throws {
        let image = gray([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]])
        #expect(try image.crop(x: 1, y: 1, width: 2, height: 2).pixels == [5, 6, 9, 10])
        #expect(try image.crop(x: 0, y: 0, width: 4, height: 3) == image)
        #expect(throws: ImagingError.self) { try image.crop(x: 3, y: 0, width: 2, height: 1) }
        #expect(throws: ImagingError.self) { try image.crop(x: -1, y: 0, width: 1, height: 1) }
        #expect(throws: ImagingError.self) { try image.crop(x: 0, y: 0, width: 0, height: 1) }
        #expect(throws: ImagingError.self) { try image.crop(x: Int.max, y: 0, width: Int.max, height: 1) }
        let rgb = Image(width: 2, height: 1, channels: 3, pixels: [1, 2, 3, 4, 5, 6])
        #expect(try rgb.crop(x: 1, y: 0, width: 1, height: 1).pixels == [4, 5, 6])
    }

    @Test func flipAndRotate() {
        let image = gray([[1, 2, 3], [4, 5, 6]])
        #expect(image.flip(.horizontal) == gray([[3, 2, 1], [6, 5, 4]]))
        #expect(image.flip(.vertical) == gray([[4, 5, 6], [1, 2, 3]]))
        #expect(image.rotate90() == gray([[4, 1], [5, 2], [6, 3]]))
        #expect(image.rotate90(times: 2) == gray([[6, 5, 4], [3, 2, 1]]))
        #expect(image.rotate90(times: 3) == gray([[3, 6], [2, 5], [1, 4]]))
        #expect(image.rotate90(times: -1) == image.rotate90(times: 3))
        #expect(image.rotate90(times: 4) == image)
        let rgb = Image(width: 2, height: 1, channels: 3, pixels: [1, 2, 3, 4, 5, 6])
        #expect(rgb.rotate90().pixels == [1, 2, 3, 4, 5, 6])
        #expect(rgb.rotate90().width == 1 && rgb.rotate90().height == 2)
        #expect(rgb.flip(.horizontal).pixels == [4, 5, 6, 1, 2, 3])
    }

    @Test func bilinearMatchesHandComputedFixedPoint() throws {
        // Source x for output d: (d + 0.5)·0.5 − 0.5 → −0.25 (clamped), 0.25, 0.75, 1.25 (clamped).
        let up = try gray([[0, 255]]).resize(width: 4, height: 1)
        #expect(up.pixels == [0, 64, 191, 255])
        // Exact halving is the 2×2 mean, (sum + 2) >> 2.
        let half = try gray([[0, 1, 10, 20], [2, 3, 30, 41]]).resize(width: 2, height: 1)
        #expect(half.pixels == [2, 25])
        let same = gray([[1, 2]])
        #expect(try same.resize(width: 2, height: 1) == same)
        #expect(throws: ImagingError.self) { try same.resize(width: 0, height: 1) }
        #expect(throws: ImagingError.tooLarge(width: 1 << 20, height: 1 << 20, limit: Imaging.pixelLimit)) {
            try same.resize(width: 1 << 20, height: 1 << 20)
        }
    }

    @Test func areaAveragesFootprints() throws {
        // 3 → 2: outputs cover [0, 1.5) and [1.5, 3): 0·2/3 + 90·1/3 = 30 and 90·1/3 + 180·2/3 = 150.
        #expect(try gray([[0, 90, 180]]).resize(width: 2, height: 1, interpolation: .area).pixels == [30, 150])
        // Integer factor 3: plain mean, rounded half to even.
        #expect(try gray([[1, 2, 4, 9, 9, 9]]).resize(width: 2, height: 1, interpolation: .area).pixels == [2, 9])
        let constant = Image(width: 37, height: 23, channels: 3, filledWith: 77)
        let shrunk = try constant.resize(width: 10, height: 7, interpolation: .area)
        #expect(shrunk.pixels.allSatisfy { $0 == 77 })
        let grown = try constant.resize(width: 50, height: 31, interpolation: .area)
        #expect(grown.pixels.allSatisfy { $0 == 77 })
    }

    @Test func thumbnailKeepsAspectAndNeverUpscales() {
        #expect(Image.thumbnailSize(width: 1024, height: 768, maxSide: 128) == (128, 96))
        #expect(Image.thumbnailSize(width: 768, height: 1024, maxSide: 128) == (96, 128))
        #expect(Image.thumbnailSize(width: 100, height: 50, maxSide: 200) == (100, 50))
        #expect(Image.thumbnailSize(width: 1000, height: 3, maxSide: 100) == (100, 1))
        let image = Image(width: 300, height: 200, channels: 3, filledWith: 9)
        let thumb = image.thumbnail(maxSide: 60)
        #expect(thumb.width == 60 && thumb.height == 40)
        #expect(image.thumbnail(maxSide: 1000) == image)
    }

    @Test func gaussianImpulseAndConstant() throws {
        var impulse = Image(width: 5, height: 5, channels: 1)
        impulse[2, 2] = 255
        // ksize 3, sigma ≤ 0: OpenCV's fixed [1/4, 1/2, 1/4] = [64, 128, 64] / 256.
        let blurred = try impulse.gaussianBlur(sigma: 0, kernelSize: 3)
        let expected: [UInt8] = [0, 0, 0, 0, 0,
                                 0, 16, 32, 16, 0,
                                 0, 32, 64, 32, 0,
                                 0, 16, 32, 16, 0,
                                 0, 0, 0, 0, 0]
        #expect(blurred.pixels == expected)
        let constant = Image(width: 9, height: 4, channels: 3, filledWith: 201)
        #expect(try constant.gaussianBlur(sigma: 3) == constant)
        let kernel = try Image.gaussianKernel(sigma: 1)
        #expect(kernel.count == 7)
        #expect(abs(kernel.reduce(0, +) - 1) < 1e-12)
        #expect(kernel[0] == kernel[6] && kernel[2] == kernel[4])
        #expect(try Image.gaussianKernelFixed(sigma: 1, kernelSize: 0).reduce(0) { $0 + Int($1) } == 256)
        #expect(throws: ImagingError.self) { try constant.gaussianBlur(sigma: 1, kernelSize: 4) }
        #expect(throws: ImagingError.self) { try constant.gaussianBlur(sigma: 0, kernelSize: 0) }
        #expect(throws: ImagingError.self) { try constant.gaussianBlur(sigma: .nan) }
        #expect(throws: ImagingError.self) { try constant.gaussianBlur(sigma: 1e9) }
        // Reflect-101 border on a 1-pixel image, big kernel: unchanged.
        let dot = gray([[77]])
        #expect(try dot.gaussianBlur(sigma: 5) == dot)
    }

    @Test func sobelOnStepAndRamp() {
        let step = gray([[0, 0, 255, 255], [0, 0, 255, 255], [0, 0, 255, 255]])
        // Reflect-101 makes the border columns symmetric, so their dx is 0.
        #expect(step.sobel().pixels == [0, 255, 255, 0, 0, 255, 255, 0, 0, 255, 255, 0])
        let ramp = gray([[0, 10, 20, 30], [0, 10, 20, 30]])
        #expect(ramp.sobel().pixels == [0, 80, 80, 0, 0, 80, 80, 0])
        let (dx, dy) = ramp.sobelDerivatives(border: .replicate)
        #expect(dx == [40, 80, 80, 40, 40, 80, 80, 40])
        #expect(dy.allSatisfy { $0 == 0 })
    }

    @Test func cannyThinsAStepToOneColumn() {
        let step = Image(width: 10, height: 6, channels: 1) { x, _, _ in x < 5 ? 0 : 200 }
        // |dx| = 800 at columns 4 and 5; non-maximum suppression keeps the left one (m > left, m ≥ right).
        let edges = step.canny(low: 50, high: 100)
        let expected = Image(width: 10, height: 6, channels: 1) { x, _, _ in x == 4 ? 255 : 0 }
        #expect(edges == expected)
        // Weak-only edges (|dx| = 80 between low and high) are dropped; lowering high keeps them.
        let faint = Image(width: 10, height: 6, channels: 1) { x, _, _ in x < 5 ? 0 : 20 }
        #expect(faint.canny(low: 50, high: 100).pixels.allSatisfy { $0 == 0 })
        #expect(faint.canny(low: 50, high: 70) == expected)
        // Swapped thresholds behave like OpenCV (swapped back); absurd values do not trap.
        #expect(step.canny(low: 100, high: 50) == expected)
        #expect(step.canny(low: .nan, high: .nan).pixels.allSatisfy { $0 == 0 })
        #expect(step.canny(low: -.infinity, high: .infinity).pixels.allSatisfy { $0 == 0 })
    }

    @Test func cannyHysteresisFollowsWeakPixelsConnectedToStrongOnes() {
        // A vertical step whose contrast fades slowly from top to bottom (the vertical change alone,
        // |dy| = 40, stays under `low`).
        let image = Image(width: 12, height: 8, channels: 1) { x, y, _ in
            x < 6 ? 0 : UInt8(250 - y * 5)
        }
        // Along the edge (column 6 wins the suppression) m = 4·v + 30 = 1010 … 890: with high 960
        // rows 0–3 are strong, rows 4–7 weak and reached only through hysteresis.
        let edges = image.canny(low: 100, high: 960)
        for y in 0..<8 {
            let row = (0..<12).filter { edges[$0, y] == 255 }
            #expect(row == [6], "row \(y): edges at \(row)")
        }
        let none = image.canny(low: 100, high: 5000)
        #expect(none.pixels.allSatisfy { $0 == 0 })
    }

    @Test func filtersHandleTinyImages() throws {
        let one = Image(width: 1, height: 1, channels: 3, pixels: [10, 20, 30])
        #expect(one.sobel().pixels == [0])
        #expect(one.canny(low: 10, high: 20).pixels == [0])
        #expect(try one.gaussianBlur(sigma: 2) == one)
        #expect(try one.resize(width: 3, height: 2).pixels == Array([[UInt8]](repeating: [10, 20, 30], count: 6).joined()))
        #expect(try one.resize(width: 3, height: 2, interpolation: .area).width == 3)
        let line = Image(width: 7, height: 1, channels: 1, filledWith: 5)
        #expect(line.sobel().pixels.allSatisfy { $0 == 0 })
        #expect(line.thumbnail(maxSide: 2).width == 2)
    }

    /// Random sizes, channel counts and parameters: results have the promised shape, nothing traps.
    @Test func randomParametersNeverTrap() throws {
        var rng = SeededGenerator(seed: 2024)
        for _ in 0..<150 {
            let w = Int.random(in: 1...40, using: &rng), h = Int.random(in: 1...40, using: &rng)
            let cn = [1, 3, 4].randomElement(using: &rng)!
            let image = Synthetic.noise(width: w, height: h, channels: cn, seed: rng.next())
            let dw = Int.random(in: 1...60, using: &rng), dh = Int.random(in: 1...60, using: &rng)
            for interpolation in Image.Interpolation.allCases {
                let resized = try image.resize(width: dw, height: dh, interpolation: interpolation)
                #expect(resized.width == dw && resized.height == dh && resized.channels == cn)
                #expect(resized.pixels.count == dw * dh * cn)
            }
            let sigma = Double.random(in: -1...12, using: &rng)
            let size = [0, 1, 3, 5, 7, 9, 15, 31].randomElement(using: &rng)!
            if let blurred = try? image.gaussianBlur(sigma: sigma, kernelSize: size) {
                #expect(blurred.width == w && blurred.height == h && blurred.channels == cn)
            } else {
                #expect(sigma <= 0 && size == 0)
            }
            let low = Double.random(in: -10...600, using: &rng), high = Double.random(in: -10...600, using: &rng)
            #expect(image.canny(low: low, high: high).pixels.allSatisfy { $0 == 0 || $0 == 255 })
            #expect(image.sobel().channels == 1)
            #expect(image.threshold(.otsu).pixels.allSatisfy { $0 == 0 || $0 == 255 })
            let x = Int.random(in: -2...w, using: &rng), y = Int.random(in: -2...h, using: &rng)
            let cw = Int.random(in: -1...w, using: &rng), ch = Int.random(in: -1...h, using: &rng)
            if let cropped = try? image.crop(x: x, y: y, width: cw, height: ch) {
                #expect(cropped.pixels.count == cw * ch * cn)
            } else {
                #expect(x < 0 || y < 0 || cw <= 0 || ch <= 0 || x + cw > w || y + ch > h)
            }
            let turned = image.rotate90(times: Int.random(in: -5...5, using: &rng))
            #expect(turned.pixels.count == image.pixels.count)
            #expect(image.thumbnail(maxSide: Int.random(in: 1...50, using: &rng)).pixels.count > 0)
        }
    }
}
