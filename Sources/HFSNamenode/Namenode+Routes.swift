import Foundation
import HFSCore
import HFSMetadata
import HFSServer
import Hummingbird

extension Namenode {
    func routes(_ router: Router<BasicRequestContext>) {
        let api = router.group("api/v1")
        api.json(.get, "cluster/info") { _, _ in self.info }
        api.json(.get, "cluster/report") { _, _ in try await self.report() }
        api.json(.post, "admin/decommission") { req, _ in
            try await self.setDecommissioning(try await JSONRoutes.decode(AdminNodeRequest.self, from: req).id, true)
        }
        api.json(.post, "admin/recommission") { req, _ in
            try await self.setDecommissioning(try await JSONRoutes.decode(AdminNodeRequest.self, from: req).id, false)
        }

        api.json(.get, "fs/status") { req, _ in
            let p = try HFSPath(JSONRoutes.query(req, "path"))
            return try await blocking { try self.store.status(p) }
        }
        api.json(.get, "fs/list") { req, _ in
            let p = try HFSPath(JSONRoutes.query(req, "path"))
            let recursive = req.uri.queryParameters.get("recursive") == "1"
            let r = try await blocking { try self.store.list(p, recursive: recursive, limit: Limits.listingEntriesMax) }
            return ListResponse(entries: r.entries, truncated: r.truncated)
        }
        api.json(.get, "fs/locations") { req, _ in
            let p = try HFSPath(JSONRoutes.query(req, "path"))
            return try await self.locations(p)
        }
        api.json(.post, "fs/locations") { req, _ in
            let r = try await JSONRoutes.decode(LocationsRequest.self, from: req)
            guard r.paths.count <= Limits.locationsPathsMax else {
                throw HFSError.invalid("at most \(Limits.locationsPathsMax) paths per locations request")
            }
            let paths = try r.paths.map(HFSPath.init)
            return LocationsResponse(files: try await self.locations(paths))
        }
        api.json(.get, "fs/du") { req, _ in
            let p = try HFSPath(JSONRoutes.query(req, "path"))
            return try await blocking { try self.store.du(p) }
        }
        api.json(.get, "fs/fsck") { req, _ in
            let p = try HFSPath(JSONRoutes.query(req, "path"))
            return try await self.fsck(p)
        }
        api.json(.post, "fs/mkdir") { req, _ in
            let r = try await JSONRoutes.decode(MkdirRequest.self, from: req)
            let p = try HFSPath(r.path)
            let now = Date().timeIntervalSince1970
            try await blocking { try self.store.mkdir(p, parents: r.parents, owner: r.owner, now: now) }
            return OK()
        }
        api.json(.post, "fs/delete") { req, _ in
            let r = try await JSONRoutes.decode(DeleteRequest.self, from: req)
            let p = try HFSPath(r.path)
            _ = try await blocking { try self.store.delete(p, recursive: r.recursive) }
            return OK()
        }
        api.json(.post, "fs/rename") { req, _ in
            let r = try await JSONRoutes.decode(RenameRequest.self, from: req)
            let src = try HFSPath(r.src), dst = try HFSPath(r.dst)
            try await blocking { try self.store.rename(src, dst) }
            return OK()
        }
        api.json(.post, "fs/commit") { req, _ in
            let r = try await JSONRoutes.decode(CommitRequest.self, from: req)
            guard r.files.count <= Limits.commitFilesMax else {
                throw HFSError.invalid("a commit holds at most \(Limits.commitFilesMax) files")
            }
            try await blocking { try self.store.commit(r.files, acks: r.acks, overwrite: r.overwrite, owner: r.owner) }
            let short = r.acks.contains { ack in
                r.files.contains { f in f.extents.contains { $0.block == ack.block } && ack.nodes.count < f.replication }
            }
            if short { self.cluster.noteDamage() }
            return OK()
        }
        api.json(.post, "fs/lookup") { req, _ in
            let r = try await JSONRoutes.decode(LookupRequest.self, from: req)
            guard r.paths.count <= Limits.commitFilesMax else { throw HFSError.invalid("at most \(Limits.commitFilesMax) paths per lookup") }
            let paths = try r.paths.map(HFSPath.init)
            return LookupResponse(entries: try await blocking { try self.store.lookup(paths) })
        }
        api.json(.post, "fs/content") { req, _ in
            let r = try await JSONRoutes.decode(ContentLookupRequest.self, from: req)
            guard r.sha256.count <= Limits.commitFilesMax else { throw HFSError.invalid("at most \(Limits.commitFilesMax) hashes per lookup") }
            return ContentLookupResponse(found: try await blocking { try self.store.storedContent(r.sha256) })
        }
        api.json(.post, "datasets/register") { req, _ in
            let r = try await JSONRoutes.decode(DatasetRequest.self, from: req)
            let p = try HFSPath(r.path)
            try await blocking { try self.store.registerDataset(p, owner: r.owner, now: Date().timeIntervalSince1970) }
            return OK()
        }
        api.json(.get, "datasets") { _, _ in
            DatasetListResponse(datasets: try await blocking { try self.store.datasets() })
        }
        api.json(.get, "datasets/show") { req, _ in
            let p = try HFSPath(JSONRoutes.query(req, "path"))
            return try await blocking { try self.store.datasetSummary(p) }
        }
        api.json(.get, "datasets/manifest") { req, _ in
            let p = try HFSPath(JSONRoutes.query(req, "path"))
            let after = req.uri.queryParameters.get("after").map { String($0) }
            return try await blocking { try self.store.manifest(p, after: after, limit: Limits.manifestRowsPerPageMax) }
        }
        api.json(.post, "blocks/allocate") { req, _ in
            let r = try await JSONRoutes.decode(AllocateBlockRequest.self, from: req)
            return try await self.allocate(r)
        }
        api.json(.post, "blocks/abandon") { req, _ in
            let r = try await JSONRoutes.decode(AbandonBlockRequest.self, from: req)
            try await blocking { try self.store.abandon(r.block) }
            self.logger.info("block \(r.block) abandoned by its writer (its pipeline failed); its replicas go")
            return OK()
        }
        api.json(.post, "blocks/compacted") { req, _ in
            try await self.compacted(try await JSONRoutes.decode(CompactedRequest.self, from: req))
            return OK()
        }
        api.json(.post, "blocks/bad") { req, _ in
            let r = try await JSONRoutes.decode(BadReplicaRequest.self, from: req)
            if try await blocking({ try self.store.markCorrupt(block: r.block, datanode: r.datanode) }) {
                self.cluster.noteDamage()
                self.logger.warning("block \(r.block) on \(r.datanode) reported corrupt: \(r.reason)")
            }
            return OK()
        }
        api.json(.post, "datanodes/register") { req, _ in
            let r = try await JSONRoutes.decode(RegisterRequest.self, from: req)
            try Self.checkSpace(r.capacityBytes, r.usedBytes)
            let unwanted = try await blocking {
                try self.store.upsertDatanode(r.node, capacityBytes: r.capacityBytes, usedBytes: r.usedBytes)
                return try self.store.replaceReplicas(of: r.node.id, with: r.blocks)
            }
            let deleteNow = self.cluster.register(r, unwanted: !unwanted.isEmpty)
            // A full report may drop replicas the node no longer has: let the next round look.
            self.cluster.noteDamage()
            self.logger.info("datanode \(r.node.id) registered from \(r.node.address) with \(r.blocks.count) blocks")
            if !deleteNow && !unwanted.isEmpty {
                self.logger.info("safe mode: \(r.node.id) keeps \(unwanted.count) unknown block(s) until it reports again")
            }
            return HeartbeatResponse(reregister: false, commands: unwanted.isEmpty || !deleteNow ? [] : [DatanodeCommand(kind: .delete, blocks: unwanted)])
        }
        api.json(.post, "datanodes/heartbeat") { req, _ in
            let h = try await JSONRoutes.decode(HeartbeatRequest.self, from: req)
            try Self.checkSpace(h.capacityBytes, h.usedBytes)
            guard self.cluster.heartbeat(h), !self.cluster.takeReregister(h.id) else { return HeartbeatResponse(reregister: true, commands: []) }
            // Old blocks of a compaction stay a while for reads that started before the switch.
            let held = self.compaction.heldBlocks(now: self.cluster.now())
            let deletes = try await blocking { try self.store.deletedBlocks(on: h.id) }.filter { !held.contains($0) }
            var commands = self.cluster.takeCommands(for: h.id)
            if !deletes.isEmpty { commands.append(DatanodeCommand(kind: .delete, blocks: deletes)) }
            return HeartbeatResponse(reregister: false, commands: commands)
        }
        api.json(.post, "datanodes/blocks") { req, _ in
            let r = try await JSONRoutes.decode(BlockReceivedRequest.self, from: req)
            let unwanted = try await blocking {
                let u = try self.store.addReplicas(of: r.id, received: r.received, removed: r.removed)
                if !r.removed.isEmpty { try self.store.forgetBlocks(r.removed) }
                return u
            }
            // Old blocks of a compaction stay a while for reads that started before the switch.
            let held = self.compaction.heldBlocks(now: self.cluster.now())
            let deletes = unwanted.filter { !held.contains($0) }
            guard !deletes.isEmpty, self.cluster.mayDelete(unwantedOn: r.id) else { return HeartbeatResponse(reregister: false, commands: []) }
            return HeartbeatResponse(reregister: false, commands: [DatanodeCommand(kind: .delete, blocks: deletes)])
        }
    }

