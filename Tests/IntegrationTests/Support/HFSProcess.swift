#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// What one run of the `hfs` CLI left behind.
struct CLIResult: Sendable, CustomStringConvertible {
    var status: Int32
    var stdout: Data
    var stderr: String
    /// True when the process had to be killed because it outlived its time limit.
    var timedOut: Bool

    var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    /// Non-empty stdout lines.
    var lines: [String] { stdoutText.split(separator: "\n").map(String.init).filter { !$0.isEmpty } }

    var description: String {
        let out = stdoutText.count > 600 ? String(stdoutText.prefix(600)) + "…" : stdoutText
        return "exit \(status)\(timedOut ? " (killed after its time limit)" : ""), stderr: \(stderr.debugDescription), stdout: \(out.debugDescription)"
    }
}

/// Finds and runs the `hfs` executable. Every run is bounded in time; stdout and stderr go to
/// files (never pipes), so a daemon that outlives the test cannot hold a reader open.
struct HFSExecutable: Sendable {
    let url: URL
    /// Scratch folder for captured output.
    let scratch: URL

    /// `$HFS_BIN`, else the `hfs` built next to the running test executable
    /// (`.build/<triple>/debug/hfs`), else under `./.build`.
    static func locate() throws -> URL {
        let fm = FileManager.default
        if let env = ProcessInfo.processInfo.environment["HFS_BIN"], !env.isEmpty {
            guard isExecutableFile(env) else { throw HarnessError("HFS_BIN=\(env) is not an executable file") }
            return URL(fileURLWithPath: env)
        }
        var starts: [URL] = []
        if let exe = try? fm.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            starts.append(URL(fileURLWithPath: exe).deletingLastPathComponent())
        }
        if let exe = Bundle.main.executableURL { starts.append(exe.resolvingSymlinksInPath().deletingLastPathComponent()) }
        if let arg0 = CommandLine.arguments.first {
            starts.append(URL(fileURLWithPath: arg0).resolvingSymlinksInPath().deletingLastPathComponent())
        }
        let cwd = URL(fileURLWithPath: fm.currentDirectoryPath)
        starts.append(cwd.appendingPathComponent(".build/debug"))
        var tried: [String] = []
        for start in starts {
            // The test executable may sit inside a bundle (`X.xctest/Contents/MacOS`): walk up a little.
            var dir = start
            for _ in 0..<4 {
                for candidate in [dir.appendingPathComponent("hfs"), dir.appendingPathComponent("debug/hfs")] {
                    tried.append(candidate.path)
                    if isExecutableFile(candidate.path) { return candidate }
                }
                dir = dir.deletingLastPathComponent()
            }
        }
        throw HarnessError("no hfs executable found (set HFS_BIN, or build it: swift build --product hfs); looked at \(Set(tried).sorted().prefix(8).joined(separator: ", "))")
    }

    static func isExecutableFile(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && !isDir.boolValue
            && FileManager.default.isExecutableFile(atPath: path)
    }

    /// Runs `hfs args...` in `cwd` with `environment` (the test process's own, minus the
    /// variables that would point the CLI at another cluster, plus `extraEnv`). Its stdin is
    /// `stdin`, or the file (a FIFO, say) at `stdinPath`, or /dev/null.
    func run(_ args: [String], stdin: Data? = nil, stdinPath: String? = nil, cwd: URL, extraEnv: [String: String] = [:],
             timeoutSeconds: Double = 120) async throws -> CLIResult {
        let id = UUID().uuidString
        let outURL = scratch.appendingPathComponent("out-\(id)")
        let errURL = scratch.appendingPathComponent("err-\(id)")
        let inURL = scratch.appendingPathComponent("in-\(id)")
        defer {
            for u in [outURL, errURL, inURL] { try? FileManager.default.removeItem(at: u) }
        }
        if let stdin { try stdin.write(to: inURL) }
        let child = try ChildProcess(executable: url.path, arguments: args, environment: Self.environment(extraEnv),
                                     cwd: cwd.path, stdin: stdin == nil ? stdinPath : inURL.path,
                                     stdout: outURL.path, stderr: errURL.path)
        let timedOut = await child.waitForExit(timeoutSeconds: timeoutSeconds)
        let out = (try? Data(contentsOf: outURL)) ?? Data()
        let err = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
        return CLIResult(status: timedOut ? -1 : (child.exitStatus ?? -1), stdout: out, stderr: err, timedOut: timedOut)
    }

    static func environment(_ extra: [String: String]) -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["HFS_NAMENODE"] = nil
        env["HFS_CONFIG"] = nil
        for (k, v) in extra { env[k] = v }
        return env
    }
}

