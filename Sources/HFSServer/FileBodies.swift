import Foundation
import HFSCore
import Hummingbird
import NIOCore
import NIOHTTP1

/// Response bodies sent straight from a file with sendfile(2): the kernel hands the file's
/// page-cache pages to the socket, so the datanode neither reads a block into its own memory nor
/// copies it into the socket (on a 1 GiB `hfs get` that was about half of the serving
/// datanodes' CPU: docs/BENCHMARKS.md, session 8).
///
/// A route answers with ``response(path:offset:count:headers:)``: a response without a body
/// whose private header names the file range. ``FileBodyHandler``, in the connection's pipeline
/// (``LargeReadsHTTP1Channel``), takes that header off and writes the range after the head. The
/// header never leaves the process.
public enum FileBody {
    static let headerName = "x-hfs-file-body"

    /// A `200` whose body is `count` bytes of the file at `path` from `offset`. The file is opened
    /// when the head is written; if it cannot be, the connection is closed (the reader tries
    /// another replica).
    public static func response(path: String, offset: Int64, count: Int64, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentLength] = "\(count)"
        headers[HTTPFields.Element.Name(headerName)!] = headerValue(path: path, offset: offset, count: count)
        return Response(status: .ok, headers: headers, body: .init())
    }

    /// Bytes a path keeps as they are in the header; every other byte is percent-encoded, so that
    /// any path (control characters, non-ASCII, `%`) passes the HTTP field checks unchanged.
    private static let plain = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/-._~")

    /// "OFFSET COUNT PATH", the path percent-encoded.
    static func headerValue(path: String, offset: Int64, count: Int64) -> String {
        "\(offset) \(count) \(path.addingPercentEncoding(withAllowedCharacters: plain)!)"
    }

    /// The range a ``headerValue(path:offset:count:)`` names.
    static func parse(_ value: String) throws -> (path: String, offset: Int, count: Int) {
        let parts = value.split(separator: " ", maxSplits: 2)
        guard parts.count == 3, let offset = Int(parts[0]), let count = Int(parts[1]), offset >= 0, count >= 0, count <= Int.max - offset,
              let path = String(parts[2]).removingPercentEncoding, !path.isEmpty else {
            throw HFSError(.io, "bad \(headerName) value '\(value)'")
        }
        return (path, offset, count)
    }
}

/// Writes the file ranges that ``FileBody`` responses ask for (see there). Outbound, between the
/// HTTP/1 encoder and Hummingbird's codec.
final class FileBodyHandler: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// The file range of the response whose head went out last, until its end is written.
    private var pending: FileRegion?

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var head):
            guard let spec = head.headers.first(name: FileBody.headerName) else {
                return context.write(data, promise: promise)
            }
            head.headers.remove(name: FileBody.headerName)
            do {
                pending = try Self.open(spec)
            } catch {
                promise?.fail(error)
                context.close(promise: nil)
                return
            }
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .body:
            context.write(data, promise: promise)
        case .end:
            if let region = pending {
                pending = nil
                if region.readableBytes == 0 {
                    try? region.fileHandle.close()
                } else {
                    // sendfile past a file's end writes nothing, which NIO takes as a socket to wait for:
                    // a file cut shorter while it is sent (a replica being rewritten) ends
                    // the connection within a second instead; the reader tries another replica.
                    let channel = context.channel
                    let watch = context.eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { task in
                        if (Self.size(region.fileHandle) ?? 0) < region.endIndex {
                            task.cancel()
                            channel.close(promise: nil)
                        }
                    }
                    context.write(wrapOutboundOut(.body(.fileRegion(region)))).whenComplete { _ in
                        watch.cancel()
                        try? region.fileHandle.close()
                    }
                }
            }
            context.write(data, promise: promise)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        if let region = pending { try? region.fileHandle.close() }
        pending = nil
    }

    /// The header's range, opened. A blocking open on the event loop: a local file whose
    /// directory entry the route just looked up. Throws if the file is shorter than the range.
    private static func open(_ spec: String) throws -> FileRegion {
        let (path, offset, count) = try FileBody.parse(spec)
        let handle = try NIOFileHandle(_deprecatedPath: path)
        guard let size = size(handle), size >= offset + count else {
            try? handle.close()
            throw HFSError(.io, "\(path) is shorter than \(offset + count) bytes")
        }
        return FileRegion(fileHandle: handle, readerIndex: offset, endIndex: offset + count)
    }

    /// The file's current size, nil if it cannot be read.
    static func size(_ handle: NIOFileHandle) -> Int? {
        try? handle.withUnsafeFileDescriptor { fd in
            var st = stat()
            return fstat(fd, &st) == 0 ? Int(st.st_size) : nil
        }
    }
}
