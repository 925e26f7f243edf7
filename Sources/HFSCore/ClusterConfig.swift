import Foundation
import Yams

/// A parsed `cluster.yaml`: one file describes a whole cluster (see DESIGN.md "Configuration").
/// Relative paths are resolved against the file's folder. Unknown keys and impossible values are
/// errors that name the key, e.g. `cluster.yaml: cluster.replicaton: unknown key`.
public struct ClusterConfig: Sendable, Equatable {
    public struct Datanode: Sendable, Equatable {
        public var id: String
        public var address: HostPort
        public var dataDir: String
        public var rack: String
        /// Capacity to advertise instead of the disk's real size (tests, small nodes).
        public var capacityBytes: Int64?
    }

    /// A command operators declare as a compute hook (`hooks:` in cluster.yaml): the datanode
    /// runs it with the image on stdin and takes stdout as the result. Clients can only name it.
    public struct ExternalHook: Sendable, Equatable {
        public var name: String
        public var command: String
        public var timeoutSeconds: Double
        /// `feature`: stdout is JSON; `filter`: stdout is an image.
        public var kind: String
        public init(name: String, command: String, timeoutSeconds: Double, kind: String) {
            self.name = name; self.command = command; self.timeoutSeconds = timeoutSeconds; self.kind = kind
        }
    }

    public var replication = 2
    public var blockSizeBytes: Int64 = 64 << 20
    public var codec: CodecPolicy = .auto
    public var heartbeatIntervalSeconds: Double = 3
    public var deadNodeTimeoutSeconds: Double = 30
    /// Block data written by datanodes does not stay in the page cache (HDFS's
    /// `dfs.datanode.drop.cache.behind.writes`): appends use O_DIRECT where the file system
    /// allows it, else buffered writes whose pages are dropped once on disk. Buffered writes into
    /// fresh page-cache pages cost more CPU than any other step of a small-file put here (see
    /// docs/BENCHMARKS.md).
    public var dropCacheBehindWrites = true
    /// The block scanner re-reads and verifies every frame of every block at most this many
    /// bytes per second per datanode (`scan_rate`; 0 turns it off)...
    public var scanRateBytesPerSecond: Int64 = 8 << 20
    /// ...and rests this long between two full passes (`scan_interval`).
    public var scanIntervalSeconds: Double = 3600
    /// Every datanode sends a full block report this often (`block_report_interval`; HDFS's
    /// default), after checking its block folder against what it believes it holds.
    public var blockReportIntervalSeconds: Double = 6 * 3600
    /// A sealed packed block whose live bytes (those files still reference) fall below this
    /// fraction of its length is rewritten without the dead ones (`compaction_threshold`; 0 turns
    /// compaction off). A block no file references is removed whatever the threshold.
    public var compactionThreshold: Double = 0.5
    /// How often the namenode looks for such blocks (`compaction_interval`); the old block of a
    /// compaction is removed no sooner than one interval after the switch, so that reads that
    /// started before it finish on it.
    public var compactionIntervalSeconds: Double = 300
    public var namenodeAddress = HostPort(host: "127.0.0.1", port: 9870)
    public var metadataPath = "data/namenode/meta.sqlite"
    public var datanodes: [Datanode] = []
    public var hooks: [ExternalHook] = []
    /// The file it came from (absolute), for messages and child processes.
    public var sourcePath = ""

    public init() {}

    public func datanode(_ id: String) throws -> Datanode {
        guard let d = datanodes.first(where: { $0.id == id }) else {
            throw HFSError(.config, "\(sourcePath): no datanode with id '\(id)' (have: \(datanodes.map(\.id).joined(separator: ", ")))")
        }
        return d
    }

    public static func load(path: String) throws -> ClusterConfig {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw HFSError(.config, "cannot read cluster config \(path)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw HFSError(.config, "\(path): not UTF-8 text")
        }
        return try parse(text, path: url.path)
    }

