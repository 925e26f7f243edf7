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
        /// Being decommissioned (stored in the database): no new blocks, its replicas do not
        /// count toward a block's replication, but it still serves reads and copies.
        var decommissioning = false
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
        /// Decommissioning nodes every block of which has its replication on other nodes, as
        /// the last replication round found them.
        var decommissioned: Set<String> = []
        /// Nil once the namenode has left safe mode (it never goes back).
        var safeMode: SafeModePolicy?
        /// Nodes that registered during safe mode holding blocks the namenode does not want:
        /// asked to register again (and so to have them deleted) once safe mode is over.
        var withheldDeletes: Set<String> = []
    }

    let policy: LivenessPolicy
    /// Bytes of a new block: a node with less free space than ``Placement/reserveBytes(capacityBytes:blockSizeBytes:)``
    /// takes no new block.
    let blockSizeBytes: Int64
    private let state: NIOLockedValueBox<State>
    private let start = ContinuousClock.now

    init(policy: LivenessPolicy, blockSizeBytes: Int64, safeMode: SafeModePolicy?) {
        self.policy = policy
        self.blockSizeBytes = blockSizeBytes
        var s = State()
        s.safeMode = safeMode
        self.state = NIOLockedValueBox(s)
    }

    func now() -> Double {
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }

    /// A node known from the database but not heard from since this process started.
    func seedKnown(_ info: DatanodeInfo, capacityBytes: Int64, usedBytes: Int64, decommissioning: Bool) {
        state.withLockedValue { s in
            s.nodes[info.id] = Node(info: info, capacityBytes: capacityBytes, usedBytes: usedBytes, blockCount: 0, lastHeartbeat: nil,
                                    decommissioning: decommissioning)
        }
    }

    /// A registration (full block report). `unwanted`: it holds blocks the namenode would have
    /// it delete. Returns whether they may be deleted now (false in safe mode: they are then
    /// deleted when it registers again after safe mode).
    func register(_ r: RegisterRequest, unwanted: Bool) -> Bool {
        let t = now()
        return state.withLockedValue { s in
            s.nodes[r.node.id] = Node(info: r.node, capacityBytes: r.capacityBytes, usedBytes: r.usedBytes,
                                      blockCount: r.blocks.count, lastHeartbeat: t,
                                      decommissioning: s.nodes[r.node.id]?.decommissioning ?? false)
            return !unwanted || mayDelete(unwantedOn: r.node.id, in: &s)
        }
    }

    /// Starts or ends a decommission in memory (the database holds it across restarts). Open
    /// packed blocks with the node in their pipeline stop taking batches; their ids are returned
    /// to be sealed.
    func setDecommissioning(_ id: String, _ on: Bool) -> [Int64] {
        state.withLockedValue { s in
            s.nodes[id]?.decommissioning = on
            if !on { s.decommissioned.remove(id) }
            guard on else { return [] }
            var sealed: [Int64] = []
            for k in s.packed.keys {
                s.packed[k]?.removeAll { b in
                    let hit = b.pipeline.contains { $0.id == id }
                    if hit { sealed.append(b.id) }
                    return hit
                }
            }
            return sealed
        }
    }

    func decommissioningNodes() -> Set<String> {
        state.withLockedValue { s in Set(s.nodes.values.filter(\.decommissioning).map(\.info.id)) }
    }

    /// Set by each replication round: which decommissioning nodes hold nothing that is not
    /// fully replicated elsewhere.
    func setDecommissioned(_ ids: Set<String>) {
        state.withLockedValue { s in s.decommissioned = ids.filter { s.nodes[$0]?.decommissioning == true } }
    }

    func adminState(_ n: Node) -> AdminState {
        guard n.decommissioning else { return .normal }
        return state.withLockedValue { $0.decommissioned.contains(n.info.id) } ? .decommissioned : .decommissioning
    }

    // MARK: safe mode

    /// Why the namenode is still in safe mode, or nil; with `leave`, leaves it (for good) once
    /// the policy says so, returning the nodes that will be asked to register again.
    func checkSafeMode(leave: Bool = false) -> (reason: String?, reregister: Set<String>) {
        let t = now()
        return state.withLockedValue { s in
            guard let policy = s.safeMode else { return (nil, []) }
            let registered = Set(s.nodes.values.filter { $0.lastHeartbeat != nil }.map(\.info.id))
            let reason = policy.reason(secondsSinceStart: t, registered: registered)
            if reason != nil || !leave { return (reason, []) }
            s.safeMode = nil
            return (nil, s.withheldDeletes)
        }
    }

    var inSafeMode: Bool { state.withLockedValue { $0.safeMode != nil } }

    /// Whether blocks `id` reported that the namenode does not want may be deleted now; in safe
    /// mode they are kept and `id` is asked for a full report once it is over.
    func mayDelete(unwantedOn id: String) -> Bool {
        state.withLockedValue { mayDelete(unwantedOn: id, in: &$0) }
    }

    private func mayDelete(unwantedOn id: String, in s: inout State) -> Bool {
        if s.safeMode == nil { return true }
        s.withheldDeletes.insert(id)
        return false
    }

    /// True (once) when `id` registered during safe mode with blocks to delete and safe mode is
    /// over: it should register again.
    func takeReregister(_ id: String) -> Bool {
        state.withLockedValue { s in s.safeMode == nil && s.withheldDeletes.remove(id) != nil }
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
                    .filter { nodeState($0, at: t) == wanted && !exclude.contains($0.info.id) && !$0.decommissioning && hasRoom($0) }
                    .sorted { $0.info.id < $1.info.id }
                    .map { Placement.Candidate(node: $0.info, freeBytes: freeBytes($0)) }
            }
            var chosen = Placement.choose(count: count, from: candidates(.live), using: &s.rng)
            if chosen.count < count {
                chosen += Placement.choose(count: count - chosen.count, from: candidates(.stale), using: &s.rng)
            }
            return chosen
        }
    }

    func freeBytes(_ n: Node) -> Int64 { max(n.capacityBytes - n.usedBytes, 0) }

    func reserveBytes(_ n: Node) -> Int64 { Placement.reserveBytes(capacityBytes: n.capacityBytes, blockSizeBytes: blockSizeBytes) }

    /// Free space at or above the reserve: the node may take a new block.
    func hasRoom(_ n: Node) -> Bool { freeBytes(n) >= reserveBytes(n) }

    /// Why fewer than `count` nodes outside `exclude` can take a new block, in one line.
    func shortfall(count: Int, exclude: Set<String>) -> String {
        let t = now()
        return state.withLockedValue { s in
            let nodes = s.nodes.values.sorted { $0.info.id < $1.info.id }
            let usable = nodes.filter { nodeState($0, at: t) != .dead }
            let full = usable.filter { !hasRoom($0) && !$0.decommissioning }
            let decommissioning = usable.filter(\.decommissioning)
            let excluded = usable.filter { exclude.contains($0.info.id) }
            var parts = ["\(usable.count) of \(nodes.count) datanode(s) live"]
            if !full.isEmpty {
                parts.append("full (free space below the reserve): " + full.map { "\($0.info.id) \(Units.human(freeBytes($0))) free" }.joined(separator: ", "))
            }
            if !decommissioning.isEmpty { parts.append("decommissioning: " + decommissioning.map(\.info.id).joined(separator: ", ")) }
            if !excluded.isEmpty { parts.append("failed during this write: " + excluded.map(\.info.id).joined(separator: ", ")) }
            let noSpace = !full.isEmpty && usable.count - full.count - decommissioning.count < count
            return (noSpace ? "no space left: " : "") + "cannot place \(count) replica(s): " + parts.joined(separator: "; ")
        }
    }

    /// An open packed block for `replication` whose whole pipeline is live and outside `exclude`,
    /// round-robin so that concurrent writers spread over primaries. Blocks whose pipeline holds
    /// a node that is no longer live or has no room leave the pool for good: their ids come back
    /// in `dropped`, to be sealed. Blocks only this writer excludes stay for the others.
    func takePacked(replication: Int, exclude: Set<String>) -> (block: OpenBlock?, dropped: [Int64]) {
        let live = Set(liveNodes().keys)
        return state.withLockedValue { s in
            var dropped: [Int64] = []
            let pool = (s.packed[replication] ?? []).filter { b in
                let usable = b.pipeline.allSatisfy { live.contains($0.id) && s.nodes[$0.id].map(hasRoom) != false }
                if !usable { dropped.append(b.id) }
                return usable
            }
            s.packed[replication] = pool
            let mine = pool.filter { b in !b.pipeline.contains { exclude.contains($0.id) } }
            guard !mine.isEmpty else { return (nil, dropped) }
            s.nextPacked &+= 1
            return (mine[s.nextPacked % mine.count], dropped)
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
        let decommissioning = decommissioningNodes().sorted().joined(separator: ",")
        let t = now()
        return state.withLockedValue { s in "\(readable)|\(decommissioning)|\(s.damageEvents)|\(s.copying.values.filter { $0 > t }.count)" }
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

    /// Takes block `id` out of the open packed blocks; false when it was not among them.
    @discardableResult
    func removePacked(_ id: Int64) -> Bool {
        state.withLockedValue { s in
            var removed = false
            for k in s.packed.keys {
                let before = s.packed[k]?.count ?? 0
                s.packed[k]?.removeAll { $0.id == id }
                removed = removed || (s.packed[k]?.count ?? 0) < before
            }
            return removed
        }
    }
}
