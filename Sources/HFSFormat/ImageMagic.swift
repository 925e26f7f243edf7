/// Recognises formats whose bytes are compressed already (by magic bytes at the start of a file),
/// so that `CodecPolicy.auto` stores them as they are instead of trying lz4 on them.
public enum ImageMagic {
    /// Bytes of a file's start that ``isCompressedFormat(_:)`` looks at.
    public static let prefixBytesMax = 12

    /// True for JPEG (`FF D8 FF`), PNG (`89 50 4E 47 0D 0A 1A 0A`), GIF (`GIF87a`/`GIF89a`) and
    /// WebP (`RIFF` ‹size› `WEBP`). `prefix` is the start of the file; longer is fine.
    public static func isCompressedFormat(_ prefix: some Collection<UInt8>) -> Bool {
        let head = Array(prefix.prefix(prefixBytesMax))
        if head.starts(with: [0xFF, 0xD8, 0xFF]) { return true }
        if head.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return true }
        if head.starts(with: Array("GIF87a".utf8)) || head.starts(with: Array("GIF89a".utf8)) { return true }
        if head.count >= 12, head[0..<4].elementsEqual("RIFF".utf8), head[8..<12].elementsEqual("WEBP".utf8) {
            return true
        }
        return false
    }
}
