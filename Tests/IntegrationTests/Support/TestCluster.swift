#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import HFSCore
import Testing

/// A real local hfs cluster for integration tests: a namenode and 3 datanodes started by
/// `hfs cluster up` as a child process, on free ports of 127.0.0.1, in a fresh temp folder.
///
/// Layout of ``root``: `cluster.yaml`, `cluster.log` (the daemons' output), `nn/` (metadata),
/// `dn1`…`dn3` (data dirs), `local/<name>/` (per-test local files, see ``localDir(_:)``).
/// Clients find the cluster through `$HFS_CONFIG` (set for every ``run(_:stdin:timeoutSeconds:)``).
final class TestCluster: @unchecked Sendable {
    // @unchecked: `process` is touched only by start() and stop(), which the suite scope calls
    // one after the other; everything else is immutable.

    struct Node: Sendable {
        var id: String
        var port: Int
        var rack: String
        var address: String { "127.0.0.1:\(port)" }
    }

    static let replication = 2
    static let blockSizeBytes = 1 << 20
    static let datanodeCount = 3
    static let liveWaitSeconds = 120.0
    static let stopGraceSeconds = 15.0

    /// The cluster of the suite being run (see ``ClusterTrait``).
    @TaskLocal static var current: TestCluster?

    let root: URL
    let configPath: String
    let namenodePort: Int
    let datanodes: [Node]
    let hfs: HFSExecutable
    /// Started as separate `hfs namenode` / `hfs datanode` processes (so a test can kill one
    /// for good) rather than supervised by `hfs cluster up` (which restarts what dies).
    let separateDaemons: Bool
    /// Settings of this suite's cluster beyond the defaults below.
    let tuning: Tuning
    private var process: ChildProcess?
    private var daemons: [String: ChildProcess] = [:]
    private var stopped = false

    /// Extra `cluster:` keys and per-datanode capacities for one suite's cluster.
    struct Tuning: Sendable {
        /// Lines added under `cluster:`, e.g. `["scan_rate: 64MiB"]`.
        var cluster: [String] = []
        /// `capacity` of datanodes by id, e.g. `["dn2": "1600KiB"]`.
        var capacities: [String: String] = [:]
        /// Overrides `dead_node_timeout`.
        var deadNodeTimeout: String?
        /// Overrides `heartbeat_interval` (1s).
        var heartbeatInterval: String?
    }

    private init(root: URL, binary: URL, namenodePort: Int, datanodes: [Node], separateDaemons: Bool, tuning: Tuning) {
        self.separateDaemons = separateDaemons
        self.tuning = tuning
        self.root = root
        self.configPath = root.appendingPathComponent("cluster.yaml").path
        self.namenodePort = namenodePort
        self.datanodes = datanodes
        self.hfs = HFSExecutable(url: binary, scratch: root.appendingPathComponent("scratch"))
    }

    deinit { stop() }

    /// Writes the config, starts `hfs cluster up`, waits until every datanode is live. A port
    /// chosen free may be taken by another process before a daemon binds it (suites run in
    /// parallel): then the whole cluster starts again on new ports, up to 3 times.
    static func start(separateDaemons: Bool = false, tuning: Tuning = Tuning()) async throws -> TestCluster {
        for attempt in 1...3 {
            do {
                return try await startOnce(separateDaemons: separateDaemons, tuning: tuning)
            } catch is PortTaken where attempt < 3 {
                continue
            }
        }
        throw HarnessError("unreachable")
    }

    private struct PortTaken: Error {}

    private static func startOnce(separateDaemons: Bool, tuning: Tuning) async throws -> TestCluster {
        let binary = try HFSExecutable.locate()
        let root = FileManager.default.temporaryDirectory
            .appendingPathComponent("hfs-itest-\(UUID().uuidString.prefix(8))").resolvingSymlinksInPath()
        try FileManager.default.createDirectory(at: root.appendingPathComponent("scratch"), withIntermediateDirectories: true)
        let ports = try freeLoopbackPorts(1 + datanodeCount)
        let nodes = (1...datanodeCount).map { i in Node(id: "dn\(i)", port: ports[i], rack: i % 2 == 1 ? "/r1" : "/r2") }
        let c = TestCluster(root: root, binary: binary, namenodePort: ports[0], datanodes: nodes, separateDaemons: separateDaemons, tuning: tuning)
        try c.configYAML.write(toFile: c.configPath, atomically: true, encoding: .utf8)
        do {
            try c.launch()
            try await c.waitUntilLive()
        } catch {
            let log = c.logTail(lines: 15)
            c.stop()
            c.removeFiles()
            if error is PortTaken { throw error }
            throw HarnessError("\(error)\n--- cluster.log (last lines) ---\n\(log)")
        }
        return c
    }

