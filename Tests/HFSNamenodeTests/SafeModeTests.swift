import HFSCore
@testable import HFSNamenode
import Testing

@Suite struct SafeModeTests {
    let policy = SafeModePolicy(configured: ["dn1", "dn2", "dn3"], maxWaitSeconds: 30)

    @Test func staysUntilEveryConfiguredNodeRegistered() throws {
        let why = try #require(policy.reason(secondsSinceStart: 1, registered: ["dn1", "dn3"]))
        #expect(why.contains("2 of 3") && why.contains("dn2") && why.contains("29 s"), "\(why)")
        #expect(policy.reason(secondsSinceStart: 1, registered: ["dn1", "dn2", "dn3"]) == nil)
        // A node known from the database but not in cluster.yaml any more is not waited for.
        #expect(policy.reason(secondsSinceStart: 1, registered: ["dn1", "dn2", "dn3", "old"]) == nil)
    }

    @Test func leavesAtTheLatestAfterTheMaxWait() {
        #expect(policy.reason(secondsSinceStart: 29.9, registered: []) != nil)
        #expect(policy.reason(secondsSinceStart: 30, registered: []) == nil)
    }

    @Test func reserveIsABlockOrOnePercent() {
        #expect(Placement.reserveBytes(capacityBytes: 10 << 20, blockSizeBytes: 1 << 20) == 1 << 20)
        #expect(Placement.reserveBytes(capacityBytes: 1 << 40, blockSizeBytes: 64 << 20) == (1 << 40) / 100)
    }
}

@Suite struct ClusterStateTests {
    func state() -> ClusterState {
        ClusterState(policy: LivenessPolicy(heartbeatIntervalSeconds: 3, deadNodeTimeoutSeconds: 30), blockSizeBytes: 1 << 20, safeMode: nil)
    }
    func register(_ c: ClusterState, _ id: String, rack: String, capacity: Int64 = 100 << 30, used: Int64 = 0) {
        _ = c.register(RegisterRequest(node: DatanodeInfo(id: id, address: "127.0.0.1:1", rack: rack), capacityBytes: capacity,
                                       usedBytes: used, blocks: []), unwanted: false)
    }

    @Test func decommissioningAndFullNodesTakeNoNewBlocks() {
        let c = state()
        register(c, "a", rack: "/r1")
        register(c, "b", rack: "/r2")
        register(c, "full", rack: "/r3", capacity: 10 << 20, used: (10 << 20) - (512 << 10))
        for _ in 0..<50 { #expect(!c.choosePipeline(count: 3, exclude: []).map(\.id).contains("full")) }
        #expect(c.shortfall(count: 3, exclude: []).contains("no space left"))
        #expect(c.shortfall(count: 3, exclude: []).contains("full"))
        _ = c.setDecommissioning("a", true)
        #expect(c.choosePipeline(count: 3, exclude: []).map(\.id) == ["b"])
        #expect(c.shortfall(count: 2, exclude: []).contains("decommissioning: a"))
        #expect(c.adminState(c.snapshot()[0].node) == .decommissioning)
        c.setDecommissioned(["a", "b"])  // only a decommissioning node can be decommissioned
        #expect(c.snapshot().map { c.adminState($0.node) } == [.decommissioned, .normal, .normal])
        _ = c.setDecommissioning("a", false)
        #expect(c.adminState(c.snapshot()[0].node) == .normal)
        #expect(Set(c.choosePipeline(count: 2, exclude: []).map(\.id)) == ["a", "b"])
    }

    @Test func safeModeWithholdsDeletesUntilTheNodeReportsAgain() {
        let c = ClusterState(policy: LivenessPolicy(heartbeatIntervalSeconds: 3, deadNodeTimeoutSeconds: 30), blockSizeBytes: 1 << 20,
                             safeMode: SafeModePolicy(configured: ["a", "b"], maxWaitSeconds: 30))
        let info = DatanodeInfo(id: "a", address: "127.0.0.1:1", rack: "/r1")
        #expect(!c.register(RegisterRequest(node: info, capacityBytes: 1 << 30, usedBytes: 0, blocks: []), unwanted: true))
        #expect(c.checkSafeMode(leave: true).reason != nil)
        #expect(!c.takeReregister("a"))
        register(c, "b", rack: "/r2")
        #expect(c.checkSafeMode(leave: true) == (nil, ["a"]))
        #expect(c.takeReregister("a"))
        #expect(!c.takeReregister("a"))
        #expect(c.register(RegisterRequest(node: info, capacityBytes: 1 << 30, usedBytes: 0, blocks: []), unwanted: true))
    }
}
