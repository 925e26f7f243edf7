/// Size and per-channel mean and population standard deviation of an image.
public struct ImageStats: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var channels: Int
    /// Mean of each channel over all pixels, in channel order (gray, or R G B [A]).
    public var mean: [Double]
    /// Population standard deviation (divide by N, like `numpy.std`) of each channel.
    public var std: [Double]
}

/// Computes `ImageStats`: for channel c over the N = width*height pixels,
/// mean = Σv / N and std = sqrt(Σ(v − mean)² / N) (population, ddof 0).
///
/// Exact counting: one pass builds a 256-bin histogram per channel, then mean and variance are
/// computed from it in Double, so the result does not depend on the order of pixels.
/// An empty image gives mean 0 and std 0.
public func stats(_ image: Image) -> ImageStats {
    let channels = image.channels
    let counts = ImageStats.channelValueCounts(image)
    let n = Double(image.width * image.height)
    var means = [Double](repeating: 0, count: channels)
    var stds = [Double](repeating: 0, count: channels)
    if n > 0 {
        for c in 0..<channels {
            var sum = 0
            for v in 0..<256 { sum += counts[c * 256 + v] * v }
            let mean = Double(sum) / n
            var squares = 0.0
            for v in 0..<256 where counts[c * 256 + v] != 0 {
                let d = Double(v) - mean
                squares += Double(counts[c * 256 + v]) * d * d
            }
            means[c] = mean
            stds[c] = (squares / n).squareRoot()
        }
    }
    return ImageStats(width: image.width, height: image.height, channels: channels, mean: means, std: stds)
}

extension ImageStats {
    /// Counts of each value 0...255 per channel: `counts[c * 256 + v]`.
    static func channelValueCounts(_ image: Image) -> [Int] {
        let channels = image.channels
        var counts = [Int](repeating: 0, count: 256 * channels)
        let total = image.pixels.count
        counts.withUnsafeMutableBufferPointer { cp in
            let out = cp.baseAddress!
            image.pixels.withUnsafeBufferPointer { pp in
                guard let p = pp.baseAddress else { return }
                switch channels {
                case 1:
                    for i in 0..<total { out[Int(p[i])] &+= 1 }
                case 3:
                    var i = 0
                    while i < total {
                        out[Int(p[i])] &+= 1
                        out[256 + Int(p[i + 1])] &+= 1
                        out[512 + Int(p[i + 2])] &+= 1
                        i &+= 3
                    }
                default:
                    var i = 0
                    while i < total {
                        for c in 0..<channels { out[c * 256 + Int(p[i + c])] &+= 1 }
                        i &+= channels
                    }
                }
            }
        }
        return counts
    }
}
