/// Per-channel histogram with `bins` equal bins over 0...255.
public struct ImageHistogram: Sendable, Equatable {
    public var bins: Int
    public var channels: Int
    /// Exact pixel counts, channel-major: `counts[c * bins + b]`.
    public var counts: [Int]

    /// The `bins` counts of channel `c`.
    public func counts(channel c: Int) -> ArraySlice<Int> {
        counts[(c * bins)..<((c + 1) * bins)]
    }
}

/// Upper limit of `histogram(_:bins:)`'s `bins`: one bin per 8-bit value.
public let histogramBinsMax = 256

/// Histogram of every channel (alpha included) with `bins` bins: value v falls in bin
/// `v * bins / 256` (integer division), so bins are equal-width and the last ends at 255.
/// Counts are exact. `bins` must be in 1...256.
public func histogram(_ image: Image, bins: Int) throws(FeatureError) -> ImageHistogram {
    guard bins >= 1 && bins <= histogramBinsMax else {
        throw FeatureError(hook: "histogram", message: "bins must be in 1...\(histogramBinsMax), got \(bins)")
    }
    let values = ImageStats.channelValueCounts(image)
    var counts = [Int](repeating: 0, count: bins * image.channels)
    for c in 0..<image.channels {
        for v in 0..<256 {
            counts[c * bins + v * bins / 256] += values[c * 256 + v]
        }
    }
    return ImageHistogram(bins: bins, channels: image.channels, counts: counts)
}