    var configYAML: String {
        var y = """
        cluster:
          replication: \(Self.replication)
          block_size: 1MiB
          codec: auto
          heartbeat_interval: \(tuning.heartbeatInterval ?? "1s")
          dead_node_timeout: \(tuning.deadNodeTimeout ?? (separateDaemons ? "4s" : "10s"))
        \(tuning.cluster.map { "  " + $0 + "\n" }.joined())namenode:
          address: 127.0.0.1:\(namenodePort)
          metadata: nn/meta.sqlite
        datanodes:

        """
        for n in datanodes {
            let capacity = tuning.capacities[n.id].map { ", capacity: \($0)" } ?? ""
            y += "  - { id: \(n.id), address: \(n.address), data_dir: \(n.id), rack: \(n.rack)\(capacity) }\n"
        }
        // Operator-declared compute hooks (ComputeTests).
        y += """
        hooks:
          - { name: byte-count, command: "wc -c", timeout: 10s }
          - { name: too-slow, command: "sleep 30", timeout: 500ms }
          - { name: same-image, command: "cat", kind: filter }

        """
        return y
    }

    private func launch() throws {
        let log = root.appendingPathComponent("cluster.log").path
        guard separateDaemons else {
            process = try ChildProcess(executable: hfs.url.path, arguments: ["cluster", "up", "--config", configPath],
                                       environment: HFSExecutable.environment([:]), cwd: root.path,
                                       stdin: nil, stdout: log, stderr: log)
            return
        }
        try startDaemon("namenode", ["namenode", "--config", configPath])
        for n in datanodes { try startDaemon(n.id, ["datanode", "--config", configPath, "--id", n.id]) }
    }

    private func startDaemon(_ name: String, _ arguments: [String]) throws {
        let log = root.appendingPathComponent("cluster.log").path
        daemons[name] = try ChildProcess(executable: hfs.url.path, arguments: arguments, environment: HFSExecutable.environment([:]),
                                         cwd: root.path, stdin: nil, stdout: log, stderr: log)
    }

    /// kill -9 of one daemon (`namenode` or a datanode id); only with ``separateDaemons``.
    func kill9(_ name: String) {
        guard let p = daemons.removeValue(forKey: name) else { return }
        kill(p.pid, SIGKILL)
        p.terminate(graceSeconds: 0)
    }

    /// Daemons started separately that are gone although no test killed them, with their exit
    /// status.
    func exitedDaemons() -> [(name: String, status: Int32)] {
        daemons.filter { !$0.value.isRunning }.map { ($0.key, $0.value.exitStatus ?? -1) }.sorted { $0.name < $1.name }
    }

    /// Whether the daemon `name` runs (false after ``kill9(_:)`` until ``restart(_:)``).
    func isRunning(_ name: String) -> Bool { daemons[name]?.isRunning == true }

    /// Starts a daemon again after ``kill9(_:)``.
    func restart(_ name: String) throws {
        try startDaemon(name, name == "namenode" ? ["namenode", "--config", configPath] : ["datanode", "--config", configPath, "--id", name])
    }

