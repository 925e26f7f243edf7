import CZlib

/// CRC-32 (IEEE 802.3, the one zlib, gzip and PNG use), computed by zlib's `crc32_z`.
public enum CRC32 {
    /// The CRC of `bytes`, continuing from `seed` (the CRC of the bytes before them; 0 to start).
    public static func checksum(_ bytes: UnsafeRawBufferPointer, seed: UInt32 = 0) -> UInt32 {
        // crc32_z(_, NULL, _) returns the initial value 0, not the seed: an empty input keeps it.
        guard let base = bytes.baseAddress, bytes.count > 0 else { return seed }
        let crc = crc32_z(uLong(seed), base.assumingMemoryBound(to: Bytef.self), z_size_t(bytes.count))
        return UInt32(truncatingIfNeeded: crc)
    }
}
