import Foundation
import HFSCore
import Testing

/// A restarted namenode decides nothing until the datanodes have reported: no storm of copies
/// for blocks whose replicas simply were not reported yet.
@Suite("safe mode", .serialized, .hfsCluster(separateDaemons: true, .init(deadNodeTimeout: "12s")), .timeLimit(.minutes(3)))
struct SafeModeTests {
    @Test("after a restart with one datanode down, no copy is made until safe mode ends; then the node's blocks are repaired")
    func restartWithADatanodeDown() async throws {
        let c = try currentCluster()
        try await waitForLive(c, 3)
        let dir = try c.localDir("safemode")
        let big = TestData.random(6_500_000, seed: 800)  // 7 blocks: some surely on dn1
        try TestData.write(big, to: dir.appendingPathComponent("big.bin"))
        try await c.ok(["put", dir.appendingPathComponent("big.bin").path, "/big.bin"])
        try await waitFor("fsck healthy before", seconds: 20) { try await c.fsck().1 == 0 }
        let survivors = [c.node("dn2"), c.node("dn3")]
        let before = survivors.map { c.blockIdsOnDisk($0) }

        c.kill9("namenode")
        c.kill9("dn1")
        let restarted = Date()
        try c.restart("namenode")
        try await waitFor("namenode back with dn2 and dn3 registered", seconds: 20) {
            guard let r = try await c.reportIfUp() else { return false }
            return r.datanodes.filter { $0.state == "live" }.count == 2
        }
        let report = try await c.report()
        let why = try #require(report.safeMode, "no safe mode right after a restart with dn1 down")
        #expect(why.contains("2 of 3") && why.contains("dn1"), "\(why)")
        #expect(try await c.ok(["report"]).lines.first?.hasPrefix("safe mode: ") == true)
        #expect(try await c.run(["fsck", "/"]).stdoutText.contains("safe mode: "))

        // While in safe mode (up to 12 s), dn1 counts as dead yet nothing is copied. The disks
        // are looked at before each report: a report still in safe mode proves they were looked
        // at in safe mode (it is never entered again).
        var lastSeenInSafeMode = restarted
        while true {
            let disks = survivors.map { c.blockIdsOnDisk($0) }
            guard try await c.report().safeMode != nil else { break }
            lastSeenInSafeMode = Date()
            #expect(disks == before, "a copy was made in safe mode")
            try await Task.sleep(for: .milliseconds(500))
        }
        #expect(lastSeenInSafeMode.timeIntervalSince(restarted) >= 6,
                "safe mode ended \(Int(lastSeenInSafeMode.timeIntervalSince(restarted))) s after the restart")

        // Then the namenode acts: dn1's blocks are copied back to 2 replicas on dn2 and dn3.
        try await waitFor("fsck healthy after safe mode", seconds: 40) { try await c.fsck().1 == 0 }
        for b in try await c.blocks("/big.bin").blocks { #expect(b.holders == ["dn2", "dn3"], "block \(b.block) on \(b.holders.sorted())") }
        try await c.expectCat("/big.bin", big)

        // A restart with every datanode up leaves safe mode as soon as all have reported.
        try c.restart("dn1")
        try await waitForLive(c, 3)
        c.kill9("namenode")
        try c.restart("namenode")
        try await waitFor("out of safe mode with all datanodes reported", seconds: 15) {
            guard let r = try await c.reportIfUp() else { return false }
            return r.safeMode == nil && r.datanodes.filter { $0.state == "live" }.count == 3
        }
    }
}