    public static func parse(_ text: String, path: String) throws -> ClusterConfig {
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch {
            let first = "\(error)".split(separator: "\n").first.map(String.init) ?? "\(error)"
            throw HFSError(.config, "\(path): invalid YAML: \(first)")
        }
        let p = Parser(file: path)
        var cfg = ClusterConfig()
        cfg.sourcePath = path
        let base = URL(fileURLWithPath: path).deletingLastPathComponent()
        let top = try p.mapping(node, "(top level)")
        try p.only(top, ["cluster", "namenode", "datanodes", "hooks"], "")
        if let c = top["cluster"] {
            let m = try p.mapping(c, "cluster")
            try p.only(m, ["replication", "block_size", "codec", "heartbeat_interval", "dead_node_timeout",
                              "drop_cache_behind_writes", "scan_rate", "scan_interval", "block_report_interval",
                              "compaction_threshold", "compaction_interval"], "cluster")
            if let v = m["replication"] { cfg.replication = try p.int(v, "cluster.replication", 1...Limits.replicationMax) }
            if let v = m["block_size"] { cfg.blockSizeBytes = try p.bytes(v, "cluster.block_size", Int64(Limits.frameLogicalBytesMax)...(Int64(1) << 40)) }
            if let v = m["codec"] {
                let s = try p.string(v, "cluster.codec")
                guard let c = CodecPolicy(rawValue: s) else { throw p.bad("cluster.codec", "'\(s)' is not one of auto, none, lz4, zlib") }
                cfg.codec = c
            }
            if let v = m["heartbeat_interval"] { cfg.heartbeatIntervalSeconds = try p.seconds(v, "cluster.heartbeat_interval", 0.05...3600) }
            if let v = m["dead_node_timeout"] { cfg.deadNodeTimeoutSeconds = try p.seconds(v, "cluster.dead_node_timeout", 0.1...86400) }
            if let v = m["drop_cache_behind_writes"] { cfg.dropCacheBehindWrites = try p.bool(v, "cluster.drop_cache_behind_writes") }
            if let v = m["scan_rate"] { cfg.scanRateBytesPerSecond = try p.bytes(v, "cluster.scan_rate", 0...(Int64(1) << 40)) }
            if let v = m["scan_interval"] { cfg.scanIntervalSeconds = try p.seconds(v, "cluster.scan_interval", 0.01...(365 * 86400)) }
            if let v = m["compaction_threshold"] { cfg.compactionThreshold = try p.fraction(v, "cluster.compaction_threshold") }
            if let v = m["compaction_interval"] { cfg.compactionIntervalSeconds = try p.seconds(v, "cluster.compaction_interval", 1...(30 * 86400)) }
            if let v = m["block_report_interval"] { cfg.blockReportIntervalSeconds = try p.seconds(v, "cluster.block_report_interval", 1...(30 * 86400)) }
        }
        if cfg.deadNodeTimeoutSeconds <= cfg.heartbeatIntervalSeconds {
            throw p.bad("cluster.dead_node_timeout", "must be longer than cluster.heartbeat_interval")
        }
        guard let nn = top["namenode"] else { throw p.bad("namenode", "missing") }
        let nm = try p.mapping(nn, "namenode")
        try p.only(nm, ["address", "metadata"], "namenode")
        guard let addr = nm["address"] else { throw p.bad("namenode.address", "missing") }
        cfg.namenodeAddress = try p.hostPort(addr, "namenode.address")
        if let v = nm["metadata"] { cfg.metadataPath = try p.string(v, "namenode.metadata") }
        cfg.metadataPath = resolve(cfg.metadataPath, base)

        guard let dns = top["datanodes"], case .sequence(let seq) = dns else { throw p.bad("datanodes", "missing or not a list") }
        var ids = Set<String>(), addrs = Set<HostPort>([cfg.namenodeAddress])
        for (i, item) in seq.enumerated() {
            let key = "datanodes[\(i)]"
            let m = try p.mapping(item, key)
            try p.only(m, ["id", "address", "data_dir", "rack", "capacity"], key)
            guard let idNode = m["id"] else { throw p.bad("\(key).id", "missing") }
            let id = try p.string(idNode, "\(key).id")
            guard !id.isEmpty, id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
                throw p.bad("\(key).id", "'\(id)' must be letters, digits, - or _")
            }
            guard ids.insert(id).inserted else { throw p.bad("\(key).id", "'\(id)' is used twice") }
            guard let a = m["address"] else { throw p.bad("\(key).address", "missing") }
            let address = try p.hostPort(a, "\(key).address")
            guard addrs.insert(address).inserted else { throw p.bad("\(key).address", "\(address) is used twice") }
            guard let d = m["data_dir"] else { throw p.bad("\(key).data_dir", "missing") }
            let dir = resolve(try p.string(d, "\(key).data_dir"), base)
            var rack = "/default-rack"
            if let r = m["rack"] {
                rack = try p.string(r, "\(key).rack")
                guard rack.hasPrefix("/") else { throw p.bad("\(key).rack", "'\(rack)' must start with /") }
            }
            var cap: Int64?
            if let c = m["capacity"] { cap = try p.bytes(c, "\(key).capacity", 1...(Int64(1) << 60)) }
            cfg.datanodes.append(Datanode(id: id, address: address, dataDir: dir, rack: rack, capacityBytes: cap))
        }
        if cfg.datanodes.isEmpty { throw p.bad("datanodes", "the list is empty") }
        if let hooks = top["hooks"] {
            guard case .sequence(let seq) = hooks else { throw p.bad("hooks", "expected a list") }
            var names = Set<String>()
            for (i, item) in seq.enumerated() {
                let key = "hooks[\(i)]"
                let m = try p.mapping(item, key)
                try p.only(m, ["name", "command", "timeout", "kind"], key)
                guard let n = m["name"] else { throw p.bad("\(key).name", "missing") }
                let name = try p.string(n, "\(key).name")
                guard !name.isEmpty, name.allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "_" || $0 == "-" }), name.allSatisfy(\.isASCII) else {
                    throw p.bad("\(key).name", "'\(name)' must be lowercase letters, digits, _ or -")
                }
                guard names.insert(name).inserted else { throw p.bad("\(key).name", "'\(name)' is used twice") }
                guard let c = m["command"] else { throw p.bad("\(key).command", "missing") }
                let command = try p.string(c, "\(key).command")
                guard !command.trimmingCharacters(in: .whitespaces).isEmpty else { throw p.bad("\(key).command", "is empty") }
                var timeout = 30.0
                if let t = m["timeout"] { timeout = try p.seconds(t, "\(key).timeout", 0.01...3600) }
                var kind = "feature"
                if let k = m["kind"] {
                    kind = try p.string(k, "\(key).kind")
                    guard kind == "feature" || kind == "filter" else { throw p.bad("\(key).kind", "'\(kind)' is not feature or filter") }
                }
                cfg.hooks.append(ExternalHook(name: name, command: command, timeoutSeconds: timeout, kind: kind))
            }
        }
        return cfg
    }

    private static func resolve(_ path: String, _ base: URL) -> String {
        path.hasPrefix("/") ? path : base.appendingPathComponent(path).standardizedFileURL.path
    }

    /// Walks the YAML node tree with messages that name the key.
    private struct Parser {
        var file: String
        func bad(_ key: String, _ why: String) -> HFSError { HFSError(.config, "\(file): \(key): \(why)") }
        func mapping(_ node: Node?, _ key: String) throws -> [String: Node] {
            guard let node, case .mapping(let m) = node else { throw bad(key, "expected a mapping") }
            var out: [String: Node] = [:]
            for (k, v) in m {
                guard let ks = k.string else { throw bad(key, "a key is not a string") }
                if out[ks] != nil { throw bad(key.isEmpty ? ks : "\(key).\(ks)", "duplicate key") }
                out[ks] = v
            }
            return out
        }
        func only(_ m: [String: Node], _ allowed: Set<String>, _ key: String) throws {
            for k in m.keys.sorted() where !allowed.contains(k) {
                throw bad(key.isEmpty ? k : "\(key).\(k)", "unknown key (allowed: \(allowed.sorted().joined(separator: ", ")))")
            }
        }
        func string(_ n: Node, _ key: String) throws -> String {
            guard case .scalar(let s) = n else { throw bad(key, "expected a value") }
            return s.string
        }
        func bool(_ n: Node, _ key: String) throws -> Bool {
            switch try string(n, key) {
            case "true": return true
            case "false": return false
            case let s: throw bad(key, "'\(s)' is not true or false")
            }
        }
        func int(_ n: Node, _ key: String, _ range: ClosedRange<Int>) throws -> Int {
            let s = try string(n, key)
            guard let v = Int(s), range.contains(v) else { throw bad(key, "'\(s)' is not an integer in \(range.lowerBound)...\(range.upperBound)") }
            return v
        }
        func bytes(_ n: Node, _ key: String, _ range: ClosedRange<Int64>) throws -> Int64 {
            let s = try string(n, key)
            guard let v = Units.parseBytes(s) else { throw bad(key, "'\(s)' is not a size (e.g. 64MiB)") }
            guard range.contains(v) else { throw bad(key, "\(s) is out of range \(Units.human(range.lowerBound))...\(Units.human(range.upperBound))") }
            return v
        }
        func seconds(_ n: Node, _ key: String, _ range: ClosedRange<Double>) throws -> Double {
            let s = try string(n, key)
            guard let v = Units.parseSeconds(s) else { throw bad(key, "'\(s)' is not a duration (e.g. 3s, 500ms)") }
            guard range.contains(v) else { throw bad(key, "\(s) is out of range") }
            return v
        }
        func fraction(_ n: Node, _ key: String) throws -> Double {
            let s = try string(n, key)
            guard let v = Double(s), (0...1).contains(v) else { throw bad(key, "'\(s)' is not a number in 0...1") }
            return v
        }
        func hostPort(_ n: Node, _ key: String) throws -> HostPort {
            let s = try string(n, key)
            guard let hp = HostPort(s) else { throw bad(key, "'\(s)' is not HOST:PORT") }
            return hp
        }
    }
}

/// `127.0.0.1:9870`.
public struct HostPort: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public init(host: String, port: Int) { self.host = host; self.port = port }
    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        let host = String(text[..<colon])
        guard !host.isEmpty, let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port) else { return nil }
        self.host = host
        self.port = port
    }
    public var description: String { "\(host):\(port)" }
}
