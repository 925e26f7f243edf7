import AsyncHTTPClient
import Foundation
import HFSCore
import NIOCore
import Testing

extension ClusterTests {
    /// Requests with values no hfs process sends (sizes past 2^53, negative capacities) are refused
    /// with 400, and the namenode goes on serving: such values used to reach arithmetic that trapped.
    @Suite("malformed requests")
    struct MalformedRequests {
        func post(_ c: TestCluster, _ route: String, _ json: String) async throws -> (Int, String) {
            var req = HTTPClientRequest(url: "http://127.0.0.1:\(c.namenodePort)/api/v1/\(route)")
            req.method = .POST
            req.headers.add(name: "content-type", value: "application/json")
            req.body = .bytes(ByteBuffer(string: json))
            let r = try await HTTPClient.shared.execute(req, timeout: .seconds(30))
            return (Int(r.status.code), String(buffer: try await r.body.collect(upTo: 1 << 20)))
        }

        @Test("huge sizes in a commit and impossible capacities in a registration are refused")
        func refused() async throws {
            let c = try currentCluster()
            try await waitForLive(c, 3)
            let commit = #"""
                {"files":{"path":["/malformed"],"size":[1],"storedSize":[4611686018427387904],"replication":[2],"codec":["none"],\#
                "mtime":[0],"extentCount":[0],"block":[],"offset":[],"storedLength":[],"logicalLength":[]},\#
                "acks":[],"overwrite":false,"owner":"x"}
                """#
            let (status, body) = try await post(c, "fs/commit", commit)
            #expect(status == 400, "\(body)")
            for (capacity, used) in [("9223372036854775807", "-1"), ("-9223372036854775808", "1")] {
                let register = #"{"node":{"id":"ghost","address":"127.0.0.1:1","rack":"/r9"},"capacityBytes":\#(capacity),"usedBytes":\#(used),"blocks":[]}"#
                let (s, b) = try await post(c, "datanodes/register", register)
                #expect(s == 400, "register with capacity \(capacity), used \(used): \(b)")
            }
            // The namenode still answers, and no file or node came of it.
            try await c.ok(["du", "-s", "/"])
            let stat = try await c.run(["stat", "/malformed"])
            #expect(stat.status != 0, "\(stat)")
            let report = try await c.ok(["report", "--json"])
            #expect(!String(decoding: report.stdout, as: UTF8.self).contains("ghost"))
            #expect(c.crashInLog() == nil, "\(c.crashInLog() ?? "")")
        }
    }
}
