import CTurboJPEG

/// JPEG through the TurboJPEG v2 API of the system libjpeg-turbo.
///
/// Decoding uses libjpeg's default accurate integer IDCT and fancy upsampling, i.e. the same
/// pixels as `cv2.imread` / Pillow built on libjpeg-turbo. A truncated stream (libjpeg's
/// "premature end" warnings) is an error; other libjpeg warnings (extraneous bytes, ...) are
/// tolerated as every common decoder does. Progressive files with an excessive number of scans are
/// refused (`TJFLAG_LIMITSCANS`), so hostile inputs cannot make the decoder spin.
enum JPEGCodec {
    static func probe(_ bytes: UnsafeRawBufferPointer) throws -> ImageInfo {
        try withDecompressor { handle in try header(handle, bytes).info }
    }

    static func decode(_ bytes: UnsafeRawBufferPointer, options: DecodeOptions) throws -> Image {
        try withDecompressor { handle in
            let head = try header(handle, bytes)
            try Imaging.checkSize(width: head.info.width, height: head.info.height, limit: options.pixelLimit)
            let width = options.scale.scaled(head.info.width)
            let height = options.scale.scaled(head.info.height)
            let isCMYK = head.colorspace == Int32(TJCS_CMYK.rawValue) || head.colorspace == Int32(TJCS_YCCK.rawValue)
            let gray = head.colorspace == Int32(TJCS_GRAY.rawValue)
            let format: TJPF = gray ? TJPF_GRAY : (isCMYK ? TJPF_CMYK : TJPF_RGB)
            let decodedChannels = gray ? 1 : (isCMYK ? 4 : 3)
            let count = width * height * decodedChannels
            var status: Int32 = 0
            let pixels = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
                status = tjDecompress2(handle, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt(bytes.count),
                                       buffer.baseAddress, Int32(width), Int32(width * decodedChannels),
                                       Int32(height), Int32(format.rawValue), TJFLAG_LIMITSCANS)
                // libjpeg writes every row, even after a warning; after a fatal error we throw below
                // and the (uninitialized but harmless UInt8) content is discarded.
                initialized = count
            }
            if status != 0 { try checkWarning(handle, context: "decode") }
            if isCMYK { return cmykToRGB(pixels, width: width, height: height) }
            return Image(width: width, height: height, channels: decodedChannels, pixels: pixels)
        }
    }

    static func encode(_ image: Image, quality: Int) throws -> [UInt8] {
        guard (1...100).contains(quality) else { throw ImagingError.invalidArgument("JPEG quality \(quality) not in 1...100") }
        guard image.channels == 1 || image.channels == 3 else {
            throw ImagingError.unsupported("JPEG encodes 1 or 3 channels, image has \(image.channels) (drop alpha first)")
        }
        guard !image.isEmpty, image.width <= Int(Int32.max) / 4, image.height <= 65_500, image.width <= 65_500 else {
            throw ImagingError.invalidArgument("cannot encode a \(image.width)x\(image.height) image as JPEG (1...65500 per side)")
        }
        guard let handle = tjInitCompress() else { throw ImagingError.unsupported("tjInitCompress failed: \(errorString(nil))") }
        defer { tjDestroy(handle) }
        let gray = image.channels == 1
        var jpegBuf: UnsafeMutablePointer<UInt8>? = nil
        var jpegSize: UInt = 0
        defer { if let jpegBuf { tjFree(jpegBuf) } }
        let status = image.pixels.withUnsafeBufferPointer { src in
            tjCompress2(handle, src.baseAddress, Int32(image.width), Int32(image.rowStride), Int32(image.height),
                        Int32((gray ? TJPF_GRAY : TJPF_RGB).rawValue), &jpegBuf, &jpegSize,
                        Int32((gray ? TJSAMP_GRAY : TJSAMP_420).rawValue), Int32(quality), 0)
        }
        guard status == 0, let jpegBuf else {
            throw ImagingError.invalidArgument("JPEG encode failed: \(errorString(handle))")
        }
        return Array(UnsafeBufferPointer(start: jpegBuf, count: Int(jpegSize)))
    }

    // MARK: - helpers

    struct Header {
        var info: ImageInfo
        var colorspace: Int32
    }

    static func withDecompressor<R>(_ body: (tjhandle) throws -> R) throws -> R {
        guard let handle = tjInitDecompress() else {
            throw ImagingError.unsupported("tjInitDecompress failed: \(errorString(nil))")
        }
        defer { tjDestroy(handle) }
        return try body(handle)
    }

    static func header(_ handle: tjhandle, _ bytes: UnsafeRawBufferPointer) throws -> Header {
        guard bytes.count >= 4, let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
            throw ImagingError.corrupt("truncated JPEG: \(bytes.count) bytes")
        }
        var width: Int32 = 0, height: Int32 = 0, subsamp: Int32 = 0, colorspace: Int32 = 0
        let status = tjDecompressHeader3(handle, base, UInt(bytes.count), &width, &height, &subsamp, &colorspace)
        guard status == 0 else {
            let message = errorString(handle)
            throw ImagingError.corrupt(isTruncation(message) ? "truncated JPEG: \(message)" : "JPEG header: \(message)")
        }
        guard width > 0, height > 0 else { throw ImagingError.corrupt("JPEG header: empty size \(width)x\(height)") }
        let channels = colorspace == Int32(TJCS_GRAY.rawValue) ? 1 : 3
        return Header(info: ImageInfo(format: .jpeg, width: Int(width), height: Int(height), channels: channels),
                      colorspace: colorspace)
    }

    /// After a non-zero status: throws unless it was a tolerable warning.
    static func checkWarning(_ handle: tjhandle, context: String) throws {
        let message = errorString(handle)
        if isTruncation(message) { throw ImagingError.corrupt("truncated JPEG: \(message)") }
        if tjGetErrorCode(handle) != Int32(TJERR_WARNING.rawValue) {
            throw ImagingError.corrupt("JPEG \(context): \(message)")
        }
    }

    static func isTruncation(_ message: String) -> Bool {
        message.lowercased().contains("premature end")
    }

    static func errorString(_ handle: tjhandle?) -> String {
        guard let cString = tjGetErrorStr2(handle) else { return "unknown TurboJPEG error" }
        return String(cString: cString)
    }

    /// Inverted (Adobe) CMYK as libjpeg returns it → RGB, with OpenCV's integer formula
    /// (`icvCvt_CMYK2BGR_8u_C4C3R`): R = K − ((255 − C)·K >> 8), and likewise G from M, B from Y.
    static func cmykToRGB(_ cmyk: [UInt8], width: Int, height: Int) -> Image {
        let count = width * height
        let rgb = [UInt8](unsafeUninitializedCapacity: count * 3) { out, initialized in
            cmyk.withUnsafeBufferPointer { src in
                for i in 0..<count {
                    let k = Int(src[i * 4 + 3])
                    for c in 0..<3 { out[i * 3 + c] = UInt8(truncatingIfNeeded: k - (((255 - Int(src[i * 4 + c])) * k) >> 8)) }
                }
            }
            initialized = count * 3
        }
        return Image(width: width, height: height, channels: 3, pixels: rgb)
    }
}
