import HFSCore
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore

/// An HTTP/1 server whose connections read from their sockets in pieces of up to
/// ``Limits/socketReadBytesMax`` instead of NIO's default 64 KiB. A datanode receives block data:
/// bigger reads mean fewer `recvmsg` calls, and fewer and bigger `pwrite`s and forwards down the
/// pipeline, since each piece read is written and forwarded as it is.
public struct LargeReadsHTTP1Channel: ServerChildChannel {
    public typealias Value = HTTP1Channel.Value
    let base: HTTP1Channel

    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let allocator = AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 64 << 10, maximum: Limits.socketReadBytesMax)
        return channel.setOption(ChannelOptions.recvAllocator, value: allocator).flatMap {
            base.setup(channel: channel, logger: logger)
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
