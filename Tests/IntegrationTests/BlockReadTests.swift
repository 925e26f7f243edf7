import AsyncHTTPClient
import Foundation
import HFSCore
import NIOCore
import Testing

extension ClusterTests {
    /// A datanode's block reads (`GET /api/v1/blocks/ID?offset=&length=`), sent with sendfile
    /// from the block file: the exact bytes of the file on disk, only the headers HTTP needs,
    /// several answers on one kept-alive connection, and clear refusals.
    @Suite("block reads")
    struct BlockReads {
        @Test("a datanode serves byte ranges of a block file as they are on its disk")
        func ranges() async throws {
            let c = try currentCluster()
            let dir = try c.localDir("ranges")
            let data = TestData.random(700_000, seed: 47)
            try TestData.write(data, to: dir.appendingPathComponent("r.bin"))
            try await c.ok(["put", "--codec", "none", dir.appendingPathComponent("r.bin").path, "/ranges.bin"])
            let block = try #require(try await c.blocks("/ranges.bin").blocks.first)
            let node = c.node(block.replicas[0].id)
            let onDisk = [UInt8](try Data(contentsOf: c.dataDir(node).appendingPathComponent("blocks/blk_\(block.block)")))
            try #require(onDisk.count >= data.count)
            let url = "http://\(node.address)/api/v1/blocks/\(block.block)"
            for (offset, length) in [(0, onDisk.count), (100, 1_000), (onDisk.count - 1, 1), (5, 0), (4_096, 300_000)] {
                let r = try await HTTPClient.shared.execute(HTTPClientRequest(url: "\(url)?offset=\(offset)&length=\(length)"), timeout: .seconds(30))
                #expect(r.status == .ok)
                #expect(r.headers["content-length"] == ["\(length)"])
                #expect(r.headers["x-hfs-file-body"].isEmpty, "the datanode's private header went out")
                let body = try await r.body.collect(upTo: 4 << 20)
                #expect([UInt8](body.readableBytesView) == Array(onDisk[offset..<offset + length]), "range \(offset)+\(length)")
            }
            // No range: the whole block.
            let whole = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(30))
            #expect(whole.status == .ok)
            #expect([UInt8](try await whole.body.collect(upTo: 4 << 20).readableBytesView) == onDisk)
            // Outside the block, and a block the node does not have.
            let outside = try await HTTPClient.shared.execute(HTTPClientRequest(url: "\(url)?offset=\(onDisk.count)&length=1"), timeout: .seconds(30))
            #expect(outside.status.code == 409)
            // A range whose end does not fit in 64 bits is refused, not a crash of the datanode.
            for query in ["offset=1&length=9223372036854775807", "offset=9223372036854775807&length=9223372036854775807"] {
                let huge = try await HTTPClient.shared.execute(HTTPClientRequest(url: "\(url)?\(query)"), timeout: .seconds(30))
                #expect(huge.status.code == 409, "\(query)")
            }
            // The same for a compute request naming such an extent, or a negative size.
            for (size, offset) in [(10, "9223372036854775807"), (-1, "0")] {
                var req = HTTPClientRequest(url: "http://\(node.address)/api/v1/compute")
                req.method = .POST
                req.body = .bytes(ByteBuffer(string: """
                    {"hook":"stats","params":{},"files":[{"path":"/x","size":\(size),"extents":[{"block":\(block.block),\
                    "offset":\(offset),"storedLength":9223372036854775807,"logicalLength":10}]}]}
                    """))
                let r = try await HTTPClient.shared.execute(req, timeout: .seconds(30))
                let body = String(buffer: try await r.body.collect(upTo: 1 << 20))
                #expect(r.status.code == 400 || body.contains("error"), "size \(size), offset \(offset): \(r.status) \(body)")
            }
            let health = try await HTTPClient.shared.execute(HTTPClientRequest(url: "http://\(node.address)/api/v1/health"), timeout: .seconds(30))
            #expect(health.status == .ok, "the datanode stopped answering after malformed ranges")
            let missing = try await HTTPClient.shared.execute(HTTPClientRequest(url: "http://\(node.address)/api/v1/blocks/987654321"), timeout: .seconds(30))
            #expect(missing.status.code == 404)
            #expect(c.crashInLog() == nil, "\(c.crashInLog() ?? "")")
        }
    }
}