    func allocate(_ r: AllocateBlockRequest) async throws -> AllocateBlockResponse {
        guard (1...Limits.replicationMax).contains(r.replication) else {
            throw HFSError.invalid("replication \(r.replication) is outside 1...\(Limits.replicationMax)")
        }
        // The writer that takes a full block out of the pool gets the new block that replaces it:
        // the pool's others, filled round-robin alongside it, are likely full as well. Writers
        // that found the same block full after it was replaced take from the pool, which then
        // holds that new block.
        var replacing = false
        if let full = r.fullBlock {
            replacing = cluster.removePacked(full)
            try await blocking { try self.store.sealBlock(full) }
        }
        let exclude = Set(r.excludeNodes)
        if r.kind == .packed && !replacing {
            // One open packed block per live node (each a different primary) lets concurrent
            // batches proceed in parallel; beyond that they share.
            let want = max(cluster.liveNodes().count, 1)
            if cluster.packedCount(replication: r.replication) >= want {
                let (taken, dropped) = cluster.takePacked(replication: r.replication, exclude: exclude)
                // Blocks whose pipeline lost a node are sealed: compaction and repair take them from there.
                for id in dropped { try await blocking { try self.store.sealBlock(id) } }
                if let b = taken { return AllocateBlockResponse(block: b.id, generation: b.generation, pipeline: b.pipeline) }
            }
        }
        let pipeline = cluster.choosePipeline(count: r.replication, exclude: exclude)
        guard pipeline.count == r.replication else {
            if let why = cluster.checkSafeMode().reason {
                // Just restarted: the datanodes re-register within a heartbeat or two.
                throw HFSError(.unavailable, "\(Limits.safeModeRefusalPrefix)\(why); \(cluster.shortfall(count: r.replication, exclude: exclude))")
            }
            throw HFSError(.unavailable, cluster.shortfall(count: r.replication, exclude: exclude))
        }
        let now = Date().timeIntervalSince1970
        let created = try await blocking { try self.store.createBlock(kind: r.kind, replication: r.replication, now: now) }
        if r.kind == .packed {
            cluster.addPacked(.init(id: created.id, generation: created.generation, pipeline: pipeline), replication: r.replication)
        }
        return AllocateBlockResponse(block: created.id, generation: created.generation, pipeline: pipeline)
    }

