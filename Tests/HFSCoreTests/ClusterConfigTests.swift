import Foundation
import HFSCore
import Testing

@Suite struct ClusterConfigTests {
    static let good = """
    cluster:
      replication: 2
      block_size: 64MiB
      codec: auto
      heartbeat_interval: 3s
      dead_node_timeout: 30s
    namenode:
      address: 127.0.0.1:9870
      metadata: data/namenode/meta.sqlite
    datanodes:
      - { id: dn1, address: 127.0.0.1:9861, data_dir: data/dn1, rack: /r1 }
      - { id: dn2, address: 127.0.0.1:9862, data_dir: /abs/dn2, rack: /r1, capacity: 10GiB }
      - { id: dn3, address: 127.0.0.1:9863, data_dir: data/dn3 }
    """

    @Test func parsesTheDesignExample() throws {
        let c = try ClusterConfig.parse(Self.good, path: "/etc/hfs/cluster.yaml")
        #expect(c.replication == 2)
        #expect(c.blockSizeBytes == 64 << 20)
        #expect(c.codec == .auto)
        #expect(c.heartbeatIntervalSeconds == 3)
        #expect(c.deadNodeTimeoutSeconds == 30)
        #expect(c.namenodeAddress == HostPort(host: "127.0.0.1", port: 9870))
        #expect(c.metadataPath == "/etc/hfs/data/namenode/meta.sqlite")
        #expect(c.datanodes.map(\.id) == ["dn1", "dn2", "dn3"])
        #expect(c.datanodes[0].dataDir == "/etc/hfs/data/dn1")
        #expect(c.datanodes[1].dataDir == "/abs/dn2")
        #expect(c.datanodes[1].capacityBytes == 10 << 30)
        #expect(c.datanodes[2].rack == "/default-rack")
        #expect(try c.datanode("dn2").address.port == 9862)
        #expect(throws: HFSError.self) { try c.datanode("dn9") }
    }

    static let cluster = "cluster:\n  replication: 2\n"
    static let namenode = "namenode:\n  address: 127.0.0.1:9870\n"
    static let datanodes = "datanodes:\n  - { id: dn1, address: 127.0.0.1:9861, data_dir: d1 }\n"

    /// A whole file: the snippet replaces the section it starts with (or is added at the end).
    static func file(_ snippet: String) -> String {
        var sections = [cluster, namenode, datanodes]
        if let i = sections.firstIndex(where: { snippet.hasPrefix($0.prefix { $0 != "\n" }) }) { sections[i] = snippet } else { sections.append(snippet) }
        return sections.joined()
    }

    @Test func minimalFileParses() throws {
        let c = try ClusterConfig.parse(Self.file(""), path: "c.yaml")
        #expect(c.datanodes.count == 1)
        #expect(c.dropCacheBehindWrites)
    }

