import Foundation
import HFSCore
import HFSMetadata
import HFSServer
import Hummingbird
import Logging

/// The namenode: namespace and block metadata (SQLite through ``MetadataStore``), datanode
/// liveness, replica placement. It never calls a datanode; it answers their heartbeats with
/// commands. Bytes never pass through it.
public final class Namenode: Sendable {
    public let config: ClusterConfig
    let store: MetadataStore
    let cluster: ClusterState
    let compaction = CompactionTracker()
    let logger: Logger

    public init(config: ClusterConfig, logger: Logger) throws {
        self.config = config
        self.logger = logger
        self.store = try MetadataStore(path: config.metadataPath)
        // Open packed blocks of a previous run have no known pipeline any more: seal them.
        for r in 1...Limits.replicationMax {
            for id in try store.openPackedBlocks(replication: r, maxLength: Int64.max) { try store.sealBlock(id) }
        }
        let policy = LivenessPolicy(heartbeatIntervalSeconds: config.heartbeatIntervalSeconds,
                                    deadNodeTimeoutSeconds: config.deadNodeTimeoutSeconds)
        let safeMode = SafeModePolicy(configured: Set(config.datanodes.map(\.id)), maxWaitSeconds: config.deadNodeTimeoutSeconds)
        self.cluster = ClusterState(policy: policy, blockSizeBytes: config.blockSizeBytes, safeMode: safeMode)
        for d in try store.datanodes() {
            cluster.seedKnown(d.node, capacityBytes: d.capacityBytes, usedBytes: d.usedBytes, decommissioning: d.decommissioning)
        }
    }

    /// Serves until the task is cancelled or the process is signalled.
    public func run(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let router = Router()
        routes(router)
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(config.namenodeAddress.host, port: config.namenodeAddress.port),
                                 serverName: "hfs-namenode"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
        logger.info("namenode on \(config.namenodeAddress), metadata \(config.metadataPath)")
        let monitor = Task { await self.replicationLoop() }
        let compactor = Task { await self.compactionLoop() }
        defer { monitor.cancel(); compactor.cancel() }
        do { try await app.runService() } catch {
            throw HFSError(.unavailable, "namenode on \(config.namenodeAddress): \(error)")
        }
    }

    var info: ClusterInfo {
        ClusterInfo(replication: config.replication, blockSizeBytes: config.blockSizeBytes, codec: config.codec,
                    smallFileBytesMax: min(Int64(Limits.smallFileBytesMax), config.blockSizeBytes),
                    externalHooks: config.hooks.map(HookDescription.init(external:)))
    }
}