    func locations(_ p: HFSPath) async throws -> FileLocations {
        try await locations([p])[0]
    }

    /// Files' extents with their readable replicas, in each block's read order (``Placement/readOrder(block:replicas:)``).
    func locations(_ paths: [HFSPath]) async throws -> [FileLocations] {
        let files = try await blocking { try self.store.locations(paths) }
        let readable = cluster.readableNodes()
        return files.map { r in
            let extents = r.extents.map { e in
                ExtentLocation(extent: e.extent, generation: e.generation,
                               replicas: Placement.readOrder(block: e.extent.block, replicas: e.replicaNodes.compactMap { readable[$0] }))
            }
            return FileLocations(status: r.status, extents: extents)
        }
    }

    func report() async throws -> ReportResponse {
        let counts = try await blocking { try self.store.replicaCounts() }
        let nodes = cluster.snapshot().map { e in
            DatanodeReport(id: e.node.info.id, address: e.node.info.address, rack: e.node.info.rack, state: e.state.rawValue,
                           adminState: cluster.adminState(e.node).rawValue,
                           capacityBytes: e.node.capacityBytes, usedBytes: e.node.usedBytes,
                           blocks: counts[e.node.info.id] ?? 0, lastHeartbeatSeconds: e.age)
        }
        return ReportResponse(datanodes: nodes, safeMode: cluster.checkSafeMode().reason)
    }

