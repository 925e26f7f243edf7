import Foundation
import HFSCore
import Testing

/// What `stat --json` says of a file's blocks.
struct StatBlocks: Decodable {
    struct Block: Decodable {
        struct Replica: Decodable { var id: String }
        var block: Int64
        var offset: Int64
        var storedLength: Int64
        var replicas: [Replica]
        var holders: Set<String> { Set(replicas.map(\.id)) }
    }
    var blocks: [Block]
}

extension TestCluster {
    func report() async throws -> ReportResponse {
        try JSONDecoder().decode(ReportResponse.self, from: try await ok(["report", "--json"]).stdout)
    }

    /// `report --json`, or nil while the namenode does not answer (it is restarting).
    func reportIfUp() async throws -> ReportResponse? {
        try? JSONDecoder().decode(ReportResponse.self, from: try await run(["report", "--json"]).stdout)
    }

    /// `fsck --json PATH` and its exit status.
    func fsck(_ path: String = "/") async throws -> (FsckResponse, Int32) {
        let r = try await run(["fsck", "--json", path])
        return (try JSONDecoder().decode(FsckResponse.self, from: r.stdout), r.status)
    }

    func blocks(_ path: String) async throws -> StatBlocks {
        try JSONDecoder().decode(StatBlocks.self, from: try await ok(["stat", "--json", path]).stdout)
    }

    func node(_ id: String) -> Node { datanodes.first { $0.id == id }! }

    /// Writes `data` to a local file in `dir` named after `remote` and puts it there; returns
    /// the file's blocks as `stat` sees them.
    @discardableResult
    func put(_ data: Data, as remote: String, in dir: URL, timeoutSeconds: Double = 180,
             sourceLocation: SourceLocation = #_sourceLocation) async throws -> StatBlocks {
        let local = dir.appendingPathComponent((remote as NSString).lastPathComponent)
        try TestData.write(data, to: local)
        try await ok(["put", local.path, remote], timeoutSeconds: timeoutSeconds, sourceLocation: sourceLocation)
        return try await blocks(remote)
    }
}
