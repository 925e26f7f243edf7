import Foundation
import HFSCore
import Testing

// Clean errors for bad input, and what report and fsck say about a healthy cluster.
extension ClusterTests {
    @Suite("errors")
    struct Errors {
        @Test("bad remote paths are refused with one error line",
              arguments: ["/a/../b", "/a/./b", "rel/path", "/a\u{1}b", "/\(String(repeating: "n", count: 300))"])
        func badPath(_ path: String) async throws {
            let c = try currentCluster()
            let dir = try c.localDir("badpath")
            try TestData.write(Data("x".utf8), to: dir.appendingPathComponent("one"))
            let shown = HFSPath.printable(path)
            expectCleanError(try await c.run(["put", dir.appendingPathComponent("one").path, path]), "put to '\(shown)'")
            expectCleanError(try await c.run(["ls", path]), "ls '\(shown)'")
            expectCleanError(try await c.run(["mkdir", "-p", path]), "mkdir -p '\(shown)'")
        }

        @Test("missing remote files give one error line and write nothing")
        func missing() async throws {
            let c = try currentCluster()
            let dir = try c.localDir("missing")
            let out = dir.appendingPathComponent("nope")
            expectCleanError(try await c.run(["get", "/nope", out.path]), "get /nope")
            #expect(!FileManager.default.fileExists(atPath: out.path), "a failed get left \(out.path)")
            expectCleanError(try await c.run(["cat", "/nope"]), "cat /nope")
            expectCleanError(try await c.run(["mv", "/nope", "/nope2"]), "mv /nope")
        }

        @Test("put of a missing local file gives one error line")
        func missingLocal() async throws {
            let c = try currentCluster()
            expectCleanError(try await c.run(["put", "/definitely/not/here.bin", "/x"]), "put of a missing local file")
        }
    }

    @Suite("report and fsck")
    struct Health {
        @Test("report --json: 3 live datanodes with their address, rack, capacity and usage")
        func report() async throws {
            let c = try currentCluster()
            let r = try await c.ok(["report", "--json"])
            let report = try JSONDecoder().decode(ReportResponse.self, from: r.stdout)
            #expect(report.datanodes.count == 3)
            #expect(Set(report.datanodes.map(\.id)) == Set(c.datanodes.map(\.id)))
            for n in c.datanodes {
                guard let d = report.datanodes.first(where: { $0.id == n.id }) else { continue }
                #expect(d.state == "live", "\(n.id) is \(d.state)")
                #expect(d.address == n.address)
                #expect(d.rack == n.rack)
                #expect(d.capacityBytes > 0, "\(n.id) capacity \(d.capacityBytes)")
                #expect(d.usedBytes >= 0 && d.usedBytes <= d.capacityBytes, "\(n.id) used \(d.usedBytes) of \(d.capacityBytes)")
                if let s = d.lastHeartbeatSeconds { #expect(s >= 0 && s < 10, "\(n.id) last heard \(s) s ago (heartbeat every 1 s)") }
            }
            let text = try await c.ok(["report"]).stdoutText
            for n in c.datanodes { #expect(text.contains(n.id), "report does not mention \(n.id): \(text)") }
        }

        @Test("fsck / is healthy: exit 0, and --json says so")
        func fsck() async throws {
            let c = try currentCluster()
            try await c.ok(["mkdir", "-p", "/fsck"])
            try await c.ok(["put", "-", "/fsck/f"], stdin: TestData.random(1_500_000, seed: 51))
            try await c.ok(["fsck", "/"])
            let r = try await c.ok(["fsck", "--json", "/"])
            let f = try JSONDecoder().decode(FsckResponse.self, from: r.stdout)
            #expect(f.healthy, "problems: \(f.problems)")
            #expect(f.underReplicated == 0)
            #expect(f.missing == 0)
            #expect(f.corrupt == 0)
            #expect(f.files >= 1 && f.blocks >= 1)
            #expect(f.replicas >= 2 * f.blocks, "\(f.replicas) replicas for \(f.blocks) blocks at replication ≥ 2")
            let sub = try JSONDecoder().decode(FsckResponse.self, from: try await c.ok(["fsck", "--json", "/fsck"]).stdout)
            #expect(sub.files == 1 && sub.healthy)
        }
    }
}