/// A child process started with `posix_spawn`, in its own process group, with an empty signal
/// mask and default signal handlers.
///
/// Not Foundation's `Process`: on Linux it spawns children with the calling thread's signal mask,
/// and Swift concurrency / Dispatch threads block nearly every signal, so such a child could not
/// be stopped with SIGTERM.
final class ChildProcess: @unchecked Sendable {
    // @unchecked: used by one task at a time (start, poll, stop), never concurrently.
    let pid: pid_t
    /// Exit code, or 128 + signal number; nil while running.
    private(set) var exitStatus: Int32?

    /// `stdout` and `stderr` are files, created if missing and appended to; the same path for
    /// both sends both streams to it. `stdin` nil is /dev/null.
    init(executable: String, arguments: [String], environment: [String: String], cwd: String,
         stdin: String?, stdout: String, stderr: String) throws {
        #if canImport(Glibc)
        var actions = posix_spawn_file_actions_t()
        var attr = posix_spawnattr_t()
        #else
        var actions: posix_spawn_file_actions_t?
        var attr: posix_spawnattr_t?
        #endif
        posix_spawn_file_actions_init(&actions)
        posix_spawnattr_init(&attr)
        defer {
            posix_spawn_file_actions_destroy(&actions)
            posix_spawnattr_destroy(&attr)
        }
        posix_spawn_file_actions_addopen(&actions, 0, stdin ?? "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        if stderr == stdout {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        } else {
            posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        }
        try Self.addChdir(&actions, cwd)
        try Self.addCloseFrom(&actions, 3)
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attr, &noSignals)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for sig in [SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD, SIGUSR1, SIGUSR2, SIGALRM] { sigaddset(&defaults, sig) }
        posix_spawnattr_setsigdefault(&attr, &defaults)
        posix_spawnattr_setpgroup(&attr, 0)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        let argv = ([executable] + arguments).map { strdup($0) }
        let envp = environment.map { strdup("\($0.key)=\($0.value)") }
        defer { for p in argv + envp { free(p) } }
        var pid: pid_t = 0
        let rc = (argv + [nil]).withUnsafeBufferPointer { a in
            (envp + [nil]).withUnsafeBufferPointer { e in
                posix_spawn(&pid, executable, &actions, &attr, a.baseAddress!, e.baseAddress!)
            }
        }
        guard rc == 0 else { throw HarnessError("posix_spawn \(executable) failed: \(String(cString: strerror(rc)))") }
        self.pid = pid
    }

    #if canImport(Glibc)
    private typealias FileActions = posix_spawn_file_actions_t
    #else
    private typealias FileActions = posix_spawn_file_actions_t?
    #endif

    /// `posix_spawn_file_actions_addchdir_np` (glibc ≥ 2.29, macOS ≥ 10.15), looked up at run
    /// time: Swift's Glibc module does not export GNU extensions.
    private static func addChdir(_ actions: inout FileActions, _ dir: String) throws {
        typealias AddChdir = @convention(c) (UnsafeMutablePointer<FileActions>, UnsafePointer<CChar>) -> Int32
        guard let sym = dlsym(dlopen(nil, RTLD_NOW), "posix_spawn_file_actions_addchdir_np") else {
            throw HarnessError("posix_spawn_file_actions_addchdir_np is not available")
        }
        let rc = unsafeBitCast(sym, to: AddChdir.self)(&actions, dir)
        guard rc == 0 else { throw HarnessError("posix_spawn_file_actions_addchdir_np(\(dir)) failed: \(rc)") }
    }

    /// `posix_spawn_file_actions_addclosefrom_np` (glibc ≥ 2.34), looked up at run time: the child
    /// keeps no descriptor but 0, 1 and 2. Without it a daemon inherited whatever the test process
    /// had open at that moment without close-on-exec, such as the write end of the pipe into a
    /// Python reference process that another test was running: that process then never saw the
    /// end of its input, and the suite hung.
    private static func addCloseFrom(_ actions: inout FileActions, _ fd: Int32) throws {
        typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<FileActions>, Int32) -> Int32
        guard let sym = dlsym(dlopen(nil, RTLD_NOW), "posix_spawn_file_actions_addclosefrom_np") else {
            throw HarnessError("posix_spawn_file_actions_addclosefrom_np is not available (glibc 2.34 or later)")
        }
        let rc = unsafeBitCast(sym, to: AddCloseFrom.self)(&actions, fd)
        guard rc == 0 else { throw HarnessError("posix_spawn_file_actions_addclosefrom_np(\(fd)) failed: \(rc)") }
    }

    /// Reaps the child if it has exited (non-blocking).
    var isRunning: Bool {
        guard exitStatus == nil else { return false }
        var status: Int32 = 0
        let r = waitpid(pid, &status, WNOHANG)
        if r == pid {
            exitStatus = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        } else if r < 0 && errno == ECHILD {
            exitStatus = -1
        }
        return exitStatus == nil
    }

    /// Waits, bounded; past the bound stops the child's process group. Returns true on timeout.
    func waitForExit(timeoutSeconds: Double) async -> Bool {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        for _ in 0..<(Int(timeoutSeconds * 100) + 1) {
            if !isRunning || Date() >= deadline { break }
            try? await Task.sleep(for: .milliseconds(10))
        }
        guard isRunning else { return false }
        terminate(graceSeconds: 3)
        return true
    }

    /// SIGTERM to the child, up to `graceSeconds` for it to exit, then SIGKILL to its whole
    /// process group. Blocking, bounded (usable from deinit).
    func terminate(graceSeconds: Double) {
        if isRunning {
            kill(pid, SIGTERM)
            for _ in 0..<(Int(graceSeconds * 20) + 1) {
                if !isRunning { break }
                usleep(50_000)
            }
        }
        kill(-pid, SIGKILL)  // the group: whatever the child started and left behind
        for _ in 0..<100 {
            if !isRunning { return }
            usleep(20_000)
        }
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// `count` distinct free TCP ports on 127.0.0.1: each socket binds port 0 and stays open until all
/// are chosen, so no two are the same.
func freeLoopbackPorts(_ count: Int) throws -> [Int] {
    var fds: [Int32] = []
    defer { for fd in fds { close(fd) } }
    var ports: [Int] = []
    for _ in 0..<count {
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw HarnessError("socket() failed: errno \(errno)") }
        fds.append(fd)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw HarnessError("bind(127.0.0.1:0) failed: errno \(errno)") }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        guard named == 0 else { throw HarnessError("getsockname failed: errno \(errno)") }
        ports.append(Int(UInt16(bigEndian: addr.sin_port)))
    }
    return ports
}

