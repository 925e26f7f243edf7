import AsyncHTTPClient
import Foundation
import HFSCore
import HFSImaging
import HFSServer
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import NIOConcurrencyHelpers

/// A datanode: block files on local disk, the write pipeline (verify, append, forward, fsync,
/// acknowledge), verified reads, and the link to the namenode (register with a full block
/// report, heartbeats, incremental reports, commands).
public final class Datanode: Sendable {
    public let config: ClusterConfig
    public let me: ClusterConfig.Datanode
    let info: DatanodeInfo
    let store: BlockStore
    let locks = BlockLocks()
    let http: HTTPClient
    let logger: Logger
    let reports = IncrementalReports()
    /// Threads for compute hooks (one per core), apart from the pool that does disk I/O.
    let computePool: NIOThreadPool
    /// Replicas the block scanner reported corrupt, with the file's size and mtime then: not
    /// verified (nor reported) again until the file changes, e.g. rewritten by a good copy.
    let reportedCorrupt = NIOLockedValueBox<[Int64: FileStamp]>([:])

    public init(config: ClusterConfig, id: String, logger: Logger) throws {
        self.config = config
        self.me = try config.datanode(id)
        self.info = DatanodeInfo(id: me.id, address: me.address.description, rack: me.rack)
        self.store = try BlockStore(dataDir: me.dataDir, capacityBytes: me.capacityBytes)
        self.logger = logger
        var hc = HTTPClient.Configuration()
        hc.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = Limits.connectionsPerHostMax
        hc.timeout.connect = .seconds(5)
        hc.http1_1ConnectionDebugInitializer = SocketReads.large
        self.http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: hc)
        self.computePool = NIOThreadPool(numberOfThreads: max(1, ProcessInfo.processInfo.activeProcessorCount))
        computePool.start()
        for h in config.hooks where Hooks.description(h.name) != nil {
            throw HFSError(.config, "\(config.sourcePath): hooks: '\(h.name)' is the name of a built-in hook")
        }
    }

    public func run() async throws {
        let router = Router(context: DatanodeContext.self)
        routes(router)
        let app = Application(
            router: router,
            server: .http1LargeReads(),
            configuration: .init(address: .hostname(me.address.host, port: me.address.port), serverName: "hfs-datanode-\(me.id)"),
            logger: logger)
        logger.info("datanode \(me.id) on \(me.address), data \(me.dataDir), \(store.blockCount) blocks")
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    do { try await app.runService() } catch {
                        throw HFSError(.unavailable, "datanode \(self.me.id) on \(self.me.address): \(error)")
                    }
                }
                group.addTask { await self.namenodeLoop() }
                group.addTask { await self.reportLoop() }
                group.addTask { await self.scanLoop() }
                try await group.next()
                group.cancelAll()
            }
        } catch {
            try? await http.shutdown()
            throw error
        }
        try? await http.shutdown()
    }

    func routes(_ router: Router<DatanodeContext>) {
        let api = router.group("api/v1")
        api.post("blocks/:id/append") { req, ctx -> Response in
            do {
                let id = try Self.blockID(ctx)
                return try JSONRoutes.response(try await self.append(block: id, request: req, channel: ctx.channel))
            } catch {
                return JSONRoutes.errorResponse(error)
            }
        }
        api.get("blocks/:id") { req, ctx -> Response in
            do {
                let id = try Self.blockID(ctx)
                return try await self.read(block: id, request: req, context: ctx)
            } catch {
                return JSONRoutes.errorResponse(error)
            }
        }
        api.post("compute") { req, _ -> Response in
            do { return try await self.compute(req) } catch { return JSONRoutes.errorResponse(error) }
        }
        api.json(.get, "health") { _, _ in OK() }
    }

    static func blockID(_ ctx: DatanodeContext) throws -> Int64 {
        guard let s = ctx.parameters.get("id"), let id = Int64(s), id > 0 else { throw HFSError.invalid("bad block id") }
        return id
    }

    // MARK: read

    func read(block id: Int64, request: Request, context: DatanodeContext) async throws -> Response {
        guard let length = store.length(id) else { throw HFSError.notFound("\(me.id): no block \(id)") }
        let offset = Int64(request.uri.queryParameters.get("offset") ?? "0") ?? -1
        let count = Int64(request.uri.queryParameters.get("length") ?? "\(length - max(offset, 0))") ?? -1
        guard Limits.range(offset: offset, length: count, fitsIn: length) else {
            throw HFSError(.conflict, "\(me.id): range \(offset)+\(count) is outside block \(id) of \(length) bytes")
        }
        var headers = HTTPFields()
        headers[.contentType] = "application/octet-stream"
        // With sendfile: the block's pages go from the page cache to the socket (FileBody).
        return FileBody.response(path: store.path(id), offset: offset, count: count, headers: headers)
    }
}

/// The request context of the datanode's routes: Hummingbird's basic one plus the connection,
/// which an append closes when the writer upstream stops sending (see ``Datanode/append``).
public struct DatanodeContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}
