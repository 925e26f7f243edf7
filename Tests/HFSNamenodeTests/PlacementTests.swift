import HFSCore
@testable import HFSNamenode
import Testing
import HFSTestSupport

@Suite struct PlacementTests {
    func node(_ id: String, _ rack: String, free: Int64 = 100 << 30) -> Placement.Candidate {
        .init(node: DatanodeInfo(id: id, address: "127.0.0.1:1", rack: rack), freeBytes: free)
    }

    @Test func distinctNodesSpreadOverRacks() {
        var rng = SeededRandom(seed: 1)
        let nodes = [node("a", "/r1"), node("b", "/r1"), node("c", "/r2")]
        for _ in 0..<500 {
            let p = Placement.choose(count: 2, from: nodes, using: &rng)
            #expect(p.count == 2)
            #expect(Set(p.map(\.id)).count == 2)
            #expect(Set(p.map(\.rack)).count == 2, "two replicas on one rack: \(p.map(\.id))")
        }
    }

    @Test func moreReplicasThanRacksStillDistinct() {
        var rng = SeededRandom(seed: 2)
        let nodes = [node("a", "/r1"), node("b", "/r1"), node("c", "/r2"), node("d", "/r2")]
        let p = Placement.choose(count: 4, from: nodes, using: &rng)
        #expect(Set(p.map(\.id)) == ["a", "b", "c", "d"])
        #expect(Set(p.prefix(2).map(\.rack)).count == 2)
    }

    @Test func fewerCandidatesThanReplicas() {
        var rng = SeededRandom(seed: 3)
        #expect(Placement.choose(count: 3, from: [node("a", "/r1")], using: &rng).map(\.id) == ["a"])
        #expect(Placement.choose(count: 2, from: [], using: &rng).isEmpty)
    }

    @Test func fullNodesAreNeverChosen() {
        var rng = SeededRandom(seed: 4)
        let nodes = [node("a", "/r1", free: 0), node("b", "/r2"), node("c", "/r2")]
        for _ in 0..<200 {
            #expect(!Placement.choose(count: 2, from: nodes, using: &rng).map(\.id).contains("a"))
        }
    }

    @Test func weightedByFreeSpace() {
        var rng = SeededRandom(seed: 5)
        let nodes = [node("big", "/r1", free: 900 << 30), node("small", "/r1", free: 100 << 30)]
        var big = 0
        let rounds = 2000
        for _ in 0..<rounds where Placement.choose(count: 1, from: nodes, using: &rng).first?.id == "big" { big += 1 }
        // Expected 90%; allow sampling noise.
        #expect(big > rounds * 85 / 100 && big < rounds * 95 / 100, "big chosen \(big)/\(rounds)")
    }
}

@Suite struct ExcessReplicaTests {
    func info(_ id: String, _ rack: String) -> DatanodeInfo { DatanodeInfo(id: id, address: "127.0.0.1:1", rack: rack) }

    @Test func keepsRacksSpread() {
        let replicas = [info("a", "/r1"), info("b", "/r1"), info("c", "/r2")]
        let removed = Placement.excess(replicas, keep: 2)
        #expect(removed.map(\.id) == ["b"])  // /r1 held two: one of them goes, the highest id
    }

    @Test func removesDownToKeep() {
        let replicas = [info("a", "/r1"), info("b", "/r2"), info("c", "/r3"), info("d", "/r1")]
        let removed = Placement.excess(replicas, keep: 2)
        #expect(removed.count == 2)
        let kept = Set(replicas.map(\.id)).subtracting(removed.map(\.id))
        #expect(Set(replicas.filter { kept.contains($0.id) }.map(\.rack)).count == 2, "kept \(kept.sorted())")
        #expect(Placement.excess(replicas, keep: 4).isEmpty)
        #expect(Placement.excess(replicas, keep: 9).isEmpty)
    }
}

@Suite struct LivenessTests {
    let policy = LivenessPolicy(heartbeatIntervalSeconds: 3, deadNodeTimeoutSeconds: 30)

    @Test func statesByAge() {
        #expect(policy.state(secondsSinceHeartbeat: 0) == .live)
        #expect(policy.state(secondsSinceHeartbeat: 5.9) == .live)
        #expect(policy.state(secondsSinceHeartbeat: 6) == .stale)
        #expect(policy.state(secondsSinceHeartbeat: 29.9) == .stale)
        #expect(policy.state(secondsSinceHeartbeat: 30) == .dead)
        #expect(policy.state(secondsSinceHeartbeat: nil) == .dead)
    }

    @Test func shortTimeoutSkipsStale() {
        let p = LivenessPolicy(heartbeatIntervalSeconds: 1, deadNodeTimeoutSeconds: 2)
        #expect(p.state(secondsSinceHeartbeat: 1.9) == .live)
        #expect(p.state(secondsSinceHeartbeat: 2) == .dead)
    }
}

@Suite struct ReadOrderTests {
    let nodes = ["dn1", "dn2", "dn3"].map { DatanodeInfo(id: $0, address: "127.0.0.1:1", rack: "/r1") }

    @Test func sameOrderWhateverTheInputOrder() {
        for block in Int64(1)...300 {
            let order = Placement.readOrder(block: block, replicas: nodes)
            #expect(Set(order.map(\.id)) == Set(nodes.map(\.id)), "block \(block): \(order.map(\.id))")
            #expect(Placement.readOrder(block: block, replicas: nodes.reversed()) == order)
            #expect(Placement.readOrder(block: block, replicas: [nodes[1], nodes[2], nodes[0]]) == order)
        }
    }

    /// Rendezvous hashing: a node that stops being readable leaves the others in their order, so
    /// the blocks it did not serve first keep being read where they are cached.
    @Test func aNodeLeavingKeepsTheOthersOrder() {
        for block in Int64(1)...300 {
            let all = Placement.readOrder(block: block, replicas: nodes)
            let without = Placement.readOrder(block: block, replicas: nodes.filter { $0.id != "dn2" })
            #expect(without == all.filter { $0.id != "dn2" }, "block \(block)")
        }
    }

    @Test func blocksSpreadOverTheNodes() {
        var first: [String: Int] = [:]
        for block in Int64(1)...3_000 { first[Placement.readOrder(block: block, replicas: nodes)[0].id, default: 0] += 1 }
        // 1,000 each expected (sd ~26).
        for n in nodes { #expect((850...1_150).contains(first[n.id, default: 0]), "\(n.id) first for \(first[n.id, default: 0]) of 3,000 blocks") }
    }

    /// The same ranks in every process and after a restart (Swift's `Hasher` is seeded per process).
    @Test func ranksAreFixedValues() {
        #expect(Placement.readRank(block: 1, node: "dn1") == 3_257_780_861_765_894_402)
        #expect(Placement.readRank(block: 42, node: "dn2") == 3_956_579_411_884_491_437)
    }
}
