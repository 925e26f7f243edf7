import ArgumentParser
import HFSClient
import HFSCore

/// `hfs admin ...`: operator commands that change the cluster rather than files.
struct Admin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Operator commands: decommission and recommission datanodes.",
        subcommands: [Decommission.self, Recommission.self])

    struct Decommission: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move a datanode's replicas elsewhere before it is stopped.",
            discussion: """
            The node takes no new blocks; the namenode copies each of its blocks to other nodes \
            (it still serves reads and copies meanwhile). `hfs report` shows it decommissioning, \
            then decommissioned once every block it holds has its replication elsewhere: it can \
            then be stopped with no under-replicated block. Survives a namenode restart.
            """)
        @OptionGroup var client: ClientOptions
        @Argument(help: "The datanode's id (as in cluster.yaml and hfs report).") var id: String

        func run() async throws {
            let r = try await client.withClient { try await $0.decommission(id) }
            out("\(r.id): \(r.adminState.rawValue)")
        }
    }

    struct Recommission: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Return a decommissioning or decommissioned datanode to normal service.",
            discussion: "Replicas that are then surplus are trimmed by the namenode.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "The datanode's id.") var id: String

        func run() async throws {
            let r = try await client.withClient { try await $0.recommission(id) }
            out("\(r.id): \(r.adminState.rawValue)")
        }
    }
}
