import Foundation
import HFSCore
import HFSMetadata
import HFSServer

/// Keeps blocks at their replication: every heartbeat interval, blocks with fewer good replicas
/// on readable nodes than their files ask for are copied from a surviving replica to new nodes
/// (most endangered first), and corrupt replicas are dropped once enough good ones exist.
/// Replicas on decommissioning nodes do not count, but those nodes still serve as copy sources.
/// The namenode never calls a datanode: copies and deletes travel in heartbeat answers.
extension Namenode {
    func replicationLoop() async {
        let interval = Duration.milliseconds(Int64(config.heartbeatIntervalSeconds * 1000))
        // A round scans every block in use; it runs when something that can leave a block short
        // has changed (a node dead or back, damage reported, copies under way), and at least
        // every `fullScanIntervalSeconds` to catch anything else.
        var lastFingerprint = ""
        var lastScan = -Double.infinity
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            let now = cluster.now()
            // After a (re)start nothing is decided until the datanodes have reported (SafeMode.swift).
            guard leaveSafeModeIfReady() else { continue }
            let fingerprint = cluster.replicationFingerprint()
            guard fingerprint != lastFingerprint || fingerprint.hasSuffix("|0") == false
                    || now - lastScan >= Limits.replicationFullScanIntervalSeconds else { continue }
            lastFingerprint = fingerprint
            lastScan = now
            do { try await replicationRound() } catch {
                logger.warning("replication round failed: \(error)")
            }
        }
    }

    /// True once the namenode is out of safe mode (logged when it leaves).
    func leaveSafeModeIfReady() -> Bool {
        guard cluster.inSafeMode else { return true }
        let (reason, reregister) = cluster.checkSafeMode(leave: true)
        if reason != nil { return false }
        logger.info("leaving safe mode after \(Int(cluster.now())) s\(reregister.isEmpty ? "" : "; \(reregister.sorted().joined(separator: ",")) will report again to have unknown blocks removed")")
        return true
    }

    func replicationRound() async throws {
        let blocks = try await blocking { try self.store.fsckScan(.root).blocks }
        let readable = cluster.readableNodes()
        let live = cluster.liveNodes()
        let decommissioning = cluster.decommissioningNodes()
        // Fewest good replicas first; replicas on decommissioning nodes do not count.
        let ordered = blocks.map { b in (b, b.replicaNodes.filter { readable[$0] != nil && !decommissioning.contains($0) }) }
            .sorted { $0.1.count < $1.1.count }
        // Decommissioned: decommissioning, and holding no block short of replicas elsewhere.
        var decommissioned = decommissioning
        for (b, good) in ordered where good.count < b.replication { decommissioned.subtract(b.replicaNodes) }
        cluster.setDecommissioned(decommissioned)
        var perSource: [String: Int] = [:]
        for (b, good) in ordered {
            if good.count >= b.replication {
                for n in b.corruptNodes + b.staleNodes where readable[n] != nil {
                    cluster.enqueue(DatanodeCommand(kind: .delete, blocks: [b.block]), for: n)
                }
                cluster.endCopy(b.block)
                // Over-replicated (a dead node came back): trim, but only when every holder is
                // live and the block is sealed, so that nothing is removed on a guess.
                if good.count > b.replication, good.allSatisfy({ live[$0] != nil }), cluster.openPacked(b.block) == nil {
                    for extra in Placement.excess(good.compactMap { live[$0] }, keep: b.replication) {
                        cluster.enqueue(DatanodeCommand(kind: .delete, blocks: [b.block]), for: extra.id)
                        logger.info("block \(b.block): \(good.count)/\(b.replication) replicas, removing the one on \(extra.id)")
                    }
                }
                continue
            }
            // Copy sources: live holders of a good replica, decommissioning ones included.
            let sources = b.replicaNodes.filter { live[$0] != nil }
            guard !sources.isEmpty else { continue }  // missing, or only on stale nodes: nothing to copy from now
            if cluster.openPacked(b.block) != nil {
                // A copy is a snapshot: seal a packed block first so that no append lands on
                // the old replicas after it (new batches go to other blocks).
                cluster.removePacked(b.block)
                try await blocking { try self.store.sealBlock(b.block) }
            }
            guard let source = sources.min(by: { perSource[$0, default: 0] < perSource[$1, default: 0] }),
                  perSource[source, default: 0] < Limits.replicationsPerNodePerRoundMax else { continue }
            // A node holding a corrupt or stale copy may take the new one: the copy rewrites its file.
            let targets = cluster.choosePipeline(count: b.replication - good.count, exclude: Set(b.replicaNodes))
            guard !targets.isEmpty, cluster.startCopy(b.block, timeoutSeconds: Limits.replicationTimeoutSeconds) else { continue }
            cluster.enqueue(DatanodeCommand(kind: .replicate, blocks: [b.block], targets: targets), for: source)
            perSource[source, default: 0] += 1
            logger.info("block \(b.block): \(good.count)/\(b.replication) good replicas, \(source) copies it to \(targets.map(\.id).joined(separator: ","))")
        }
    }
}
