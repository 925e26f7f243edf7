import CPNG

/// PNG through the system libpng 1.6.
///
/// **Decoding** uses libpng's simplified API (`png_image_*`), which catches libpng errors with its
/// own internal setjmp, so corrupt input comes back as a message instead of a longjmp through Swift.
/// libpng keeps the address of the `png_image` between calls (its error handler writes there), so
/// the struct is heap-allocated for the whole read — a Swift `var` passed with `&` may be a
/// temporary, and then a corrupt file aborts the process inside libpng.
/// Output: gray → 1 channel, RGB/palette → 3, anything with alpha or tRNS → 4 (RGBA, not
/// premultiplied); 16-bit samples are reduced to 8 bits treating them as sRGB-encoded like other
/// decoders (`PNG_IMAGE_FLAG_16BIT_sRGB`). Known difference from OpenCV/Pillow: a file whose gAMA
/// chunk is far from sRGB is converted to sRGB by libpng (they ignore gAMA).
///
/// **Encoding** uses the full write API (the simplified writer is ~50× slower): zlib level
/// ``compressionLevel``, filter ``rowFilter``, strategy ``compressionStrategy``, no interlace
/// (≈ OpenCV's `imwrite` defaults in speed and size). Swift cannot call setjmp, so a libpng
/// error during writing could only end the process; instead every input that libpng could reject is
/// refused *before* libpng sees it (size 1...1,000,000 per side — libpng's user limit —, 1/3/4
/// channels, sample count matching), bytes go to an in-memory sink that cannot fail, and the error
/// callback is therefore unreachable (it stops the process with the libpng message if it ever runs,
/// as out-of-memory would).
enum PNGCodec {
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    /// libpng's default `PNG_USER_WIDTH_MAX` / `PNG_USER_HEIGHT_MAX`.
    static let sideMax = 1_000_000
    /// zlib level for encoding: fast, outputs are derived data.
    static let compressionLevel: Int32 = 1
    /// `PNG_FILTER_SUB`: faster than no filter (less to deflate), much smaller on photos.
    static let rowFilter: Int32 = 0x10
    /// `Z_RLE`, as OpenCV's default: faster and on photos slightly smaller than the default strategy at level 1.
    static let compressionStrategy: Int32 = 3

    // Values of png.h macros Swift does not import (expressions of other macros).
    private static let formatFlagAlpha: UInt32 = 0x01
    private static let formatFlagColor: UInt32 = 0x02
    private static let imageFlag16BitSRGB: UInt32 = 0x04

    static func probe(_ bytes: UnsafeRawBufferPointer) throws -> ImageInfo {
        try withReader(bytes) { image in
            ImageInfo(format: .png, width: Int(image.pointee.width), height: Int(image.pointee.height),
                      channels: outputChannels(fileFormat: image.pointee.format))
        }
    }

    static func decode(_ bytes: UnsafeRawBufferPointer, pixelLimit: Int) throws -> Image {
        try withReader(bytes) { image in
            let width = Int(image.pointee.width), height = Int(image.pointee.height)
            try Imaging.checkSize(width: width, height: height, limit: pixelLimit)
            let channels = outputChannels(fileFormat: image.pointee.format)
            let stride = width * channels
            guard stride <= Int(Int32.max) else { throw ImagingError.tooLarge(width: width, height: height, limit: pixelLimit) }
            image.pointee.format = channels == 1 ? 0 : (channels == 3 ? formatFlagColor : formatFlagColor | formatFlagAlpha)
            image.pointee.flags |= imageFlag16BitSRGB
            var ok: Int32 = 0
            let pixels = [UInt8](unsafeUninitializedCapacity: stride * height) { buffer, initialized in
                ok = png_image_finish_read(image, nil, buffer.baseAddress, Int32(stride), nil)
                initialized = stride * height
            }
            guard ok != 0 else { throw ImagingError.corrupt("PNG: \(message(of: image))") }
            return Image(width: width, height: height, channels: channels, pixels: pixels)
        }
    }

