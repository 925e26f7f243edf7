/// Fraction of edge pixels in a binary edge map (such as the canny filter's output, 0 or 255):
/// the number of pixels with any nonzero channel divided by width*height. 0 for an empty image.
public func edgeDensity(edges: Image) -> Double {
    let pixelCount = edges.width * edges.height
    guard pixelCount > 0 else { return 0 }
    let channels = edges.channels
    var nonzero = 0
    edges.pixels.withUnsafeBufferPointer { pp in
        let p = pp.baseAddress!
        if channels == 1 {
            for i in 0..<pixelCount where p[i] != 0 { nonzero &+= 1 }
        } else {
            for i in 0..<pixelCount {
                var any: UInt8 = 0
                for c in 0..<channels { any |= p[i * channels + c] }
                if any != 0 { nonzero &+= 1 }
            }
        }
    }
    return Double(nonzero) / Double(pixelCount)
}