    @Test func externalHooks() throws {
        let c = try ClusterConfig.parse(Self.file("hooks:\n  - { name: blur-ext, command: 'convert - -blur 0x2 png:-', timeout: 5s, kind: filter }\n  - { name: size, command: 'wc -c' }\n"), path: "c.yaml")
        #expect(c.hooks == [
            .init(name: "blur-ext", command: "convert - -blur 0x2 png:-", timeoutSeconds: 5, kind: "filter"),
            .init(name: "size", command: "wc -c", timeoutSeconds: 30, kind: "feature"),
        ])
    }

    @Test func dropCacheBehindWritesCanBeTurnedOff() throws {
        let c = try ClusterConfig.parse(Self.file("cluster:\n  drop_cache_behind_writes: false\n"), path: "c.yaml")
        #expect(!c.dropCacheBehindWrites)
    }

    @Test func blockScannerDefaultsAndKeys() throws {
        let d = try ClusterConfig.parse(Self.file(""), path: "c.yaml")
        #expect(d.scanRateBytesPerSecond == 8 << 20)
        #expect(d.scanIntervalSeconds == 3600)
        let c = try ClusterConfig.parse(Self.file("cluster:\n  scan_rate: 64MiB\n  scan_interval: 500ms\n"), path: "c.yaml")
        #expect(c.scanRateBytesPerSecond == 64 << 20)
        #expect(c.scanIntervalSeconds == 0.5)
        let off = try ClusterConfig.parse(Self.file("cluster:\n  scan_rate: 0\n"), path: "c.yaml")
        #expect(off.scanRateBytesPerSecond == 0)
    }

    @Test func blockReportInterval() throws {
        #expect(try ClusterConfig.parse(Self.file(""), path: "c.yaml").blockReportIntervalSeconds == 6 * 3600)
        #expect(try ClusterConfig.parse(Self.file("cluster:\n  block_report_interval: 2s\n"), path: "c.yaml").blockReportIntervalSeconds == 2)
    }

    @Test func compactionKeys() throws {
        let d = try ClusterConfig.parse(Self.file(""), path: "c.yaml")
        #expect(d.compactionThreshold == 0.5)
        #expect(d.compactionIntervalSeconds == 300)
        let c = try ClusterConfig.parse(Self.file("cluster:\n  compaction_threshold: 0.25\n  compaction_interval: 1s\n"), path: "c.yaml")
        #expect(c.compactionThreshold == 0.25)
        #expect(c.compactionIntervalSeconds == 1)
    }

    /// Each bad file must fail with a message naming the offending key.
    @Test(arguments: [
        ("cluster:\n  replicaton: 2\n", "cluster.replicaton"),
        ("cluster:\n  block_size: lots\n", "cluster.block_size"),
        ("cluster:\n  replication: 0\n", "cluster.replication"),
        ("cluster:\n  replication: two\n", "cluster.replication"),
        ("cluster:\n  codec: brotli\n", "cluster.codec"),
        ("cluster:\n  heartbeat_interval: soon\n", "cluster.heartbeat_interval"),
        ("cluster:\n  heartbeat_interval: 10s\n  dead_node_timeout: 5s\n", "cluster.dead_node_timeout"),
        ("cluster:\n  drop_cache_behind_writes: maybe\n", "cluster.drop_cache_behind_writes"),
        ("cluster:\n  scan_rate: fast\n", "cluster.scan_rate"),
        ("cluster:\n  scan_rate: 2TiB\n", "cluster.scan_rate"),
        ("cluster:\n  scan_interval: weekly\n", "cluster.scan_interval"),
        ("cluster:\n  scan_interval: 0s\n", "cluster.scan_interval"),
        ("cluster:\n  scan_intervals: 1h\n", "cluster.scan_intervals"),
        ("cluster:\n  block_report_interval: 100ms\n", "cluster.block_report_interval"),
        ("cluster:\n  compaction_threshold: 1.5\n", "cluster.compaction_threshold"),
        ("cluster:\n  compaction_threshold: half\n", "cluster.compaction_threshold"),
        ("cluster:\n  compaction_interval: 0s\n", "cluster.compaction_interval"),
        ("cluster:\n  block_report_interval: never\n", "cluster.block_report_interval"),
        ("namenode:\n  address: nowhere\n", "namenode.address"),
        ("namenode:\n  address: 127.0.0.1:9870\n  port: 1\n", "namenode.port"),
        ("extra: 1\n", "extra"),
        ("datanodes:\n  - { id: dn1, address: 127.0.0.1:9861, data_dir: d, disk: x }\n", "datanodes[0].disk"),
        ("datanodes:\n  - { id: dn1, address: 127.0.0.1:9861 }\n", "datanodes[0].data_dir"),
        ("datanodes:\n  - { id: dn1, address: 127.0.0.1:9861, data_dir: a }\n  - { id: dn1, address: 127.0.0.1:9862, data_dir: b }\n", "datanodes[1].id"),
        ("datanodes:\n  - { id: dn1, address: 127.0.0.1:9861, data_dir: a, rack: r1 }\n", "datanodes[0].rack"),
        ("datanodes:\n  - { id: 'a b', address: 127.0.0.1:9861, data_dir: a }\n", "datanodes[0].id"),
        ("datanodes:\n  - { id: dn1, address: 127.0.0.1:9870, data_dir: a }\n", "datanodes[0].address"),
        ("datanodes: []\n", "datanodes"),
        ("hooks:\n  - { name: x }\n", "hooks[0].command"),
        ("hooks:\n  - { name: 'Bad Name', command: 'cat' }\n", "hooks[0].name"),
        ("hooks:\n  - { name: x, command: cat, kind: magic }\n", "hooks[0].kind"),
        ("hooks:\n  - { name: x, command: cat, timeout: never }\n", "hooks[0].timeout"),
        ("hooks:\n  - { name: x, command: cat }\n  - { name: x, command: cat }\n", "hooks[1].name"),
    ])
    func badValuesNameTheKey(_ snippet: String, _ key: String) throws {
        let error = #expect(throws: HFSError.self) { try ClusterConfig.parse(Self.file(snippet), path: "c.yaml") }
        #expect(error?.message.contains(key) == true, "message: \(error?.message ?? "-")")
        #expect(error?.message.contains("\n") == false)
    }

    @Test func invalidYAMLIsOneLine() {
        let error = #expect(throws: HFSError.self) { try ClusterConfig.parse("cluster: [unclosed\n  x: {", path: "c.yaml") }
        #expect(error?.message.hasPrefix("c.yaml: invalid YAML") == true)
        #expect(error?.message.contains("\n") == false)
    }
}

@Suite struct UnitsTests {
    @Test func bytes() {
        #expect(Units.parseBytes("64MiB") == 64 << 20)
        #expect(Units.parseBytes("1GB") == 1_000_000_000)
        #expect(Units.parseBytes("512") == 512)
        #expect(Units.parseBytes("1.5KiB") == 1536)
        #expect(Units.parseBytes("lots") == nil)
        #expect(Units.parseBytes("-1") == nil)
        #expect(Units.parseBytes("1.3B") == nil)
    }

    @Test func seconds() {
        #expect(Units.parseSeconds("3s") == 3)
        #expect(Units.parseSeconds("500ms") == 0.5)
        #expect(Units.parseSeconds("2m") == 120)
        #expect(Units.parseSeconds("soon") == nil)
    }

    @Test func human() {
        #expect(Units.human(300) == "300 B")
        #expect(Units.human(1536) == "1.5 KiB")
        #expect(Units.human(64 << 20) == "64.0 MiB")
        #expect(Units.human(200 << 30) == "200 GiB")
    }
}
