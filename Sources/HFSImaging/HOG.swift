import Foundation

/// Parameters of the HOG descriptor. The defaults are OpenCV's `cv2.HOGDescriptor()` (the
/// Dalal–Triggs people detector layout) and `compute(img)`'s default window stride:
/// window 64×128, block 16×16, block stride 8×8, cell 8×8, 9 bins of unsigned orientation
/// (0–180°), derivative aperture 1 (centred [-1 0 1] differences), Gaussian block weighting with
/// σ = (blockWidth + blockHeight) / 8, L2-Hys normalisation clipped at 0.2, gamma correction
/// (square root of pixel values), window stride 8×8, no padding.
public struct HOGParameters: Sendable, Equatable {
    public var windowWidth = 64
    public var windowHeight = 128
    public var blockWidth = 16
    public var blockHeight = 16
    public var blockStrideX = 8
    public var blockStrideY = 8
    public var cellWidth = 8
    public var cellHeight = 8
    public var bins = 9
    /// L2-Hys clipping threshold (OpenCV `L2HysThreshold`).
    public var l2HysThreshold: Float = 0.2
    /// Use sqrt(v) instead of v before differentiating (OpenCV `gammaCorrection`).
    public var gammaCorrection = true
    /// Window step of `hog(_:parameters:)` over the image; a multiple of the block stride.
    public var windowStrideX = 8
    public var windowStrideY = 8

    public init() {}

    /// σ of the Gaussian that weights pixels inside a block (OpenCV `winSigma` = -1 → this).
    public var blockSigma: Float { Float(blockWidth + blockHeight) / 8 }
    /// Values per block: cells per block × bins.
    public var blockLength: Int { (blockWidth / cellWidth) * (blockHeight / cellHeight) * bins }
    public var blocksX: Int { (windowWidth - blockWidth) / blockStrideX + 1 }
    public var blocksY: Int { (windowHeight - blockHeight) / blockStrideY + 1 }
    /// Values per window (3780 for the defaults).
    public var windowLength: Int { blocksX * blocksY * blockLength }

    func validate() throws(FeatureError) {
        func fail(_ m: String) -> FeatureError { FeatureError(hook: "hog", message: m) }
        let positive = [windowWidth, windowHeight, blockWidth, blockHeight, blockStrideX, blockStrideY,
                        cellWidth, cellHeight, bins, windowStrideX, windowStrideY]
        guard positive.allSatisfy({ $0 > 0 }) else { throw fail("all sizes and bins must be positive") }
        guard bins <= 255 else { throw fail("bins must be at most 255, got \(bins)") }
        guard blockWidth % cellWidth == 0, blockHeight % cellHeight == 0 else {
            throw fail("block \(blockWidth)x\(blockHeight) is not a whole number of cells \(cellWidth)x\(cellHeight)")
        }
        guard windowWidth >= blockWidth, windowHeight >= blockHeight,
              (windowWidth - blockWidth) % blockStrideX == 0, (windowHeight - blockHeight) % blockStrideY == 0 else {
            throw fail("blocks at stride \(blockStrideX)x\(blockStrideY) do not tile the window \(windowWidth)x\(windowHeight)")
        }
        guard windowStrideX % blockStrideX == 0, windowStrideY % blockStrideY == 0 else {
            throw fail("window stride \(windowStrideX)x\(windowStrideY) must be a multiple of the block stride")
        }
    }
}

/// The most values `hog(_:parameters:)` returns (16 MiB of floats): every window of an 8192×8192
/// image would be 3.9 billion.
public let hogValuesMax = 4 << 20

