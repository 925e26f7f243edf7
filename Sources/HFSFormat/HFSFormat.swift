// HFSFormat: the bytes of a block file.
//
// A block file is a sequence of frames. A frame is a 24-byte header (see ``FrameHeader``)
// followed by `storedLength` stored bytes that decode to at most ``Limits/frameLogicalBytesMax``
// logical bytes, so a ranged read decompresses only the frames it touches.
//
// - ``FrameEncoder`` turns logical bytes into frames (client write path).
// - ``FrameDecoder`` verifies and decodes one frame; ``FrameStreamParser`` cuts a stream of
//   arbitrary chunks into frames; ``FrameVerifier`` (datanode receive path, block scanner) and
//   ``FrameReader`` (read path) combine the two.
// - ``CRC32`` is zlib's `crc32_z`; ``ImageMagic`` spots formats that are compressed already.
//
// Every check that fails throws `HFSError(.corrupt, ...)`: a bad frame is never returned as data.
// Encoders and decoders own reusable scratch memory (a z_stream, a 1 MiB buffer): keep one per
// task and reuse it, they are not thread-safe.
