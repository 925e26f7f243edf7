import HFSCore
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1

/// An HTTP/1 server whose connections read from their sockets in large pieces (``SocketReads``)
/// and can send response bodies straight from files (``FileBody``). A datanode receives block
/// data: each piece read is verified, written and forwarded down the pipeline as it is, so bigger
/// pieces mean fewer calls of each; it serves block reads with sendfile.
public struct LargeReadsHTTP1Channel: ServerChildChannel {
    public typealias Value = HTTP1Channel.Value
    let base: HTTP1Channel

    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        SocketReads.large(channel).flatMap { base.setup(channel: channel, logger: logger) }.flatMapThrowing { value in
            // Outbound, just before the encoder: sees every response part in NIOHTTP1's types.
            let encoder = try channel.pipeline.syncOperations.handler(type: HTTPResponseEncoder.self)
            try channel.pipeline.syncOperations.addHandler(FileBodyHandler(), position: .after(encoder))
            return value
        }
    }

    public func handle(value: Value, logger: Logger) async { await base.handle(value: value, logger: logger) }
}

extension HTTPServerBuilder {
    /// HTTP/1 with reads of up to ``Limits/socketReadBytesMax`` (see ``LargeReadsHTTP1Channel``).
    public static func http1LargeReads(configuration: HTTP1Channel.Configuration = .init()) -> HTTPServerBuilder {
        .init { responder in LargeReadsHTTP1Channel(base: HTTP1Channel(responder: responder, configuration: configuration)) }
    }
}
