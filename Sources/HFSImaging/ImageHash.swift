import Foundation

/// A 64-bit perceptual hash with the bit order and text form of the Python `imagehash` package
/// (4.3.2): the 8×8 boolean matrix flattened row-major, first element = most significant bit,
/// printed as 16 lowercase hex digits (`str(imagehash.phash(img))`).
public struct ImageHash64: Sendable, Hashable, CustomStringConvertible {
    public var bits: UInt64

    public init(bits: UInt64) { self.bits = bits }

    /// Parses the 16-hex-digit form; nil if it is not one.
    public init?(hex: String) {
        guard hex.utf8.count == 16, let value = UInt64(hex, radix: 16) else { return nil }
        bits = value
    }

    /// 16 lowercase hex digits, zero-padded, as `str()` of an imagehash hash.
    public var hex: String {
        let digits = String(bits, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    public var description: String { hex }

    /// Number of differing bits (imagehash's `a - b`).
    public func distance(to other: ImageHash64) -> Int { (bits ^ other.bits).nonzeroBitCount }
}

/// Average hash, as `imagehash.average_hash(img)` (hash_size 8): the image is converted to 8-bit
/// luma and resized to 8×8 with Pillow's Lanczos (see `PillowResample.lumaResize`); bit = pixel >
/// mean of the 64 pixels.
public func ahash(_ image: Image) -> ImageHash64 {
    let small = PillowResample.lumaResize(checkedForHash(image), width: 8, height: 8)
    let sum = small.pixels.reduce(0) { $0 + Int($1) }
    return hashBits(count: 64) { i in Int(small.pixels[i]) * 64 > sum }
}

/// Difference hash, as `imagehash.dhash(img)` (hash_size 8): luma resized to 9 wide × 8 high with
/// Pillow's Lanczos; bit (row r, column c) = pixel[r][c + 1] > pixel[r][c].
public func dhash(_ image: Image) -> ImageHash64 {
    let small = PillowResample.lumaResize(checkedForHash(image), width: 9, height: 8)
    return hashBits(count: 64) { i in
        let r = i / 8, c = i % 8
        return small.pixels[r * 9 + c + 1] > small.pixels[r * 9 + c]
    }
}

/// Perceptual hash, as `imagehash.phash(img)` (hash_size 8, highfreq_factor 4): luma resized to
/// 32×32 with Pillow's Lanczos; D = DCT-II along columns then rows, unnormalised like
/// `scipy.fftpack.dct` (`y[k] = 2 Σ_n x[n] cos(π k (2n + 1) / 64)`); the top-left 8×8 of D
/// (row-major) gives bit = D[k][l] > median of those 64 values (mean of the 32nd and 33rd).
///
/// Only the 8×8 needed coefficients are computed, from a precomputed cosine table; values below
/// 1e-6 in magnitude (true zeros plus rounding noise) are taken as 0, as scipy's are. Bits whose
/// coefficient equals the median up to rounding may still differ from scipy's FFT-based result;
/// when the median itself falls among coefficients that are exactly 0 in truth (images symmetric
/// enough, e.g. 2 pixels wide), scipy's rounding noise decides those bits and no reimplementation
/// can follow it: this one reports them as 0 (not above the median).
public func phash(_ image: Image) -> ImageHash64 {
    let (coefficients, median) = phashCoefficients(image)
    return hashBits(count: 64) { i in coefficients[i] > median }
}

/// The 8×8 low-frequency DCT coefficients of `phash` (row-major, near-zeros snapped to 0) and
/// their median.
func phashCoefficients(_ image: Image) -> (coefficients: [Double], median: Double) {
    let small = PillowResample.lumaResize(checkedForHash(image), width: 32, height: 32)
    var coefficients = [Double](repeating: 0, count: 64)
    PHashDCT.lowFrequencies(small.pixels, into: &coefficients)
    for i in 0..<64 where abs(coefficients[i]) < PHashDCT.zeroSnap { coefficients[i] = 0 }
    var sorted = coefficients
    sorted.sort()
    return (coefficients, (sorted[31] + sorted[32]) / 2)
}

/// The DCT of `phash`, restricted to the 8 lowest frequencies per axis of a 32×32 block.
enum PHashDCT {
    static let size = 32
    static let keep = 8
    /// Coefficients smaller than this are exactly 0 in truth (inputs are 8-bit integers, values up
    /// to ~1e6, rounding noise ~1e-10) and scipy returns them as 0.0: flat, striped and checkered
    /// images have many, and the median then sits on them.
    static let zeroSnap = 1e-6
    /// `table[k * 32 + n] = 2 cos(π k (2n + 1) / 64)` for k < 8.
    static let table: [Double] = {
        var t = [Double](repeating: 0, count: keep * size)
        for k in 0..<keep {
            for n in 0..<size {
                t[k * size + n] = 2 * cos(Double.pi * Double(k) * Double(2 * n + 1) / Double(2 * size))
            }
        }
        return t
    }()

    /// `out[k * 8 + l]` = Σ_j table[l][j] Σ_i table[k][i] pixels[i][j].
    static func lowFrequencies(_ pixels: [UInt8], into out: inout [Double]) {
        precondition(pixels.count == size * size && out.count == keep * keep)
        var columns = [Double](repeating: 0, count: keep * size)   // columns[k][j]: DCT along axis 0
        table.withUnsafeBufferPointer { tp in
            pixels.withUnsafeBufferPointer { pp in
                columns.withUnsafeMutableBufferPointer { cp in
                    let t = tp.baseAddress!, p = pp.baseAddress!, c = cp.baseAddress!
                    for k in 0..<keep {
                        let row = c + k * size
                        for i in 0..<size {
                            let w = t[k * size + i]
                            let src = p + i * size
                            for j in 0..<size { row[j] += w * Double(src[j]) }
                        }
                    }
                }
                columns.withUnsafeBufferPointer { cp in
                    out.withUnsafeMutableBufferPointer { op in
                        let t = tp.baseAddress!, c = cp.baseAddress!
                        for k in 0..<keep {
                            for l in 0..<keep {
                                var s = 0.0
                                for j in 0..<size { s += t[l * size + j] * c[k * size + j] }
                                op[k * keep + l] = s
                            }
                        }
                    }
                }
            }
        }
    }
}

private func checkedForHash(_ image: Image) -> Image {
    precondition(image.width > 0 && image.height > 0, "cannot hash an empty image")
    return image
}

private func hashBits(count: Int, _ bit: (Int) -> Bool) -> ImageHash64 {
    var v: UInt64 = 0
    for i in 0..<count { v = (v << 1) | (bit(i) ? 1 : 0) }
    return ImageHash64(bits: v)
}
