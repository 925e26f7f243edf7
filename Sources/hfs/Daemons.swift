import ArgumentParser
import Foundation
import HFSCore
import HFSDatanode
import HFSNamenode
import Logging

/// Options of a daemon started from a cluster.yaml.
struct DaemonOptions: ParsableArguments {
    @Option(name: .long, help: "cluster.yaml (default: $HFS_CONFIG, else ./cluster.yaml).") var config: String?
    @Option(name: .long, help: .hidden) var supervisorPid: Int32?

    func load() throws -> ClusterConfig {
        let path = config ?? ProcessInfo.processInfo.environment["HFS_CONFIG"].flatMap { $0.isEmpty ? nil : $0 } ?? "cluster.yaml"
        return try ClusterConfig.load(path: path)
    }

    /// A daemon started by `hfs cluster up` exits when its supervisor is gone (even after kill -9).
    func watchSupervisor() {
        guard let pid = supervisorPid else { return }
        Thread.detachNewThread {
            while true {
                if getppid() != pid { Foundation.exit(0) }
                usleep(250_000)
            }
        }
    }
}

func bootstrapLogging(_ label: String) -> Logger {
    LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
    var logger = Logger(label: label)
    logger.logLevel = ProcessInfo.processInfo.environment["HFS_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
    return logger
}

struct NamenodeDaemon: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "namenode", abstract: "Run the namenode of a cluster.yaml.")
    @OptionGroup var options: DaemonOptions

    func run() async throws {
        let config = try options.load()
        options.watchSupervisor()
        let node = try Namenode(config: config, logger: bootstrapLogging("hfs.namenode"))
        try await node.run()
    }
}

struct DatanodeDaemon: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "datanode", abstract: "Run one datanode of a cluster.yaml.")
    @OptionGroup var options: DaemonOptions
    @Option(name: .long, help: "The datanode's id in cluster.yaml.") var id: String

    func run() async throws {
        let config = try options.load()
        options.watchSupervisor()
        let node = try Datanode(config: config, id: id, logger: bootstrapLogging("hfs.datanode.\(id)"))
        try await node.run()
    }
}
