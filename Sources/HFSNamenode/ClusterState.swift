import Foundation
import HFSCore
import NIOConcurrencyHelpers

/// What the namenode knows of its datanodes in memory: last heartbeat, capacity and usage, and
/// the pool of open packed blocks with their pipelines. Soft state: rebuilt from registrations
/// and heartbeats after a restart.
final class ClusterState: Sendable {
    struct Node: Sendable {
        var info: DatanodeInfo
        var capacityBytes: Int64
        var usedBytes: Int64
        var blockCount: Int
        /// Monotonic seconds of the last heartbeat in this process; nil until the node registers.
        var lastHeartbeat: Double?
    }
    struct OpenBlock: Sendable {
        var id: Int64
        var generation: Int64
        var pipeline: [DatanodeInfo]
    }
    private struct State {
        var nodes: [String: Node] = [:]
        /// Commands waiting for a node's next heartbeat.
        var commands: [String: [DatanodeCommand]] = [:]
        /// Blocks being copied, with the time after which a copy may be asked for again.
        var copying: [Int64: Double] = [:]
        /// Bumped by every event that can leave a block short of replicas (a corrupt replica
        /// reported, a file committed with fewer acknowledgements than asked).
        var damageEvents = 0
        var packed: [Int: [OpenBlock]] = [:]
        var nextPacked = 0
        var rng = SystemRandomNumberGenerator()
    }

    let policy: LivenessPolicy
    private let state = NIOLockedValueBox(State())
    private let start = ContinuousClock.now

    init(policy: LivenessPolicy) { self.policy = policy }

    func now() -> Double {
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }

    /// A node known from the database but not heard from since this process started.
    func seedKnown(_ info: DatanodeInfo, capacityBytes: Int64, usedBytes: Int64) {
        state.withLockedValue { s in
            s.nodes[info.id] = Node(info: info, capacityBytes: capacityBytes, usedBytes: usedBytes, blockCount: 0, lastHeartbeat: nil)
        }
    }

    func register(_ r: RegisterRequest) {
        let t = now()
        state.withLockedValue { s in
            s.nodes[r.node.id] = Node(info: r.node, capacityBytes: r.capacityBytes, usedBytes: r.usedBytes,
                                      blockCount: r.blocks.count, lastHeartbeat: t)
        }
    }

    /// Records a heartbeat; false when the node must register first.
    func heartbeat(_ h: HeartbeatRequest) -> Bool {
        let t = now()
        return state.withLockedValue { s in
            guard var n = s.nodes[h.id], n.lastHeartbeat != nil else { return false }
            n.capacityBytes = h.capacityBytes
            n.usedBytes = h.usedBytes
            n.blockCount = h.blockCount
            n.lastHeartbeat = t
            s.nodes[h.id] = n
            return true
        }
    }

    func nodeState(_ n: Node, at t: Double) -> NodeState {
        policy.state(secondsSinceHeartbeat: n.lastHeartbeat.map { t - $0 })
    }

    func snapshot() -> [(node: Node, state: NodeState, age: Double?)] {
        let t = now()
        return state.withLockedValue { s in
            s.nodes.values.sorted { $0.info.id < $1.info.id }.map { ($0, nodeState($0, at: t), $0.lastHeartbeat.map { t - $0 }) }
        }
    }

    /// Node ids that count as holding replicas (live or stale).
    func readableNodes() -> [String: DatanodeInfo] {
        var out: [String: DatanodeInfo] = [:]
        for e in snapshot() where e.state != .dead { out[e.node.info.id] = e.node.info }
        return out
    }

    func liveNodes() -> [String: DatanodeInfo] {
        var out: [String: DatanodeInfo] = [:]
        for e in snapshot() where e.state == .live { out[e.node.info.id] = e.node.info }
        return out
    }

    /// A pipeline of `count` nodes not in `exclude`: live ones, then stale ones if too few are
    /// live (a node that is merely slow to heartbeat still takes writes then), never dead ones.
    func choosePipeline(count: Int, exclude: Set<String>) -> [DatanodeInfo] {
        let t = now()
        return state.withLockedValue { s in
            func candidates(_ wanted: NodeState) -> [Placement.Candidate] {
                s.nodes.values
                    .filter { nodeState($0, at: t) == wanted && !exclude.contains($0.info.id) }
                    .sorted { $0.info.id < $1.info.id }
                    .map { Placement.Candidate(node: $0.info, freeBytes: max($0.capacityBytes - $0.usedBytes, 0)) }
            }
            var chosen = Placement.choose(count: count, from: candidates(.live), using: &s.rng)
            if chosen.count < count {
                chosen += Placement.choose(count: count - chosen.count, from: candidates(.stale), using: &s.rng)
            }
            return chosen
        }
    }

    /// An open packed block for `replication` whose whole pipeline is live and outside `exclude`,
    /// round-robin so that concurrent writers spread over primaries.
    func takePacked(replication: Int, exclude: Set<String>) -> OpenBlock? {
        let live = Set(liveNodes().keys)
        return state.withLockedValue { s in
            let pool = (s.packed[replication] ?? []).filter { b in b.pipeline.allSatisfy { live.contains($0.id) && !exclude.contains($0.id) } }
            s.packed[replication] = pool
            guard !pool.isEmpty else { return nil }
            s.nextPacked &+= 1
            return pool[s.nextPacked % pool.count]
        }
    }

    func enqueue(_ command: DatanodeCommand, for node: String) {
        state.withLockedValue { $0.commands[node, default: []].append(command) }
    }

    /// The commands queued for `node`, removed from the queue.
    func takeCommands(for node: String) -> [DatanodeCommand] {
        state.withLockedValue { $0.commands.removeValue(forKey: node) ?? [] }
    }

    /// True (and the block marked) unless a copy of it is already under way.
    func startCopy(_ block: Int64, timeoutSeconds: Double) -> Bool {
        let t = now()
        return state.withLockedValue { s in
            if let until = s.copying[block], until > t { return false }
            s.copying[block] = t + timeoutSeconds
            return true
        }
    }

    func noteDamage() { state.withLockedValue { $0.damageEvents += 1 } }

    /// What the replication round looks at to decide whether a full scan can change anything:
    /// which nodes are readable, damage reported, copies under way.
    func replicationFingerprint() -> String {
        let readable = readableNodes().keys.sorted().joined(separator: ",")
        let t = now()
        return state.withLockedValue { s in "\(readable)|\(s.damageEvents)|\(s.copying.values.filter { $0 > t }.count)" }
    }

    func endCopy(_ block: Int64) { _ = state.withLockedValue { $0.copying.removeValue(forKey: block) } }

    /// The open packed block `id`, if it is still taking appends.
    func openPacked(_ id: Int64) -> OpenBlock? {
        state.withLockedValue { s in s.packed.values.lazy.flatMap { $0 }.first { $0.id == id } }
    }

    func packedCount(replication: Int) -> Int { state.withLockedValue { $0.packed[replication]?.count ?? 0 } }

    func addPacked(_ b: OpenBlock, replication: Int) {
        state.withLockedValue { $0.packed[replication, default: []].append(b) }
    }

    func removePacked(_ id: Int64) {
        state.withLockedValue { s in
            for k in s.packed.keys { s.packed[k]?.removeAll { $0.id == id } }
        }
    }
}
