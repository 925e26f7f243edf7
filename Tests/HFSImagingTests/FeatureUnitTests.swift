import Foundation
import Testing
@testable import HFSImaging

@Suite struct StatsTests {
    @Test func grayMeanAndPopulationStd() {
        let s = stats(Image(width: 2, height: 2, channels: 1, pixels: [0, 2, 4, 6]))
        #expect(s.width == 2 && s.height == 2 && s.channels == 1)
        #expect(s.mean == [3])
        #expect(abs(s.std[0] - 5.0.squareRoot()) < 1e-12)   // ((9+1+1+9)/4) = 5
    }

    @Test func rgbChannelsSeparately() {
        let s = stats(Image(width: 2, height: 1, channels: 3, pixels: [10, 0, 255, 20, 0, 255]))
        #expect(s.mean == [15, 0, 255])
        #expect(s.std == [5, 0, 0])
    }

    @Test func emptyImageIsZero() {
        let s = stats(Image(width: 0, height: 3, channels: 4, pixels: []))
        #expect(s.mean == [0, 0, 0, 0] && s.std == [0, 0, 0, 0])
    }
}

@Suite struct HistogramTests {
    @Test func binEdges() throws {
        let h = try histogram(Image(width: 6, height: 1, channels: 1, pixels: [0, 63, 64, 127, 128, 255]), bins: 4)
        #expect(h.counts == [2, 2, 1, 1])
        let h3 = try histogram(Image(width: 3, height: 1, channels: 1, pixels: [85, 86, 171]), bins: 3)
        #expect(h3.counts == [1, 1, 1])   // 85*3/256 = 0, 86*3/256 = 1, 171*3/256 = 2
    }

    @Test func perChannelLayout() throws {
        let h = try histogram(Image(width: 2, height: 1, channels: 3, pixels: [0, 255, 128, 255, 255, 0]), bins: 2)
        #expect(Array(h.counts(channel: 0)) == [1, 1])
        #expect(Array(h.counts(channel: 1)) == [0, 2])
        #expect(Array(h.counts(channel: 2)) == [1, 1])
        let full = try histogram(Image(width: 1, height: 1, channels: 1, pixels: [200]), bins: 256)
        #expect(full.counts[200] == 1 && full.counts.reduce(0, +) == 1)
    }

    @Test func rejectsBadBins() {
        let image = Image(width: 1, height: 1, channels: 1, pixels: [0])
        #expect(throws: FeatureError.self) { try histogram(image, bins: 0) }
        #expect(throws: FeatureError.self) { try histogram(image, bins: 257) }
    }
}

@Suite struct EdgeDensityTests {
    @Test func fractionOfNonzero() {
        #expect(edgeDensity(edges: Image(width: 4, height: 1, channels: 1, pixels: [0, 255, 0, 255])) == 0.5)
        #expect(edgeDensity(edges: Image(width: 2, height: 1, channels: 3, pixels: [0, 0, 0, 0, 255, 0])) == 0.5)
        #expect(edgeDensity(edges: Image(width: 0, height: 0, channels: 1, pixels: [])) == 0)
    }
}

@Suite struct PillowResampleTests {
    @Test func lanczosCoefficientsMatchHandComputation() {
        // 4 → 2: scale 2, support 6, centre of output 0 at 1.0, inputs 0..<4 (xmax clamps at 4).
        let c = PillowResample.coefficients(inSize: 4, outSize: 2, filter: .lanczos)
        #expect(c.taps == 13 && c.start == [0, 0] && c.count == [4, 4])
        func lanczos(_ x: Double) -> Double {
            func sinc(_ x: Double) -> Double { x == 0 ? 1 : sin(.pi * x) / (.pi * x) }
            return sinc(x) * sinc(x / 3)
        }
        let raw = (0..<4).map { lanczos((Double($0) - 1 + 0.5) / 2) }
        let total = raw.reduce(0, +)
        let expected = raw.map { Int32(($0 / total * 4194304).rounded(.toNearestOrAwayFromZero)) }
        #expect(Array(c.weights[0..<4]) == expected)
        #expect(c.weights[0..<4].reduce(0, +) - 4194304 <= 2)
    }

    @Test func constantImageStaysConstant() {
        let image = Image(width: 37, height: 23, channels: 3, pixels: [UInt8](repeating: 77, count: 37 * 23 * 3))
        let small = PillowResample.resize(image, width: 5, height: 9)
        #expect(small.width == 5 && small.height == 9 && small.channels == 3)
        #expect(small.pixels.allSatisfy { $0 == 77 })
        let big = PillowResample.resize(image, width: 80, height: 40)
        #expect(big.pixels.allSatisfy { $0 == 77 })
    }

    @Test func sameSizeIsCopyAndLumaMatchesPillowFormula() {
        let image = Image(width: 2, height: 1, channels: 3, pixels: [255, 0, 0, 10, 200, 30])
        #expect(PillowResample.resize(image, width: 2, height: 1) == image)
        let l = PillowResample.lumaResize(image, width: 2, height: 1)
        // (255*19595 + 0x8000) >> 16 = 76; (10*19595 + 200*38470 + 30*7471 + 0x8000) >> 16 = 124
        #expect(l.pixels == [76, 124])
    }
}

