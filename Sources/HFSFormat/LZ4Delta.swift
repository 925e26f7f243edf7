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
        guard n > head else { return }
        let m = n - head
        let cur = UnsafeBufferPointer(start: x + head, count: m)
        let prev = UnsafeBufferPointer(start: x, count: m)
        let out = UnsafeMutableBufferPointer(start: z + head, count: m)
        for j in 0..<m { out[j] = zigzag(cur[j] &- prev[j]) }
    }

    /// Turns zig-zag mapped deltas back into the bytes, in place: first the zig-zag mapping
    /// (a loop the compiler vectorizes), then one running sum per channel, kept in registers for
    /// the usual strides (1, 3, 4) so that each step waits on an add, not on memory.
    static func inverse(_ buffer: UnsafeMutableRawBufferPointer, stride: Int) {
        let n = buffer.count
        guard n > 0 else { return }
        let x = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
        for i in 0..<n { x[i] = unzigzag(x[i]) }
        var i = 0
        switch stride {
        case 1:
            var a: UInt8 = 0
            while i < n { a &+= x[i]; x[i] = a; i += 1 }
        case 3:
            var a: UInt8 = 0, b: UInt8 = 0, c: UInt8 = 0
            while i + 3 <= n {
                a &+= x[i]; b &+= x[i + 1]; c &+= x[i + 2]
                x[i] = a; x[i + 1] = b; x[i + 2] = c
                i += 3
            }
            if i < n { x[i] &+= a; i += 1 }
            if i < n { x[i] &+= b }
        case 4:
            var a: UInt8 = 0, b: UInt8 = 0, c: UInt8 = 0, d: UInt8 = 0
            while i + 4 <= n {
                a &+= x[i]; b &+= x[i + 1]; c &+= x[i + 2]; d &+= x[i + 3]
                x[i] = a; x[i + 1] = b; x[i + 2] = c; x[i + 3] = d
                i += 4
            }
            if i < n { x[i] &+= a; i += 1 }
            if i < n { x[i] &+= b; i += 1 }
            if i < n { x[i] &+= c }
        default:
            i = stride
            while i < n { x[i] &+= x[i - stride]; i += 1 }
        }
    }

    @inline(__always) static func zigzag(_ d: UInt8) -> UInt8 {
        (d << 1) ^ UInt8(bitPattern: Int8(bitPattern: d) >> 7)
    }

    @inline(__always) static func unzigzag(_ z: UInt8) -> UInt8 {
        (z >> 1) ^ (0 &- (z & 1))
    }
}
