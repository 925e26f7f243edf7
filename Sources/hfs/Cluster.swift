import ArgumentParser
import Foundation
import HFSClient
import HFSCore

struct Cluster: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a whole local cluster from a cluster.yaml.",
        subcommands: [Up.self, Down.self])

    struct Up: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Start the namenode and every datanode as child processes and supervise them.",
            discussion: """
            Ctrl-C or SIGTERM stops them all. A child that dies is restarted after a second. \
            With --detach the supervisor runs in the background (log and pid file beside the \
            namenode's metadata) and the command returns once every datanode is live; \
            `hfs cluster down` stops it.
            """)
        @Option(name: .long, help: "cluster.yaml (default: $HFS_CONFIG, else ./cluster.yaml).") var config: String?
        @Flag(name: .long, help: "Run in the background; return once all datanodes are live.") var detach = false

        func run() async throws {
            let path = try configPath(config)
            let cfg = try ClusterConfig.load(path: path)
            if detach {
                try await Supervisor.detach(config: cfg)
            } else {
                try Supervisor(config: cfg).run()
            }
        }
    }

    struct Down: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop a cluster started with `hfs cluster up --detach`.")
        @Option(name: .long, help: "cluster.yaml (default: $HFS_CONFIG, else ./cluster.yaml).") var config: String?

        func run() async throws {
            let cfg = try ClusterConfig.load(path: try configPath(config))
            try Supervisor.stopDetached(config: cfg)
        }
    }
}

func configPath(_ given: String?) throws -> String {
    let path = given ?? ProcessInfo.processInfo.environment["HFS_CONFIG"].flatMap { $0.isEmpty ? nil : $0 } ?? "cluster.yaml"
    guard FileManager.default.fileExists(atPath: path) else { throw HFSError(.config, "no cluster config at \(path)") }
    return URL(fileURLWithPath: path).standardizedFileURL.path
}

/// Starts and watches the daemons of one cluster.yaml.
final class Supervisor {
    struct Child {
        var name: String
        var arguments: [String]
        var process: Process?
        var restarts: [Date] = []
    }

    let config: ClusterConfig
    var children: [Child] = []
    let executable = Supervisor.selfExecutable()

    init(config: ClusterConfig) {
        self.config = config
        let me = "\(getpid())"
        children.append(Child(name: "namenode", arguments: ["namenode", "--config", config.sourcePath, "--supervisor-pid", me]))
        for d in config.datanodes {
            children.append(Child(name: d.id, arguments: ["datanode", "--config", config.sourcePath, "--id", d.id, "--supervisor-pid", me]))
        }
    }

    static func selfExecutable() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    static func pidFile(_ c: ClusterConfig) -> String { (c.metadataPath as NSString).deletingLastPathComponent + "/cluster.pid" }
    static func logFile(_ c: ClusterConfig) -> String { (c.metadataPath as NSString).deletingLastPathComponent + "/cluster.log" }

    /// Foreground supervision until SIGINT or SIGTERM.
    func run() throws {
        try FileManager.default.createDirectory(atPath: (config.metadataPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let stop = NSCondition()
        nonisolated(unsafe) var stopping = false
        var sources: [DispatchSourceSignal] = []
        for sig in [SIGINT, SIGTERM] {
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            s.setEventHandler { stop.lock(); stopping = true; stop.signal(); stop.unlock() }
            s.resume()
            sources.append(s)
        }
        log("starting namenode on \(config.namenodeAddress) and \(config.datanodes.count) datanode(s)")
        try start(0)
        guard waitForNamenode(seconds: 30) else {
            shutdown()
            let status = children[0].process.map { $0.isRunning ? "still not listening after 30 s" : "exited with status \($0.terminationStatus)" } ?? ""
            throw HFSError(.unavailable, "the namenode \(status) (is \(config.namenodeAddress) already in use?)")
        }
        for i in 1..<children.count { try start(i) }
        while true {
            stop.lock()
            if !stopping { _ = stop.wait(until: Date().addingTimeInterval(0.25)) }
            let done = stopping
            stop.unlock()
            if done { break }
            for i in children.indices where children[i].process?.isRunning == false {
                let status = children[i].process!.terminationStatus
                let recent = children[i].restarts.filter { $0 > Date().addingTimeInterval(-60) }
                if recent.count >= 5 {
                    log("\(children[i].name) exited with status \(status) 5 times in a minute; not restarting it")
                    children[i].process = nil
                    continue
                }
                log("\(children[i].name) exited with status \(status); restarting in 1 s")
                Thread.sleep(forTimeInterval: 1)
                children[i].restarts = recent + [Date()]
                try? start(i)
            }
        }
        log("stopping")
        shutdown()
        _ = sources
    }

    private func start(_ i: Int) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = children[i].arguments
        do { try p.run() } catch { throw HFSError(.io, "cannot start \(children[i].name): \(error.localizedDescription)") }
        children[i].process = p
    }

    /// True once the namenode accepts connections; false if it exits or the time runs out.
    /// True once the namenode we started answers HTTP; false when it exits or the time runs out.
    /// A bare TCP connect is not enough: another program may own the port (then our namenode
    /// exits on its bind error, however long it takes to get there).
    private func waitForNamenode(seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if children[0].process?.isRunning != true { return false }
            if namenodeAnswers() { return children[0].process?.isRunning == true }
            usleep(100_000)
        }
        return false
    }