@Suite struct ImageHashTests {
    @Test func hexFormatting() {
        #expect(ImageHash64(bits: 0x0123_4567_89ab_cdef).hex == "0123456789abcdef")
        #expect(ImageHash64(bits: 0).hex == "0000000000000000")
        #expect(ImageHash64(hex: "ffffffffffffffff")?.bits == .max)
        #expect(ImageHash64(hex: "xyz") == nil)
        #expect(ImageHash64(bits: 0b1011).distance(to: ImageHash64(bits: 0b0001)) == 2)
    }

    /// An 8×8 image is not resized (Pillow copies same-size images), so ahash is exactly
    /// "pixel > mean" on it; dhash of a 9×8 left-to-right ramp is all ones.
    @Test func handComputedSmallCases() {
        var pixels = [UInt8](repeating: 10, count: 64)
        for i in 0..<8 { pixels[i] = 200 }          // first row bright: mean = (8*200 + 56*10)/64 = 33.75
        #expect(ahash(Image(width: 8, height: 8, channels: 1, pixels: pixels)).hex == "ff00000000000000")
        let ramp = (0..<8).flatMap { _ in (0..<9).map { UInt8($0 * 20) } }
        #expect(dhash(Image(width: 9, height: 8, channels: 1, pixels: ramp)).hex == "ffffffffffffffff")
        let reversed = (0..<8).flatMap { _ in (0..<9).map { UInt8(200 - $0 * 20) } }
        #expect(dhash(Image(width: 9, height: 8, channels: 1, pixels: reversed)).hex == "0000000000000000")
    }

    /// For a 32×32 input phash sees the pixels directly: a horizontal cosine of frequency 1 makes
    /// D[0][1] the largest coefficient, and the DCT table gives scipy's unnormalised DCT-II.
    @Test func phashDCTMatchesDefinition() {
        var pixels = [UInt8](repeating: 0, count: 1024)
        for i in 0..<32 { for j in 0..<32 { pixels[i * 32 + j] = UInt8(128 + 100 * cos(Double.pi * Double(2 * j + 1) / 64)) } }
        var d = [Double](repeating: 0, count: 64)
        PHashDCT.lowFrequencies(pixels, into: &d)
        var direct = 0.0   // D[0][1] by the definition: Σ_i Σ_j 2·2·cos(0)·cos(π(2j+1)/64)·x
        for i in 0..<32 { for j in 0..<32 { direct += 4 * cos(Double.pi * Double(2 * j + 1) / 64) * Double(pixels[i * 32 + j]) } }
        #expect(abs(d[1] - direct) < 1e-6)
        #expect(d[1] > 0 && d.dropFirst().allSatisfy { abs($0) <= d[1] })
        let h = phash(Image(width: 32, height: 32, channels: 1, pixels: pixels))
        #expect(h.bits >> 62 == 0b11)   // DC and D[0][1] are above the median
    }
}

@Suite struct HOGTests {
    @Test func defaultLayout() {
        let p = HOGParameters()
        #expect(p.blocksX == 7 && p.blocksY == 15 && p.blockLength == 36 && p.windowLength == 3780)
        #expect(p.blockSigma == 4)
    }

    @Test func fastAtanIsCloseToAtan2() {
        for (y, x) in [(0.0, 1.0), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1), (-1, 0), (-1, 1), (0.3, 2)] as [(Double, Double)] {
            var expected = atan2(y, x)
            if expected < 0 { expected += 2 * .pi }
            #expect(abs(Double(HOGGradients.fastAtan(y: Float(y), x: Float(x))) - expected) < 2e-4)
        }
        #expect(HOGGradients.fastAtan(y: 0, x: 0) == 0)
    }

    @Test func reflect101Borders() {
        #expect(HOGGradients.reflect101(-1, 5) == 1 && HOGGradients.reflect101(5, 5) == 3 && HOGGradients.reflect101(2, 5) == 2 && HOGGradients.reflect101(-1, 1) == 0)
    }

    /// A flat image has no gradient: every block is all zeros after normalisation.
    @Test func flatImageGivesZeros() throws {
        let d = try hog(Image(width: 64, height: 128, channels: 1, pixels: [UInt8](repeating: 90, count: 64 * 128)))
        #expect(d.count == 3780 && d.allSatisfy { $0 == 0 })
    }

    /// A vertical step edge has horizontal gradients only (angle 0): votes go half to bin 0 and half
    /// to bin 8 (a = 0·9/π − 0.5 = −0.5 → bins −1≡8 and 0, shares 0.5/0.5), and each normalised
    /// block is symmetric in those two bins.
    @Test func verticalEdgeVotesBins0And8() throws {
        var pixels = [UInt8](repeating: 0, count: 64 * 128)
        for y in 0..<128 { for x in 32..<64 { pixels[y * 64 + x] = 255 } }
        let d = try hog(Image(width: 64, height: 128, channels: 1, pixels: pixels))
        #expect(d.count == 3780)
        for cell in stride(from: 0, to: 3780, by: 9) {
            #expect(abs(d[cell] - d[cell + 8]) < 1e-6)
            #expect(d[(cell + 1)..<(cell + 8)].allSatisfy { $0 == 0 })
        }
        #expect(d.contains { $0 > 0.1 })
    }

    @Test func windowsAndErrors() throws {
        let image = Image(width: 80, height: 144, channels: 3, pixels: (0..<(80 * 144 * 3)).map { UInt8(truncatingIfNeeded: $0 &* 2654435761 >> 7) })
        let all = try hog(image)
        #expect(all.count == 3 * 3 * 3780)
        var p = HOGParameters()
        p.windowStrideX = 16; p.windowStrideY = 16
        let coarse = try hog(image, parameters: p)
        #expect(coarse.count == 2 * 2 * 3780)
        // window (1, 1) at stride 16 is window (2, 2) at stride 8
        #expect(Array(coarse[(3 * 3780)..<(4 * 3780)]) == Array(all[(8 * 3780)..<(9 * 3780)]))
        #expect(throws: FeatureError.self) { try hog(Image(width: 63, height: 128, channels: 1, pixels: [UInt8](repeating: 0, count: 63 * 128))) }
        // Every window of a large image would be more values than a result may hold (2048x2048:
        // 249 x 241 windows of 3780 values): refused before any work.
        let large = Image(width: 2048, height: 2048, channels: 1, pixels: [UInt8](repeating: 7, count: 2048 * 2048))
        #expect(throws: FeatureError.self) { try hog(large) }
        p.windowStrideX = 12
        #expect(throws: FeatureError.self) { try hog(image, parameters: p) }
        #expect(try hogWindow(image).count == 3780)
    }
}