/// HOG descriptors of every window of `image`, like OpenCV's
/// `cv2.HOGDescriptor().compute(img, winStride=(parameters.windowStrideX, windowStrideY), padding=(0, 0))`
/// for an 8-bit gray or colour image (RGBA: alpha is ignored).
///
/// Windows are laid at `(i * windowStrideX, j * windowStrideY)` for every position that fits, in
/// row-major order; each contributes `parameters.windowLength` values (its blocks column by column,
/// x outer, y inner; in a block, its cells column by column, then the bins). Per pixel:
/// - dx = f(I[x+1]) − f(I[x−1]), dy = f(I[y+1]) − f(I[y−1]), f = sqrt with gamma correction;
///   borders reflect without repeating the edge (OpenCV BORDER_REFLECT_101). For colour, the channel
///   with the largest dx² + dy² wins; ties go as in OpenCV's x86/ARM build: B, then G, then R for
///   the first `width − width % 4` columns (its SIMD loop), R, then G, then B for the rest.
/// - magnitude √(dx² + dy²); angle from OpenCV's polynomial `fastAtan2` (≈0.01° accuracy), so that
///   bins match OpenCV's; unsigned: bin position a = angle · bins / π − 0.5, split linearly
///   between bins ⌊a⌋ and ⌊a⌋ + 1 (mod bins).
/// - Each block pixel votes magnitude × Gaussian(σ = blockSigma, centred at the block's
///   (width/2, height/2)) × bilinear weights into the (up to 4) cells around it.
/// - L2-Hys per block: v /= (‖v‖₂ + 0.1·blockLength); v = min(v, threshold); v /= (‖v‖₂ + 1e-3).
///
/// Throws if the image is smaller than the window or the parameters are inconsistent.
public func hog(_ image: Image, parameters: HOGParameters = HOGParameters()) throws(FeatureError) -> [Float] {
    try parameters.validate()
    guard image.width >= parameters.windowWidth, image.height >= parameters.windowHeight else {
        throw FeatureError(hook: "hog", message:
            "image \(image.width)x\(image.height) is smaller than the window \(parameters.windowWidth)x\(parameters.windowHeight)")
    }
    let windows = ((image.width - parameters.windowWidth) / parameters.windowStrideX + 1)
        * ((image.height - parameters.windowHeight) / parameters.windowStrideY + 1)
    guard windows <= hogValuesMax / parameters.windowLength else {
        throw FeatureError(hook: "hog", message: "image \(image.width)x\(image.height) has \(windows) windows of \(parameters.windowLength) "
            + "values, over the \(hogValuesMax) values a result may hold: use window=true, or a smaller image")
    }
    let gradients = HOGGradients(image, parameters: parameters)
    return HOGBlocks(gradients: gradients, parameters: parameters).windows()
}

/// The hook's default HOG: one fixed-length descriptor per image (3780 values with the default
/// parameters). The image (alpha dropped) is resized to the window size with Pillow's Lanczos
/// (`Image.resize((64, 128), LANCZOS)`, see `PillowResample`) unless it already has that size,
/// then described as a single window with `hog(_:parameters:)`.
public func hogWindow(_ image: Image, parameters: HOGParameters = HOGParameters()) throws(FeatureError) -> [Float] {
    try parameters.validate()
    guard image.width > 0, image.height > 0 else { throw FeatureError(hook: "hog", message: "empty image") }
    var source = image
    if source.channels == 4 { source = dropAlpha(source) }
    let window = PillowResample.resize(source, width: parameters.windowWidth, height: parameters.windowHeight)
    return try hog(window, parameters: parameters)
}

private func dropAlpha(_ image: Image) -> Image {
    let n = image.width * image.height
    var rgb = [UInt8](repeating: 0, count: n * 3)
    for i in 0..<n {
        rgb[i * 3] = image.pixels[i * 4]
        rgb[i * 3 + 1] = image.pixels[i * 4 + 1]
        rgb[i * 3 + 2] = image.pixels[i * 4 + 2]
    }
    return Image(width: image.width, height: image.height, channels: 3, pixels: rgb)
}