/// PIDs (other than this process) whose command line contains `needle`, from /proc. Used only
/// with a cluster's own config path, which lives in a unique temp folder.
func pidsWithCommandLine(containing needle: String) -> [Int32] {
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
    let me = getpid()
    var out: [Int32] = []
    for e in entries {
        guard let pid = Int32(e), pid != me,
              let raw = FileManager.default.contents(atPath: "/proc/\(e)/cmdline") else { continue }
        let cmd = String(decoding: raw.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
        if cmd.contains(needle) { out.append(pid) }
    }
    return out
}

/// Remote ports of the established TCP connections of process `pid` (IPv4), from its socket
/// descriptors and /proc/net/tcp: which server a client talks to.
func remoteLoopbackPorts(of pid: Int32) -> [Int] {
    let fdDir = "/proc/\(pid)/fd"
    var inodes = Set<String>()
    for fd in (try? FileManager.default.contentsOfDirectory(atPath: fdDir)) ?? [] {
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "\(fdDir)/\(fd)"),
              target.hasPrefix("socket:[") else { continue }
        inodes.insert(String(target.dropFirst(8).dropLast()))
    }
    guard let table = try? String(contentsOfFile: "/proc/\(pid)/net/tcp", encoding: .utf8) else { return [] }
    // Columns: sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...
    return table.split(separator: "\n").dropFirst().compactMap { line -> Int? in
        let f = line.split(separator: " ")
        guard f.count > 9, f[3] == "01", inodes.contains(String(f[9])),
              let port = f[2].split(separator: ":").last.flatMap({ Int($0, radix: 16) }) else { return nil }
        return port
    }
}
