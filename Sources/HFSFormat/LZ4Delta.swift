/// The prediction step of codec lz4-delta: each byte is replaced by its difference from the
/// byte `stride` before it (the same channel of the previous pixel), zig-zag mapped so that small
/// differences either way become small numbers (0, -1, 1, -2 → 0, 1, 2, 3). Smooth pixels then
/// leave mostly zero high bits, which c-blosc's bit-shuffle gathers into runs that lz4 removes.
/// The row and header structure of the image is not needed: the stride is all it takes.
enum LZ4Delta {
    /// Largest stride a frame may carry (16-bit RGBA is 8).
    static let strideMax = 16
    /// c-blosc compression level: 1 compresses these bytes as well as 5 here, and faster.
    static let level: Int32 = 1

    /// Writes the zig-zag mapped deltas of `src` to `dst` (`src.count` bytes).
    static func forward(_ src: UnsafeRawBufferPointer, stride: Int, into dst: UnsafeMutableRawPointer) {
        let n = src.count
        guard n > 0 else { return }
        let x = src.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let z = dst.assumingMemoryBound(to: UInt8.self)
        let head = min(stride, n)
        for i in 0..<head { z[i] = zigzag(x[i]) }
        var i = head
        while i < n {
            z[i] = zigzag(x[i] &- x[i - stride])
            i += 1
        }
    }

    /// Turns zig-zag mapped deltas back into the bytes, in place.
    static func inverse(_ buffer: UnsafeMutableRawBufferPointer, stride: Int) {
        let n = buffer.count
        guard n > 0 else { return }
        let x = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let head = min(stride, n)
        for i in 0..<head { x[i] = unzigzag(x[i]) }
        var i = head
        while i < n {
            x[i] = unzigzag(x[i]) &+ x[i - stride]
            i += 1
        }
    }

    @inline(__always) static func zigzag(_ d: UInt8) -> UInt8 {
        (d << 1) ^ UInt8(bitPattern: Int8(bitPattern: d) >> 7)
    }

    @inline(__always) static func unzigzag(_ z: UInt8) -> UInt8 {
        (z >> 1) ^ (0 &- (z & 1))
    }
}