    /// One `GET /api/v1/cluster/info` over a plain socket with a 1 s timeout: true on a 200 answer.
    private func namenodeAnswers() -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(config.namenodeAddress.port).bigEndian)
        inet_pton(AF_INET, config.namenodeAddress.host == "localhost" ? "127.0.0.1" : config.namenodeAddress.host, &addr.sin_addr)
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
        guard connected else { return false }
        let request = Array("GET /api/v1/cluster/info HTTP/1.1\r\nHost: \(config.namenodeAddress)\r\nConnection: close\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == request.count else { return false }
        var head = [UInt8](repeating: 0, count: 12)
        let n = head.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_WAITALL)) }
        return n == 12 && String(decoding: head, as: UTF8.self).hasPrefix("HTTP/1.1 200")
    }

    /// SIGTERM to every child, then SIGKILL to those still running after 10 s.
    func shutdown() {
        for c in children.reversed() { c.process.map { if $0.isRunning { kill($0.processIdentifier, SIGTERM) } } }
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, children.contains(where: { $0.process?.isRunning == true }) { usleep(50_000) }
        for c in children { c.process.map { if $0.isRunning { kill($0.processIdentifier, SIGKILL) } } }
    }

    private func log(_ s: String) {
        FileHandle.standardError.write(Data("hfs cluster: \(s)\n".utf8))
    }

    // MARK: detached

    static func detach(config: ClusterConfig) async throws {
        let pidPath = pidFile(config)
        if let pid = runningPid(pidPath) { throw HFSError(.alreadyExists, "a cluster for \(config.sourcePath) is already running (pid \(pid))") }
        try FileManager.default.createDirectory(atPath: (pidPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: logFile(config), contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logFile(config)))
        log.seekToEndOfFile()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: selfExecutable())
        p.arguments = ["cluster", "up", "--config", config.sourcePath]
        p.standardOutput = log
        p.standardError = log
        p.standardInput = FileHandle.nullDevice
        try p.run()
        try "\(p.processIdentifier)\n".write(toFile: pidPath, atomically: true, encoding: .utf8)
        let client = HFSClient(namenode: config.namenodeAddress)
        defer { Task { await client.shutdown() } }
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if !p.isRunning { throw HFSError(.unavailable, "the cluster exited (status \(p.terminationStatus)); see \(logFile(config))") }
            if let r = try? await client.report(), r.datanodes.filter({ $0.state == "live" }).count >= config.datanodes.count {
                await client.shutdown()
                out("cluster up: namenode \(config.namenodeAddress), \(config.datanodes.count) datanode(s) live; log \(logFile(config)); stop with: hfs cluster down --config \(config.sourcePath)")
                return
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        kill(p.processIdentifier, SIGTERM)
        throw HFSError(.unavailable, "the cluster did not become live within 60 s; see \(logFile(config))")
    }

    static func runningPid(_ pidPath: String) -> Int32? {
        guard let text = try? String(contentsOfFile: pidPath, encoding: .utf8),
              let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), kill(pid, 0) == 0 else { return nil }
        return pid
    }

    static func stopDetached(config: ClusterConfig) throws {
        let pidPath = pidFile(config)
        guard let pid = runningPid(pidPath) else {
            try? FileManager.default.removeItem(atPath: pidPath)
            throw HFSError.notFound("no detached cluster is running for \(config.sourcePath)")
        }
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline, kill(pid, 0) == 0 { usleep(100_000) }
        if kill(pid, 0) == 0 { kill(pid, SIGKILL) }
        try? FileManager.default.removeItem(atPath: pidPath)
        out("cluster down: stopped \(config.sourcePath)")
    }
}
