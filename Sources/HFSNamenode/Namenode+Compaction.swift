import Foundation
import HFSCore
import HFSMetadata
import HFSServer
import NIOConcurrencyHelpers

/// What the compaction loop remembers between rounds (soft state: a restarted namenode starts
/// afresh, and only waits a little longer).
final class CompactionTracker: Sendable {
    struct Job: Sendable {
        var plan: CompactionPlan
        var source: String
        var deadline: Double
    }
    private struct State {
        /// When a block was first seen as compactable or unreferenced: it is acted on only one
        /// interval later, so that a batch appended just before its block was sealed can commit.
        var firstSeen: [Int64: Double] = [:]
        /// Compactions under way, by old block.
        var running: [Int64: Job] = [:]
        /// Old blocks of finished compactions: their replicas are kept until then, so that reads
        /// that found them before the switch still succeed.
        var held: [Int64: Double] = [:]
    }
    private let state = NIOLockedValueBox(State())

    /// Those of `ids` first seen at least `age` seconds before `now`; remembers the new ones.
    func ripe(_ ids: [Int64], now: Double, age: Double) -> [Int64] {
        state.withLockedValue { s in
            var out: [Int64] = []
            for id in ids {
                if let t = s.firstSeen[id] { if now - t >= age { out.append(id) } } else { s.firstSeen[id] = now }
            }
            return out
        }
    }

    /// Forgets first sightings of blocks not in `seen` (no longer compactable or unreferenced).
    func prune(keeping seen: Set<Int64>) {
        state.withLockedValue { s in s.firstSeen = s.firstSeen.filter { seen.contains($0.key) } }
    }

    var runningBlocks: Set<Int64> { state.withLockedValue { Set($0.running.keys) } }

    func start(_ old: Int64, _ job: Job) { state.withLockedValue { $0.running[old] = job } }

    /// Removes and returns the job of `old` when it is the one for `newBlock`.
    func finish(_ old: Int64, newBlock: Int64) -> Job? {
        state.withLockedValue { s in
            guard let job = s.running[old], job.plan.newBlock == newBlock else { return nil }
            s.running[old] = nil
            s.firstSeen[old] = nil
            return job
        }
    }

    /// Removes and returns the jobs past their deadline.
    func expired(now: Double) -> [(old: Int64, job: Job)] {
        state.withLockedValue { s in
            let gone = s.running.filter { $0.value.deadline < now }.map { (old: $0.key, job: $0.value) }
            for g in gone { s.running[g.old] = nil }
            return gone
        }
    }

    func hold(_ block: Int64, until t: Double) { state.withLockedValue { $0.held[block] = t } }

    /// A compaction of `block` was refused: it is planned again only after a full interval
    /// more, as if first seen now (no busy loop on a block that keeps conflicting).
    func retryLater(_ block: Int64, now: Double) { state.withLockedValue { $0.firstSeen[block] = now } }

    /// Blocks whose replicas must not be deleted yet at `now` (expired holds are dropped).
    func heldBlocks(now: Double) -> Set<Int64> {
        state.withLockedValue { s in
            s.held = s.held.filter { $0.value > now }
            return Set(s.held.keys)
        }
    }
}

