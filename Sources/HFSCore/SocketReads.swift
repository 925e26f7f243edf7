import NIOCore

/// How hfs processes read block data from sockets: in pieces of up to
/// ``Limits/socketReadBytesMax`` instead of NIO's default 64 KiB, so that receiving a batch or a
/// block costs fewer `recvmsg` calls, and each piece fewer writes and forwards after it. Set on
/// the datanodes' server connections and on the HTTP connections of clients and datanodes.
public enum SocketReads {
    public static var allocator: AdaptiveRecvByteBufferAllocator {
        AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 64 << 10, maximum: Limits.socketReadBytesMax)
    }

    /// Sets ``allocator`` on a connection (an AsyncHTTPClient `http1_1ConnectionDebugInitializer`).
    @Sendable public static func large(_ channel: any Channel) -> EventLoopFuture<Void> {
        channel.setOption(ChannelOptions.recvAllocator, value: allocator)
    }
}
