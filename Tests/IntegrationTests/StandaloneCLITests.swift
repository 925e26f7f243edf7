#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import HFSCore
import Testing

/// CLI behaviour that needs no running cluster: help, config validation, an unreachable namenode.
@Suite("hfs without a cluster", .timeLimit(.minutes(3)))
struct StandaloneCLITests {
    /// Runs `body` with the hfs executable and a fresh temp folder (removed afterwards); kills any
    /// process left naming that folder (a daemon that should have refused to start).
    func withScratch(_ body: (HFSExecutable, URL) async throws -> Void) async throws {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("hfs-itest-cli-\(UUID().uuidString.prefix(8))").resolvingSymlinksInPath()
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer {
            for pid in pidsWithCommandLine(containing: dir.path) { kill(pid, SIGKILL) }
            try? FileManager.default.removeItem(at: dir)
        }
        try await body(HFSExecutable(url: try HFSExecutable.locate(), scratch: dir), dir)
    }

    @Test("hfs --help and hfs put --help explain the commands and flags")
    func help() async throws {
        try await withScratch { hfs, dir in
            let top = try await hfs.run(["--help"], cwd: dir, timeoutSeconds: 30)
            #expect(top.status == 0, "\(top)")
            let topText = top.stdoutText + top.stderr
            for cmd in ["put", "get", "cat", "ls", "mkdir", "rm", "mv", "stat", "du", "report", "fsck", "cluster", "namenode", "datanode"] {
                #expect(topText.contains(cmd), "hfs --help does not mention \(cmd)")
            }
            let put = try await hfs.run(["put", "--help"], cwd: dir, timeoutSeconds: 30)
            #expect(put.status == 0, "\(put)")
            let putText = put.stdoutText + put.stderr
            for flag in ["-f", "--replication", "--codec"] {
                #expect(putText.contains(flag), "hfs put --help does not mention \(flag)")
            }
            for sub in [["get"], ["ls"], ["cluster", "up"], ["datanode"]] {
                let r = try await hfs.run(sub + ["--help"], cwd: dir, timeoutSeconds: 30)
                #expect(r.status == 0 && !(r.stdoutText + r.stderr).isEmpty, "hfs \(sub.joined(separator: " ")) --help: \(r)")
            }
        }
    }

    /// A valid config with one line replaced; each must be refused, naming the key.
    struct BadConfig: Sendable, CustomTestStringConvertible {
        var replace: String
        var with: String
        var key: String
        var testDescription: String { "\(with.trimmingCharacters(in: .whitespaces))" }
    }

    static let badConfigs = [
        BadConfig(replace: "  replication: 2", with: "  replicaton: 2", key: "replicaton"),
        BadConfig(replace: "  block_size: 1MiB", with: "  block_size: lots", key: "block_size"),
        BadConfig(replace: "  heartbeat_interval: 1s", with: "  heartbeat_interval: soon", key: "heartbeat_interval"),
        BadConfig(replace: "  replication: 2", with: "  replication: 0", key: "replication"),
    ]

    @Test("cluster.yaml: unknown keys and bad values are one error line naming the key", arguments: badConfigs)
    func badConfig(_ bad: BadConfig) async throws {
        try await withScratch { hfs, dir in
            let ports = try freeLoopbackPorts(2)
            let good = """
            cluster:
              replication: 2
              block_size: 1MiB
              heartbeat_interval: 1s
              dead_node_timeout: 10s
            namenode:
              address: 127.0.0.1:\(ports[0])
              metadata: nn/meta.sqlite
            datanodes:
              - { id: dn1, address: 127.0.0.1:\(ports[1]), data_dir: dn1, rack: /r1 }

            """
            #expect(good.contains(bad.replace))
            let path = dir.appendingPathComponent("bad.yaml").path
            try good.replacingOccurrences(of: bad.replace, with: bad.with).write(toFile: path, atomically: true, encoding: .utf8)
            for cmd in [["namenode"], ["cluster", "up"]] {
                let what = "hfs \(cmd.joined(separator: " ")) with '\(bad.with.trimmingCharacters(in: .whitespaces))'"
                let r = try await hfs.run(cmd + ["--config", path], cwd: dir, timeoutSeconds: 20)
                expectCleanError(r, what)
                #expect(r.stderr.contains(bad.key), "\(what): the error does not name \(bad.key): \(r.stderr)")
            }
        }
    }

    @Test("a namenode that is not running: one error line, quickly")
    func namenodeDown() async throws {
        try await withScratch { hfs, dir in
            let port = try freeLoopbackPorts(1)[0]
            let started = Date()
            let r = try await hfs.run(["ls", "/", "--namenode", "127.0.0.1:\(port)"], cwd: dir, timeoutSeconds: 60)
            expectCleanError(r, "ls / --namenode 127.0.0.1:\(port) with nothing listening")
            #expect(Date().timeIntervalSince(started) < 30, "took \(Date().timeIntervalSince(started)) s to give up")
            let viaEnv = try await hfs.run(["ls", "/"], cwd: dir, extraEnv: ["HFS_NAMENODE": "127.0.0.1:\(port)"], timeoutSeconds: 60)
            expectCleanError(viaEnv, "ls / with HFS_NAMENODE=127.0.0.1:\(port) and nothing listening")
            let put = try await hfs.run(["put", "--namenode", "127.0.0.1:\(port)", "-", "/x"], stdin: Data("x".utf8), cwd: dir, timeoutSeconds: 60)
            expectCleanError(put, "put with nothing listening")
        }
    }

    @Test("cluster up on a namenode port that is taken fails at once and says why")
    func portInUse() async throws {
        try await withScratch { hfs, dir in
            // Hold the namenode's port with a listening socket of our own.
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = 0
            inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr)
            var len = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &addr) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && listen(fd, 4) == 0 && getsockname(fd, $0, &len) == 0 }
            }
            try #require(bound)
            let taken = Int(UInt16(bigEndian: addr.sin_port))
            let dn = try freeLoopbackPorts(1)[0]
            let path = dir.appendingPathComponent("cluster.yaml").path
            try """
            namenode:
              address: 127.0.0.1:\(taken)
              metadata: nn/meta.sqlite
            datanodes:
              - { id: dn1, address: 127.0.0.1:\(dn), data_dir: dn1 }

            """.write(toFile: path, atomically: true, encoding: .utf8)
            let r = try await hfs.run(["cluster", "up", "--config", path], cwd: dir, timeoutSeconds: 40)
            #expect(!r.timedOut, "cluster up kept running with its namenode port taken")
            #expect(r.status != 0)
            let last = r.stderr.split(separator: "\n").last.map(String.init) ?? ""
            #expect(last.hasPrefix("hfs: error:") && last.contains("already in use"), "last line: \(last)")
        }
    }

    @Test("no cluster.yaml and no --namenode: one error line")
    func noConfig() async throws {
        try await withScratch { hfs, dir in
            let r = try await hfs.run(["ls", "/"], cwd: dir, timeoutSeconds: 30)
            expectCleanError(r, "ls / in a folder without cluster.yaml")
        }
    }
}