/// Compaction: packed blocks whose files were mostly deleted are rewritten without the dead
/// bytes. The namenode picks a block, a datanode holding a good replica copies the live ranges
/// into a new block through an ordinary write pipeline (every frame verified on the way) and
/// reports back; one transaction then moves every extent to the new block and retires the old
/// one, whose replicas are deleted one interval later. Blocks that no file references (all
/// their files deleted, or a put that never committed) are retired directly.
extension Namenode {
    func compactionLoop() async {
        let interval = config.compactionIntervalSeconds
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(Int64(interval * 1000)))
            guard !cluster.inSafeMode else { continue }
            do { try await compactionRound() } catch {
                logger.warning("compaction round failed: \(error)")
            }
        }
    }

    func compactionRound() async throws {
        let interval = config.compactionIntervalSeconds
        let now = cluster.now()
        for (old, job) in compaction.expired(now: now) {
            logger.warning("compaction of block \(old) on \(job.source) did not answer in time; dropping block \(job.plan.newBlock)")
            _ = try await blocking { try self.store.retireUnreferenced([job.plan.newBlock]) }
        }
        let wall = Date().timeIntervalSince1970
        let unreferenced = try await blocking {
            try self.store.unreferencedBlocks(uncommittedBefore: wall - Limits.uncommittedBlockAgeSecondsMin)
        }
        let ripeUnreferenced = compaction.ripe(unreferenced, now: now, age: interval)
        if !ripeUnreferenced.isEmpty {
            let retired = try await blocking { try self.store.retireUnreferenced(ripeUnreferenced) }
            if !retired.isEmpty { logger.info("retired \(retired.count) block(s) no file references") }
        }

        let running = compaction.runningBlocks
        let candidates = try await blocking {
            try self.store.compactionCandidates(threshold: self.config.compactionThreshold, excluding: running, limit: 64)
        }
        let ripe = Set(compaction.ripe(candidates.map(\.block), now: now, age: interval))
        compaction.prune(keeping: Set(unreferenced + candidates.map(\.block)))
        let live = cluster.liveNodes()
        let leaving = cluster.decommissioningNodes()
        var started = running.count
        for c in candidates where ripe.contains(c.block) && started < Limits.compactionsPerRoundMax {
            let holders = try await blocking { try self.store.goodReplicaNodes(of: c.block) }
            guard let source = holders.compactMap({ live[$0] }).first(where: { !leaving.contains($0.id) }) else { continue }
            let others = cluster.choosePipeline(count: c.replication - 1, exclude: [source.id])
            guard others.count == c.replication - 1 else { continue }
            let created = try await blocking { try self.store.createBlock(kind: .packed, replication: c.replication, now: wall) }
            let plan = CompactionPlan(newBlock: created.id, ranges: c.live)
            compaction.start(c.block, .init(plan: plan, source: source.id, deadline: now + Limits.compactionTimeoutSeconds))
            cluster.enqueue(DatanodeCommand(kind: .compact, blocks: [c.block], targets: [source] + others, compaction: plan), for: source.id)
            started += 1
            logger.info("compacting block \(c.block) (\(c.liveBytes) of \(c.length) bytes live) into block \(created.id) on \(([source] + others).map(\.id).joined(separator: ","))")
        }
    }

    /// `POST blocks/compacted`: the source datanode's answer.
    func compacted(_ r: CompactedRequest) async throws {
        // The plan is the one this namenode made, not what the request says it was.
        guard let plan = compaction.finish(r.block, newBlock: r.plan.newBlock)?.plan else {
            // Unknown, expired or from a previous run. The new block is not retired here (the
            // request could name any block, an upload in flight too): a block no file references
            // is retired once it is old enough (Limits.uncommittedBlockAgeSecondsMin).
            throw HFSError(.conflict, "no compaction of block \(r.block) into \(r.plan.newBlock) is under way")
        }
        guard let ack = r.ack, r.error == nil else {
            logger.warning("compaction of block \(r.block) failed: \(r.error ?? "no acknowledgement")")
            compaction.retryLater(r.block, now: cluster.now())
            _ = try await blocking { try self.store.retireUnreferenced([plan.newBlock]) }
            return
        }
        do {
            try await blocking { try self.store.switchCompacted(old: r.block, plan: plan, ack: ack) }
        } catch {
            logger.warning("compaction of block \(r.block) not applied: \(error)")
            compaction.retryLater(r.block, now: cluster.now())
            _ = try await blocking { try self.store.retireUnreferenced([plan.newBlock]) }
            throw error
        }
        compaction.hold(r.block, until: cluster.now() + config.compactionIntervalSeconds)
        cluster.noteDamage()  // the new block may have fewer replicas than wanted: let replication look
        logger.info("block \(r.block) compacted into block \(plan.newBlock) (\(ack.storedLength) bytes on \(ack.nodes.joined(separator: ",")))")
    }
}