/// Per pixel: two orientation bins and the magnitude share voted into each.
struct HOGGradients {
    /// OpenCV's `fastAtan2` polynomial (degrees, then scaled to radians in Float), operation for
    /// operation, so that orientation bins fall where OpenCV's do.
    @inline(__always)
    static func fastAtan(y: Float, x: Float) -> Float {
        let degrees = Float(180 / Double.pi)
        let p1 = Float(0.9997878412794807) * degrees
        let p3 = Float(-0.3258083974640975) * degrees
        let p5 = Float(0.1555786518463281) * degrees
        let p7 = Float(-0.04432655554792128) * degrees
        let epsilon = Float(Double.ulpOfOne)
        let ax = abs(x), ay = abs(y)
        var a: Float
        if ax >= ay {
            let c = ay / (ax + epsilon)
            let c2 = c * c
            a = (((p7 * c2 + p5) * c2 + p3) * c2 + p1) * c
        } else {
            let c = ax / (ay + epsilon)
            let c2 = c * c
            a = 90 - (((p7 * c2 + p5) * c2 + p3) * c2 + p1) * c
        }
        if x < 0 { a = 180 - a }
        if y < 0 { a = 360 - a }
        return a * Float(Double.pi / 180)
    }

    /// OpenCV's BORDER_REFLECT_101 index (…, 2, 1 | 0, 1, 2, …, n−2, n−1 | n−2, …).
    @inline(__always)
    static func reflect101(_ i: Int, _ n: Int) -> Int {
        if n == 1 { return 0 }
        var i = i
        while i < 0 || i >= n {
            if i < 0 { i = -i } else { i = 2 * (n - 1) - i }
        }
        return i
    }

    let width: Int
    let height: Int
    /// `weights[2p]`, `weights[2p+1]`: magnitude × (1 − frac), magnitude × frac.
    var weights: [Float]
    /// `bins[2p]`, `bins[2p+1]`: the lower and upper orientation bin.
    var bins: [UInt8]