    static func encode(_ image: Image, level: Int32 = compressionLevel, filter: Int32 = rowFilter,
                       strategy: Int32 = compressionStrategy) throws -> [UInt8] {
        guard (1...sideMax).contains(image.width), (1...sideMax).contains(image.height) else {
            throw ImagingError.invalidArgument("cannot encode a \(image.width)x\(image.height) image as PNG (1...\(sideMax) per side)")
        }
        let colorType: Int32
        switch image.channels {
        case 1: colorType = 0 // PNG_COLOR_TYPE_GRAY
        case 3: colorType = 2 // PNG_COLOR_TYPE_RGB
        case 4: colorType = 6 // PNG_COLOR_TYPE_RGB_ALPHA
        default: throw ImagingError.unsupported("PNG encode of \(image.channels) channels")
        }
        precondition(image.pixels.count == image.width * image.height * image.channels)

        let sink = PNGSink(capacity: image.pixels.count / 2 + 1024)
        let context = Unmanaged.passUnretained(sink).toOpaque()
        guard let png = png_create_write_struct(PNG_LIBPNG_VER_STRING, context, pngWriteError, pngWriteWarning) else {
            throw ImagingError.unsupported("png_create_write_struct failed (libpng version mismatch?)")
        }
        var info = png_create_info_struct(png)
        defer {
            var optionalPNG: png_structp? = png
            png_destroy_write_struct(&optionalPNG, &info)
        }
        guard info != nil else { throw ImagingError.unsupported("png_create_info_struct failed") }
        png_set_write_fn(png, context, pngWriteData, pngFlush)
        png_set_IHDR(png, info, png_uint_32(image.width), png_uint_32(image.height), 8, colorType,
                     0 /* PNG_INTERLACE_NONE */, 0 /* PNG_COMPRESSION_TYPE_DEFAULT */, 0 /* PNG_FILTER_TYPE_DEFAULT */)
        png_set_compression_level(png, level)
        png_set_compression_strategy(png, strategy)
        png_set_filter(png, 0, filter)
        png_write_info(png, info)
        let stride = image.rowStride
        image.pixels.withUnsafeBufferPointer { src in
            guard let base = src.baseAddress else { return }
            for y in 0..<image.height { png_write_row(png, base + y * stride) }
        }
        png_write_end(png, nil)
        return sink.bytes
    }

    // MARK: - helpers

    /// Runs `body` with a `png_image` after `png_image_begin_read_from_memory` succeeded.
    /// The struct lives at a fixed heap address: libpng keeps a pointer to it (its error handler
    /// writes the message there and longjmps through it), so it must never be a Swift temporary.
    private static func withReader<R>(_ bytes: UnsafeRawBufferPointer,
                                      _ body: (UnsafeMutablePointer<png_image>) throws -> R) throws -> R {
        guard bytes.count >= 8, let base = bytes.baseAddress else {
            throw ImagingError.corrupt("truncated PNG: \(bytes.count) bytes")
        }
        let image = UnsafeMutablePointer<png_image>.allocate(capacity: 1)
        image.initialize(to: png_image())
        image.pointee.version = png_uint_32(PNG_IMAGE_VERSION)
        defer {
            png_image_free(image)
            image.deallocate()
        }
        guard png_image_begin_read_from_memory(image, base, bytes.count) != 0 else {
            throw ImagingError.corrupt("PNG header: \(message(of: image))")
        }
        return try body(image)
    }

    private static func outputChannels(fileFormat: UInt32) -> Int {
        if fileFormat & formatFlagAlpha != 0 { return 4 }
        return fileFormat & formatFlagColor != 0 ? 3 : 1
    }

    private static func message(of image: UnsafeMutablePointer<png_image>) -> String {
        withUnsafeBytes(of: &image.pointee.message) { raw in
            let bytes = raw.prefix { $0 != 0 }
            let text = String(decoding: bytes, as: UTF8.self)
            return text.isEmpty ? "unknown libpng error" : text
        }
    }
}

/// Growable in-memory output of the PNG writer.
final class PNGSink {
    var bytes: [UInt8]
    init(capacity: Int) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }
}

private func pngWriteData(_ png: png_structp?, _ data: png_bytep?, _ length: Int) {
    guard let io = png_get_io_ptr(png), let data else { return }
    let sink = Unmanaged<PNGSink>.fromOpaque(io).takeUnretainedValue()
    sink.bytes.append(contentsOf: UnsafeBufferPointer(start: data, count: length))
}

private func pngFlush(_ png: png_structp?) {}

private func pngWriteWarning(_ png: png_structp?, _ message: png_const_charp?) {}

/// Unreachable by construction (see ``PNGCodec``): inputs are validated before libpng runs.
/// libpng requires an error handler not to return, and Swift cannot longjmp, so it stops here.
private func pngWriteError(_ png: png_structp?, _ message: png_const_charp?) {
    let text = message.map { String(cString: $0) } ?? "unknown"
    fatalError("libpng write error after input validation (a bug in HFSImaging.PNGCodec): \(text)")
}