    private func waitUntilLive() async throws {
        let deadline = Date().addingTimeInterval(Self.liveWaitSeconds)
        var last = ""
        for _ in 0..<Int(Self.liveWaitSeconds * 2) {
            if Date() >= deadline { break }
            // A port found free may have been taken since by a process of another suite: that
            // daemon exits, and the whole cluster starts again on new ports.
            if logTail(lines: 200).contains("Address already in use") { throw PortTaken() }
            if let p = process, !p.isRunning {
                throw HarnessError("hfs cluster up exited with status \(p.exitStatus ?? -1) before the cluster was live")
            }
            if let (name, p) = daemons.first(where: { !$0.value.isRunning }) {
                throw HarnessError("hfs \(name) exited with status \(p.exitStatus ?? -1) before the cluster was live")
            }
            let r = try await hfs.run(["report", "--json", "--config", configPath], cwd: root, timeoutSeconds: 10)
            if r.status == 0, let report = try? JSONDecoder().decode(ReportResponse.self, from: r.stdout) {
                let live = report.datanodes.filter { $0.state.lowercased() == "live" }.count
                if live >= Self.datanodeCount { return }
                last = "\(live) of \(Self.datanodeCount) datanodes live"
            } else {
                last = "hfs report --json: \(r)"
            }
            try await Task.sleep(for: .milliseconds(500))
        }
        throw HarnessError("cluster not live after \(Int(Self.liveWaitSeconds)) s: \(last)")
    }

    /// SIGTERM to `hfs cluster up`, bounded wait, SIGKILL; then SIGKILL any process still naming
    /// this cluster's config path (daemons that outlived their supervisor). Idempotent.
    func stop() {
        guard !stopped else { return }
        stopped = true
        process?.terminate(graceSeconds: Self.stopGraceSeconds)
        for p in daemons.values { p.terminate(graceSeconds: 2) }
        for pid in pidsWithCommandLine(containing: configPath) { kill(pid, SIGKILL) }
        process = nil
        daemons = [:]
    }

    /// Removes the temp folder unless `HFS_ITEST_KEEP` is set.
    func removeFiles() {
        if ProcessInfo.processInfo.environment["HFS_ITEST_KEEP"] != nil { return }
        try? FileManager.default.removeItem(at: root)
    }