    init(_ image: Image, parameters: HOGParameters) {
        width = image.width
        height = image.height
        let count = width * height
        weights = [Float](repeating: 0, count: count * 2)
        bins = [UInt8](repeating: 0, count: count * 2)
        var lut = [Float](repeating: 0, count: 256)
        for v in 0..<256 { lut[v] = parameters.gammaCorrection ? Float(v).squareRoot() : Float(v) }
        let nbins = parameters.bins
        let angleScale = Float(Double(nbins) / Double.pi)
        let w = width, h = height, channels = image.channels
        let colour = channels >= 3
        let simdColumns = w - w % 4
        // Reflect-101 neighbour columns, precomputed once.
        var left = [Int](repeating: 0, count: w), right = [Int](repeating: 0, count: w)
        for x in 0..<w {
            left[x] = Self.reflect101(x - 1, w) * channels
            right[x] = Self.reflect101(x + 1, w) * channels
        }
        image.pixels.withUnsafeBufferPointer { pp in
            lut.withUnsafeBufferPointer { lp in
                weights.withUnsafeMutableBufferPointer { wp in
                    bins.withUnsafeMutableBufferPointer { bp in
                        let p = pp.baseAddress!, f = lp.baseAddress!
                        let outW = wp.baseAddress!, outB = bp.baseAddress!
                        let stride = w * channels
                        for y in 0..<h {
                            let row = p + y * stride
                            let prev = p + Self.reflect101(y - 1, h) * stride
                            let next = p + Self.reflect101(y + 1, h) * stride
                            for x in 0..<w {
                                let xl = left[x], xr = right[x], xc = x * channels
                                var dx = f[Int(row[xr])] - f[Int(row[xl])]
                                var dy = f[Int(next[xc])] - f[Int(prev[xc])]
                                if colour {
                                    // OpenCV's vector loop (columns below simdColumns) keeps B on ties,
                                    // then G; its scalar tail keeps R, then G.
                                    let first = x < simdColumns ? 2 : 0, last = 2 - first
                                    dx = f[Int(row[xr + first])] - f[Int(row[xl + first])]
                                    dy = f[Int(next[xc + first])] - f[Int(prev[xc + first])]
                                    var mag = dx * dx + dy * dy
                                    var c = 1   // then `last`
                                    for _ in 0..<2 {
                                        defer { c = last }
                                        let dxc = f[Int(row[xr + c])] - f[Int(row[xl + c])]
                                        let dyc = f[Int(next[xc + c])] - f[Int(prev[xc + c])]
                                        let magc = dxc * dxc + dyc * dyc
                                        if mag < magc { dx = dxc; dy = dyc; mag = magc }
                                    }
                                }
                                let magnitude = (dx * dx + dy * dy).squareRoot()
                                var angle = HOGGradients.fastAtan(y: dy, x: dx) * angleScale - 0.5
                                let lower = Int(angle.rounded(.down))
                                angle -= Float(lower)
                                let i = (y * w + x) * 2
                                outW[i] = magnitude * (1 - angle)
                                outW[i + 1] = magnitude * angle
                                var b0 = lower
                                if b0 < 0 { b0 += nbins } else if b0 >= nbins { b0 -= nbins }
                                var b1 = b0 + 1
                                if b1 >= nbins { b1 = 0 }
                                outB[i] = UInt8(b0)
                                outB[i + 1] = UInt8(b1)
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Normalised block histograms on the block-stride grid, computed on demand, and windows built
/// from them.
struct HOGBlocks {
    /// OpenCV's L2-Hys: scale by 1 / (‖v‖ + 0.1·n), clip at `threshold`, scale by 1 / (‖v‖ + 1e-3).
    @inline(__always)
    static func normalizeL2Hys(_ v: UnsafeMutablePointer<Float>, count: Int, threshold: Float) {
        var sum: Float = 0
        for i in 0..<count { sum += v[i] * v[i] }
        let scale = 1 / (sum.squareRoot() + Float(count) * 0.1)
        sum = 0
        for i in 0..<count {
            v[i] = min(v[i] * scale, threshold)
            sum += v[i] * v[i]
        }
        let rescale = 1 / (sum.squareRoot() + 1e-3)
        for i in 0..<count { v[i] *= rescale }
    }

    let gradients: HOGGradients
    let parameters: HOGParameters
    /// Per block pixel (row-major over the block), up to 4 votes: (cell offset, weight).
    let voteOffsets: [Int]
    let voteWeights: [Float]

    init(gradients: HOGGradients, parameters: HOGParameters) {
        self.gradients = gradients
        self.parameters = parameters
        let bw = parameters.blockWidth, bh = parameters.blockHeight
        let cellsX = bw / parameters.cellWidth, cellsY = bh / parameters.cellHeight
        let sigma = parameters.blockSigma
        let scale = 1 / (sigma * sigma * 2)
        var offsets = [Int](repeating: 0, count: bw * bh * 4)
        var weights = [Float](repeating: 0, count: bw * bh * 4)
        for i in 0..<bh {
            let di = Float(i) - Float(bh) * 0.5
            let (cy, wy) = Self.axisShares(i, cellSize: parameters.cellHeight, cells: cellsY)
            for j in 0..<bw {
                let dj = Float(j) - Float(bw) * 0.5
                let gaussian = Float(exp(Double(-(di * di + dj * dj) * scale)))
                let (cx, wx) = Self.axisShares(j, cellSize: parameters.cellWidth, cells: cellsX)
                var k = 0
                for a in 0..<2 where wx[a] != 0 {
                    for b in 0..<2 where wy[b] != 0 {
                        let slot = (i * bw + j) * 4 + k
                        offsets[slot] = (cx[a] * cellsY + cy[b]) * parameters.bins
                        weights[slot] = gaussian * (wx[a] * wy[b])
                        k += 1
                    }
                }
            }
        }
        voteOffsets = offsets
        voteWeights = weights
    }

    /// The cells a pixel at `position` in the block shares its vote with along one axis, and the
    /// shares (bilinear between cell centres; a share falling outside the block is dropped).
    static func axisShares(_ position: Int, cellSize: Int, cells: Int) -> ([Int], [Float]) {
        var t = (Float(position) + 0.5) / Float(cellSize) - 0.5
        let c0 = Int(t.rounded(.down))
        t -= Float(c0)
        let c1 = c0 + 1
        let in0 = c0 >= 0 && c0 < cells, in1 = c1 >= 0 && c1 < cells
        if in0 && in1 { return ([c0, c1], [1 - t, t]) }
        if in0 { return ([c0, 0], [1 - t, 0]) }
        return ([c1, 0], [t, 0])
    }

    func windows() -> [Float] {
        let p = parameters
        let w = gradients.width, h = gradients.height
        let gridX = (w - p.blockWidth) / p.blockStrideX + 1
        let gridY = (h - p.blockHeight) / p.blockStrideY + 1
        let blockLength = p.blockLength
        var cache = [Float](repeating: 0, count: gridX * gridY * blockLength)
        var done = [Bool](repeating: false, count: gridX * gridY)
        let windowsX = (w - p.windowWidth) / p.windowStrideX + 1
        let windowsY = (h - p.windowHeight) / p.windowStrideY + 1
        var out = [Float](repeating: 0, count: windowsX * windowsY * p.windowLength)
        var scratch = [Float](repeating: 0, count: blockLength)
        var o = 0
        for wy in 0..<windowsY {
            for wx in 0..<windowsX {
                let gx0 = wx * p.windowStrideX / p.blockStrideX
                let gy0 = wy * p.windowStrideY / p.blockStrideY
                for bx in 0..<p.blocksX {
                    for by in 0..<p.blocksY {
                        let g = (gy0 + by) * gridX + gx0 + bx
                        if !done[g] {
                            block(x: (gx0 + bx) * p.blockStrideX, y: (gy0 + by) * p.blockStrideY, into: &scratch)
                            cache.replaceSubrange((g * blockLength)..<((g + 1) * blockLength), with: scratch)
                            done[g] = true
                        }
                        out.replaceSubrange(o..<(o + blockLength), with: cache[(g * blockLength)..<((g + 1) * blockLength)])
                        o += blockLength
                    }
                }
            }
        }
        return out
    }

    /// The L2-Hys-normalised histogram of the block whose top-left pixel is (x, y).
    func block(x: Int, y: Int, into hist: inout [Float]) {
        let p = parameters
        let bw = p.blockWidth, bh = p.blockHeight, w = gradients.width
        hist.withUnsafeMutableBufferPointer { hp in
            let hs = hp.baseAddress!
            for i in 0..<hp.count { hs[i] = 0 }
            gradients.weights.withUnsafeBufferPointer { gw in
                gradients.bins.withUnsafeBufferPointer { gb in
                    voteOffsets.withUnsafeBufferPointer { vo in
                        voteWeights.withUnsafeBufferPointer { vw in
                            for i in 0..<bh {
                                for j in 0..<bw {
                                    let g = ((y + i) * w + x + j) * 2
                                    let m0 = gw[g], m1 = gw[g + 1]
                                    let b0 = Int(gb[g]), b1 = Int(gb[g + 1])
                                    let slot = (i * bw + j) * 4
                                    for k in 0..<4 {
                                        let weight = vw[slot + k]
                                        if weight == 0 { break }
                                        let cell = hs + vo[slot + k]
                                        cell[b0] += m0 * weight
                                        cell[b1] += m1 * weight
                                    }
                                }
                            }
                        }
                    }
                }
            }
            Self.normalizeL2Hys(hs, count: hp.count, threshold: p.l2HysThreshold)
        }
    }
}

