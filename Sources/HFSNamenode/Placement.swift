import HFSCore

/// Chooses the datanodes of a new block's pipeline: distinct nodes, spread over racks, weighted
/// by free space, never a node that is not live. Pure: the random source is injected.
public enum Placement {
    public struct Candidate: Sendable, Equatable {
        public var node: DatanodeInfo
        public var freeBytes: Int64
        public init(node: DatanodeInfo, freeBytes: Int64) { self.node = node; self.freeBytes = freeBytes }
    }

    /// Picks up to `count` nodes. The first is drawn weighted by free space; each next one
    /// prefers a rack not used yet (then any rack), again weighted by free space.
    /// Returns fewer than `count` only when fewer candidates exist.
    public static func choose<R: RandomNumberGenerator>(count: Int, from candidates: [Candidate], using rng: inout R) -> [DatanodeInfo] {
        var pool = candidates.filter { $0.freeBytes > 0 }
        var chosen: [DatanodeInfo] = []
        var racks = Set<String>()
        while chosen.count < count, !pool.isEmpty {
            let fresh = pool.indices.filter { !racks.contains(pool[$0].node.rack) }
            let from = fresh.isEmpty ? Array(pool.indices) : fresh
            let i = weightedPick(from, weights: from.map { pool[$0].freeBytes }, using: &rng)
            chosen.append(pool[i].node)
            racks.insert(pool[i].node.rack)
            pool.remove(at: i)
        }
        return chosen
    }

    /// The order in which readers try a block's replicas: by a hash of the block and each
    /// datanode's id (rendezvous hashing), the same for every reader and across restarts. A block
    /// is then read from one replica while that one stays readable, so only one node's page cache
    /// holds it (Ceph reads a placement group from its primary for the same reason; random order
    /// would cache every block on all its nodes, or read from disk what another node has cached),
    /// and the blocks of a file still spread evenly over the nodes holding them.
    public static func readOrder(block: Int64, replicas: [DatanodeInfo]) -> [DatanodeInfo] {
        replicas.map { ($0, readRank(block: block, node: $0.id)) }
            .sorted { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0.id < $1.0.id }
            .map(\.0)
    }

    /// FNV-1a of the node id mixed with the block id by SplitMix64's finalizer: stable, unlike
    /// Swift's per-process seeded `Hasher`.
    static func readRank(block: Int64, node: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in node.utf8 { h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        var z = h ^ (UInt64(bitPattern: block) &* 0x9e37_79b9_7f4a_7c15)
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// Free space a datanode keeps: below it the node takes no new block. One `block_size` (a
    /// block allocated to it can then be filled) or 1% of its capacity, whichever is larger (room
    /// for the file system itself and for the metadata of what it holds). HDFS's equivalent,
    /// `dfs.datanode.du.reserved`, is a fixed setting; this follows the node's size.
    public static func reserveBytes(capacityBytes: Int64, blockSizeBytes: Int64) -> Int64 {
        max(blockSizeBytes, capacityBytes / 100)
    }

    private static func weightedPick<R: RandomNumberGenerator>(_ indices: [Int], weights: [Int64], using rng: inout R) -> Int {
        // Weights in MiB keep the sum far from overflow; every candidate keeps a chance.
        let w = weights.map { max(UInt64($0 >> 20), 1) }
        let total = w.reduce(0, +)
        var r = UInt64.random(in: 0..<total, using: &rng)
        for (k, weight) in w.enumerated() {
            if r < weight { return indices[k] }
            r -= weight
        }
        return indices[indices.count - 1]
    }

    /// Which replicas to remove so that `keep` remain, keeping them spread over as many racks
    /// as possible: each removal comes from the rack holding the most replicas (the highest id
    /// among equals, so the choice is repeatable).
    public static func excess(_ replicas: [DatanodeInfo], keep: Int) -> [DatanodeInfo] {
        var remaining = replicas.sorted { $0.id < $1.id }
        var removed: [DatanodeInfo] = []
        while remaining.count > max(keep, 0) {
            var perRack: [String: Int] = [:]
            for r in remaining { perRack[r.rack, default: 0] += 1 }
            let crowded = perRack.values.max() ?? 0
            let i = remaining.lastIndex { perRack[$0.rack] == crowded }!
            removed.append(remaining.remove(at: i))
        }
        return removed
    }
}