    /// `hfs admin decommission|recommission ID`: stored first (so it survives a restart), then
    /// applied in memory; open packed blocks written through the node are sealed.
    func setDecommissioning(_ id: String, _ on: Bool) async throws -> AdminNodeResponse {
        try await blocking { try self.store.setDecommissioning(id, on) }
        let toSeal = cluster.setDecommissioning(id, on)
        for block in toSeal { try await blocking { try self.store.sealBlock(block) } }
        logger.info("datanode \(id): \(on ? "decommissioning" : "recommissioned")")
        let node = cluster.snapshot().first { $0.node.info.id == id }?.node
        return AdminNodeResponse(id: id, adminState: node.map(cluster.adminState) ?? (on ? .decommissioning : .normal))
    }

    func fsck(_ p: HFSPath) async throws -> FsckResponse {
        let scan = try await blocking { try self.store.fsckScan(p) }
        // Healthy means on live nodes: a stale node's replicas are still read, not counted here.
        // A block is at its replication thanks to decommissioning nodes only: counted apart, healthy.
        let readable = cluster.liveNodes()
        let leaving = cluster.decommissioningNodes()
        var replicas: Int64 = 0, under: Int64 = 0, missing: Int64 = 0, corrupt: Int64 = 0, decommissioning: Int64 = 0
        var problems: [String] = []
        for b in scan.blocks {
            let live = Set(b.replicaNodes.filter { readable[$0] != nil })
            replicas += Int64(live.count)
            if live.count >= b.replication && live.subtracting(leaving).count < b.replication { decommissioning += 1 }
            if !b.corruptNodes.isEmpty {
                corrupt += 1
                if problems.count < 100 { problems.append("block \(b.block): corrupt replica on \(b.corruptNodes.joined(separator: ","))") }
            }
            if !b.staleNodes.isEmpty, problems.count < 100 {
                problems.append("block \(b.block): stale replica (missed appends) on \(b.staleNodes.joined(separator: ","))")
            }
            if live.isEmpty {
                missing += 1
                if problems.count < 100 { problems.append("block \(b.block): MISSING (no live replica)") }
            } else if live.count < b.replication {
                under += 1
                if problems.count < 100 { problems.append("block \(b.block): under-replicated \(live.count)/\(b.replication) on \(live.sorted().joined(separator: ","))") }
            }
        }
        return FsckResponse(path: p.description, files: scan.files, directories: scan.directories, blocks: Int64(scan.blocks.count),
                            replicas: replicas, underReplicated: under, missing: missing, corrupt: corrupt, decommissioning: decommissioning,
                            healthy: under == 0 && missing == 0 && corrupt == 0, problems: problems, safeMode: cluster.checkSafeMode().reason)
    }

    /// A datanode's capacity and usage as it reports them: 0...``Limits/byteCountMax`` each.
    static func checkSpace(_ capacity: Int64, _ used: Int64) throws {
        guard Limits.byteCounts.contains(capacity), Limits.byteCounts.contains(used) else {
            throw HFSError.invalid("capacity and used bytes must be 0...\(Limits.byteCountMax), not \(capacity) and \(used)")
        }
    }
}