@Suite struct PillowPassOrderTests {
    /// Pillow 13 goes vertical first iff the height shrinks by more than twice the width's shrink
    /// (found by comparing both orders with Pillow on random images: 50x100→30x59 is vertical
    /// first, 30x60 horizontal first; 5x7→32x32 is horizontal first).
    @Test func verticalFirstRule() {
        #expect(PillowResample.verticalFirst(inWidth: 50, inHeight: 100, outWidth: 30, outHeight: 59))
        #expect(!PillowResample.verticalFirst(inWidth: 50, inHeight: 100, outWidth: 30, outHeight: 60))
        #expect(PillowResample.verticalFirst(inWidth: 64, inHeight: 128, outWidth: 32, outHeight: 32))
        #expect(!PillowResample.verticalFirst(inWidth: 160, inHeight: 256, outWidth: 32, outHeight: 32))
        #expect(!PillowResample.verticalFirst(inWidth: 5, inHeight: 7, outWidth: 32, outHeight: 32))
        #expect(PillowResample.verticalFirst(inWidth: 10, inHeight: 40, outWidth: 20, outHeight: 20))
    }

    /// Channels are independent: resizing RGB equals resizing each channel as a gray image, in
    /// both pass orders.
    @Test func rgbEqualsPerChannel() {
        var seed: UInt32 = 7
        let (w, h) = (37, 90)
        let rgb = (0..<(w * h * 3)).map { _ -> UInt8 in seed = seed &* 1103515245 &+ 12345; return UInt8(truncatingIfNeeded: seed >> 16) }
        let image = Image(width: w, height: h, channels: 3, pixels: rgb)
        for (ow, oh) in [(32, 32), (20, 70), (50, 11)] {
            let out = PillowResample.resize(image, width: ow, height: oh)
            for c in 0..<3 {
                let plane = Image(width: w, height: h, channels: 1, pixels: (0..<(w * h)).map { rgb[$0 * 3 + c] })
                let gray = PillowResample.resize(plane, width: ow, height: oh)
                #expect(gray.pixels == (0..<(ow * oh)).map { out.pixels[$0 * 3 + c] }, "\(ow)x\(oh) channel \(c)")
            }
        }
    }
}

@Suite struct HOGColourTests {
    /// Equal magnitudes in two channels with different directions: OpenCV's vector loop keeps B
    /// (BGR channel 0) for the first width − width%4 columns, its scalar tail keeps R.
    @Test func tieBreakFollowsOpenCV() throws {
        // R = 2x, B = 2y: on the diagonal x == y, |∇R| = |∇B| (same values, same sqrt steps).
        let (w, h) = (66, 128)
        var pixels = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h { for x in 0..<w {
            pixels[(y * w + x) * 3] = UInt8(x * 2)
            pixels[(y * w + x) * 3 + 2] = UInt8(y * 2 % 256)
        } }
        let g = HOGGradients(Image(width: w, height: h, channels: 3, pixels: pixels), parameters: HOGParameters())
        // (10, 10), vector loop: B wins → vertical gradient → angle 90° → a = 4.0 → bins 4, 5.
        let inner = (10 * w + 10) * 2
        #expect(g.bins[inner] == 4 && g.bins[inner + 1] == 5)
        // (64, 64), scalar tail (66 % 4 = 2 columns): R wins → horizontal → bins 8, 0.
        let tail = (64 * w + 64) * 2
        #expect(g.bins[tail] == 8 && g.bins[tail + 1] == 0)
    }
}