    func logTail(lines: Int) -> String {
        let text = (try? String(contentsOf: root.appendingPathComponent("cluster.log"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }

    /// The first crash a daemon logged (a Swift runtime trap, or `hfs cluster up` reporting a
    /// child that exited on its own) with the lines around it, or nil.
    func crashInLog() -> String? {
        let text = (try? String(contentsOf: root.appendingPathComponent("cluster.log"), encoding: .utf8)) ?? ""
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let marks = ["*** Program crashed", "Fatal error:", "exited with status"]
        guard let i = lines.firstIndex(where: { line in marks.contains { line.contains($0) } }) else { return nil }
        // The crashed thread's frames follow the thread list: keep them when they are there.
        let crashed = lines[i...].firstIndex { $0.contains(" crashed:") } ?? i
        let head = lines[max(0, i - 5)...min(lines.count - 1, i + 3)]
        let frames = crashed > i ? lines[crashed..<min(lines.count, crashed + 25)] : []
        return (head + (frames.isEmpty ? [] : ["..."] + frames)).joined(separator: "\n")
    }

    // MARK: using it

    /// `hfs ARGS` against this cluster (via `$HFS_CONFIG`), run in ``root``.
    func run(_ args: [String], stdin: Data? = nil, stdinPath: String? = nil, env: [String: String] = [:],
             timeoutSeconds: Double = 180) async throws -> CLIResult {
        try await hfs.run(args, stdin: stdin, stdinPath: stdinPath, cwd: root, extraEnv: env.merging(["HFS_CONFIG": configPath]) { $1 },
                          timeoutSeconds: timeoutSeconds)
    }

    /// Like ``run(_:stdin:timeoutSeconds:)``, but records an issue (with the command and its
    /// output) when the command fails.
    @discardableResult
    func ok(_ args: [String], stdin: Data? = nil, timeoutSeconds: Double = 180,
            sourceLocation: SourceLocation = #_sourceLocation) async throws -> CLIResult {
        let r = try await run(args, stdin: stdin, timeoutSeconds: timeoutSeconds)
        #expect(r.status == 0, "hfs \(args.joined(separator: " ")): \(r)", sourceLocation: sourceLocation)
        return r
    }

    /// A fresh, empty local folder `local/<name>` for one test's files.
    func localDir(_ name: String) throws -> URL {
        let u = root.appendingPathComponent("local").appendingPathComponent(name)
        try? FileManager.default.removeItem(at: u)
        try FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
        return u
    }

    func dataDir(_ node: Node) -> URL { root.appendingPathComponent(node.id) }

    /// Block ids that have a block file in `node`'s data dir: files named `blk_<id>`, or
    /// `blk_<id>_…` / `blk_<id>.…` (generation stamps, meta files), anywhere under it.
    func blockIdsOnDisk(_ node: Node) -> Set<Int64> {
        var ids = Set<Int64>()
        guard let e = FileManager.default.enumerator(atPath: dataDir(node).path) else { return ids }
        while let rel = e.nextObject() as? String {
            let name = (rel as NSString).lastPathComponent
            guard name.hasPrefix("blk_") else { continue }
            let digits = name.dropFirst(4).prefix { $0.isNumber }
            if let id = Int64(digits) { ids.insert(id) }
        }
        return ids
    }
}

/// Starts one ``TestCluster`` around a whole suite (its tests and nested suites) and stops it
/// afterwards; tests reach it through ``TestCluster/current``.
struct ClusterTrait: SuiteTrait, TestScoping {
    var separateDaemons = false
    var tuning = TestCluster.Tuning()
    func provideScope(for test: Test, testCase: Test.Case?,
                      performing function: @Sendable () async throws -> Void) async throws {
        await ClusterSlots.shared.acquire()
        defer { Task { await ClusterSlots.shared.release() } }
        let cluster = try await TestCluster.start(separateDaemons: separateDaemons, tuning: tuning)
        defer {
            cluster.stop()
            cluster.removeFiles()
        }
        // A daemon that crashed and was restarted (by `hfs cluster up`, or by the test after a
        // kill) may leave every test green: its crash is a failure of the suite all the same,
        // whether or not the suite ended in an error.
        defer {
            if let crash = cluster.crashInLog() { Issue.record("a daemon crashed during the suite:\n\(crash)") }
            for (name, status) in cluster.exitedDaemons() {
                Issue.record("hfs \(name) exited on its own (status \(status)) during the suite; log tail:\n\(cluster.logTail(lines: 30))")
            }
        }
        try await TestCluster.$current.withValue(cluster) { try await function() }
    }
}

/// At most `$HFS_ITEST_CLUSTERS` (default 4) test clusters run at once. Suites run in parallel
/// with the CPU-heavy unit tests; with every suite's cluster up at the same time (4 processes
/// each) on a 2-core machine, heartbeats came more than 2 s late and clusters never got live.
actor ClusterSlots {
    static let shared = ClusterSlots(limit: ProcessInfo.processInfo.environment["HFS_ITEST_CLUSTERS"].flatMap { Int($0) }.map { max($0, 1) } ?? 4)
    private let limit: Int
    private var running = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(limit: Int) { self.limit = limit }

    func acquire() async {
        if running < limit { running += 1; return }
        await withCheckedContinuation { waiting.append($0) }
    }

    func release() {
        if waiting.isEmpty { running -= 1 } else { waiting.removeFirst().resume() }  // the slot passes on
    }
}

extension Trait where Self == ClusterTrait {
    /// A real 3-datanode cluster (replication 2, 1 MiB blocks) shared by the suite's tests.
    static var hfsCluster: Self { Self() }
    /// The same, with every daemon a process of its own that a test may kill for good
    /// (dead_node_timeout 4 s).
    static var hfsDaemons: Self { Self(separateDaemons: true) }
    /// A cluster with settings of its own (`separateDaemons` as in ``hfsDaemons``).
    static func hfsCluster(separateDaemons: Bool = false, _ tuning: TestCluster.Tuning) -> Self {
        Self(separateDaemons: separateDaemons, tuning: tuning)
    }
}

/// The suite's cluster, or a recorded failure when the test runs outside ``ClusterTrait``.
func currentCluster(sourceLocation: SourceLocation = #_sourceLocation) throws -> TestCluster {
    try #require(TestCluster.current, "no cluster: this test must run inside a suite with .hfsCluster", sourceLocation: sourceLocation)
}
