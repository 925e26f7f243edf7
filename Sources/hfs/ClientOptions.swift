import ArgumentParser
import Foundation
import HFSClient
import HFSCore

/// How a client command finds the namenode.
struct ClientOptions: ParsableArguments {
    @Option(name: .long, help: "Namenode address HOST:PORT (else $HFS_NAMENODE, --config, $HFS_CONFIG, ./cluster.yaml).")
    var namenode: String?

    @Option(name: .long, help: "cluster.yaml to read the namenode address from.")
    var config: String?

    func resolveNamenode() throws -> HostPort {
        let env = ProcessInfo.processInfo.environment
        if let s = namenode ?? env["HFS_NAMENODE"].flatMap({ $0.isEmpty ? nil : $0 }) {
            guard let hp = HostPort(s) else { throw HFSError.invalid("namenode address '\(s)' is not HOST:PORT") }
            return hp
        }
        if let path = config ?? env["HFS_CONFIG"].flatMap({ $0.isEmpty ? nil : $0 }) {
            return try ClusterConfig.load(path: path).namenodeAddress
        }
        if FileManager.default.fileExists(atPath: "cluster.yaml") {
            return try ClusterConfig.load(path: "cluster.yaml").namenodeAddress
        }
        throw HFSError.invalid("no namenode given: use --namenode HOST:PORT, $HFS_NAMENODE, --config FILE, $HFS_CONFIG or ./cluster.yaml")
    }

    /// Runs `body` with a connected client and always shuts it down.
    func withClient<T>(_ body: (HFSClient) async throws -> T) async throws -> T {
        let client = HFSClient(namenode: try resolveNamenode())
        do {
            let r = try await body(client)
            await client.shutdown()
            return r
        } catch {
            await client.shutdown()
            throw error
        }
    }
}

func remotePath(_ raw: String) throws -> HFSPath { try HFSPath(raw) }

/// `--codec` and `--replication` of the commands that write.
func validateWriteOptions(codec: String?, replication: Int?) throws {
    if let codec, CodecPolicy(rawValue: codec) == nil { throw ValidationError("--codec must be auto, none, lz4 or zlib") }
    if let replication, !(1...Limits.replicationMax).contains(replication) {
        throw ValidationError("--replication must be in 1...\(Limits.replicationMax)")
    }
}

/// Prints a line to stdout (buffered by Foundation's FileHandle: use for small outputs).
func out(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
