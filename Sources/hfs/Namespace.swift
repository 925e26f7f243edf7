import ArgumentParser
import Foundation
import HFSClient
import HFSCore

/// Collects output lines and writes them once.
struct Lines {
    var text = ""
    mutating func add(_ line: String) { text += line; text += "\n" }
    func flush() { FileHandle.standardOutput.write(Data(text.utf8)) }
}

func jsonLine<T: Encodable>(_ value: T) throws -> String {
    let e = JSONEncoder()
    e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try e.encode(value), as: UTF8.self)
}

func jsonPretty<T: Encodable>(_ value: T) throws -> String {
    let e = JSONEncoder()
    e.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
    return String(decoding: try e.encode(value), as: UTF8.self)
}

enum Format {
    static func permission(_ s: FileStatus) -> String {
        let bits = ["r", "w", "x"]
        var out = s.type == .directory ? "d" : "-"
        for i in (0..<9).reversed() { out += (s.mode >> i) & 1 == 1 ? bits[(8 - i) % 3] : "-" }
        return out
    }

    static let dateFormatter: DateFormatter = {
        let f = DateFormatter()
        f.dateFormat = "yyyy-MM-dd HH:mm"
        f.locale = Locale(identifier: "en_US_POSIX")
        return f
    }()

    /// HDFS `-ls` line: permission, replication (`-` for a directory), owner, group, size, date, path.
    static func long(_ s: FileStatus, human: Bool) -> String {
        let rep = s.type == .directory ? "-" : "\(s.replication)"
        let size = human ? Units.human(s.size) : "\(s.size)"
        let date = dateFormatter.string(from: Date(timeIntervalSince1970: s.mtime))
        return "\(permission(s)) \(pad(rep, 3)) \(s.owner) \(s.group) \(pad(size, 10)) \(date) \(s.path)"
    }

    static func pad(_ s: String, _ width: Int) -> String { String(repeating: " ", count: max(width - s.count, 0)) + s }
    static func size(_ v: Int64, human: Bool) -> String { human ? Units.human(v) : "\(v)" }
}

struct Ls: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List a directory (or show a file).",
        discussion: "Prints one path per line; -l gives HDFS-style lines; --json one JSON object per entry.")
    @OptionGroup var client: ClientOptions
    @Flag(name: .customShort("l"), help: "Long lines: permissions, replication, owner, group, size, mtime, path.") var long = false
    @Flag(name: .customShort("R"), help: "Recurse into subdirectories.") var recursive = false
    @Flag(name: .customShort("h"), help: "Human-readable sizes (with -l).") var human = false
    @Flag(name: .long, help: "One JSON object per entry: path, type, size, replication, mtime (and more).") var json = false
    @Argument(help: "Remote path.") var path = "/"

    func run() async throws {
        let p = try remotePath(path)
        let listing = try await client.withClient { c -> ListResponse in
            let st = try await c.status(p)
            if st.type == .file { return ListResponse(entries: [st], truncated: false) }
            return try await c.list(p, recursive: recursive)
        }
        var lines = Lines()
        for e in listing.entries {
            if json { lines.add(try jsonLine(e)) } else if long { lines.add(Format.long(e, human: human)) } else { lines.add(e.path) }
        }
        lines.flush()
        if listing.truncated { throw HFSError(.invalidArgument, "listing stopped after \(Limits.listingEntriesMax) entries") }
    }
}

struct Mkdir: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create directories.")
    @OptionGroup var client: ClientOptions
    @Flag(name: .customShort("p"), help: "Create parents as needed; no error if it exists.") var parents = false
    @Argument(help: "Remote directories.") var paths: [String] = []
    func validate() throws { guard !paths.isEmpty else { throw ValidationError("mkdir needs a path") } }
    func run() async throws {
        let ps = try paths.map(remotePath)
        try await client.withClient { c in for p in ps { try await c.mkdir(p, parents: parents) } }
    }
}

struct Rm: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Remove files, or directory trees with -r.")
    @OptionGroup var client: ClientOptions
    @Flag(name: .customShort("r"), help: "Remove directories and everything under them.") var recursive = false
    @Argument(help: "Remote paths.") var paths: [String] = []
    func validate() throws { guard !paths.isEmpty else { throw ValidationError("rm needs a path") } }
    func run() async throws {
        let ps = try paths.map(remotePath)
        try await client.withClient { c in
            for p in ps {
                if p.isRoot { throw HFSError.invalid("refusing to remove /") }
                let st = try await c.status(p)
                if st.type == .directory && !recursive { throw HFSError(.isADirectory, "\(p) is a directory (use -r)") }
                try await c.delete(p, recursive: recursive)
            }
        }
    }
}

struct Mv: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Move or rename a file or directory (one metadata update, whatever its size).",
        discussion: "Like mv: when DST is an existing directory, SRC moves inside it under its own name.")
    @OptionGroup var client: ClientOptions
    @Argument(help: "Source path.") var src: String
    @Argument(help: "Destination path.") var dst: String
    func run() async throws {
        let s = try remotePath(src), d = try remotePath(dst)
        try await client.withClient { c in try await c.rename(s, d) }
    }
}

/// What `stat --json` prints.
struct StatOutput: Encodable {
    struct Block: Encodable {
        var block: Int64
        var generation: Int64
        var offset: Int64
        var storedLength: Int64
        var logicalLength: Int64
        var replicas: [DatanodeInfo]
    }
    var path: String
    var type: FileKind
    var size: Int64
    var storedSize: Int64
    var replication: Int
    var codec: String?
    var mtime: Double
    var owner: String
    var group: String
    var permission: String
    var blocks: [Block]
}

struct Stat: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a file's size, replication, codec, stored bytes and blocks with their replica locations.",
        discussion: "Each block's replicas are listed in the order readers try them: the first one serves every read while it is up.")
    @OptionGroup var client: ClientOptions
    @Flag(name: .long, help: "Print JSON.") var json = false
    @Argument(help: "Remote path.") var path: String

    func run() async throws {
        let p = try remotePath(path)
        let o = try await client.withClient { c -> StatOutput in
            let st = try await c.status(p)
            var blocks: [StatOutput.Block] = []
            if st.type == .file {
                let loc = try await c.locations(p)
                blocks = loc.extents.map {
                    .init(block: $0.extent.block, generation: $0.generation, offset: $0.extent.offset, storedLength: $0.extent.storedLength,
                          logicalLength: $0.extent.logicalLength, replicas: $0.replicas)
                }
            }
            return StatOutput(path: st.path, type: st.type, size: st.size, storedSize: st.storedSize, replication: st.replication,
                              codec: st.codec, mtime: st.mtime, owner: st.owner, group: st.group, permission: Format.permission(st), blocks: blocks)
        }
        if json { out(try jsonPretty(o)); return }
        var lines = Lines()
        lines.add("path: \(o.path)")
        lines.add("type: \(o.type.rawValue)")
        lines.add("permission: \(o.permission) \(o.owner) \(o.group)")
        lines.add("modified: \(Format.dateFormatter.string(from: Date(timeIntervalSince1970: o.mtime)))")
        if o.type == .file {
            lines.add("size: \(o.size)")
            lines.add("stored: \(o.storedSize) (one replica, after compression)")
            lines.add("replication: \(o.replication)")
            lines.add("codec: \(o.codec ?? "-")")
            lines.add("blocks: \(o.blocks.count)")
            for b in o.blocks {
                lines.add("  block \(b.block) gen \(b.generation) offset \(b.offset) stored \(b.storedLength) logical \(b.logicalLength) on \(b.replicas.map(\.id).joined(separator: ","))")
            }
        }
        lines.flush()
    }
}

struct Du: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Logical and stored bytes under a path.",
        discussion: "Columns: logical bytes, stored bytes of one replica (after compression), raw bytes on the datanodes (all replicas), path.")
    @OptionGroup var client: ClientOptions
    @Flag(name: .customShort("s"), help: "One summary line for PATH instead of one line per child.") var summary = false
    @Flag(name: .customShort("h"), help: "Human-readable sizes.") var human = false
    @Flag(name: .long, help: "Print JSON (one object per line).") var json = false
    @Argument(help: "Remote path.") var path = "/"

    func run() async throws {
        let p = try remotePath(path)
        let rows = try await client.withClient { c -> [DuResponse] in
            let st = try await c.status(p)
            if summary || st.type == .file { return [try await c.du(p)] }
            var rows: [DuResponse] = []
            for e in try await c.list(p).entries { rows.append(try await c.du(try HFSPath(e.path))) }
            return rows
        }
        var lines = Lines()
        for r in rows {
            if json { lines.add(try jsonLine(r)); continue }
            lines.add("\(Format.pad(Format.size(r.logicalBytes, human: human), 12))  \(Format.pad(Format.size(r.storedBytes, human: human), 12))  \(Format.pad(Format.size(r.rawBytes, human: human), 12))  \(r.path)")
        }
        lines.flush()
    }
}

struct Report: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Every datanode: id, address, rack, state, capacity, used, blocks, seconds since its last heartbeat.",
        discussion: """
        State is live, stale or dead, followed by decommissioning or decommissioned for a node \
        being taken out of service (hfs admin decommission). A first line `safe mode: ...` says \
        the namenode has just started and is waiting for block reports.
        """)
    @OptionGroup var client: ClientOptions
    @Flag(name: .long, help: "Print JSON: {\"datanodes\":[...]}.") var json = false
    @Flag(name: .customShort("h"), help: "Human-readable sizes.") var human = false

    func run() async throws {
        let r = try await client.withClient { try await $0.report() }
        if json { out(try jsonPretty(r)); return }
        var lines = Lines()
        if let why = r.safeMode { lines.add("safe mode: \(why)") }
        lines.add("datanodes: \(r.datanodes.count) (\(r.datanodes.filter { $0.state == "live" }.count) live)")
        for d in r.datanodes {
            let hb = d.lastHeartbeatSeconds.map { String(format: "%.1fs ago", $0) } ?? "never"
            let state = d.adminState == AdminState.normal.rawValue ? d.state : "\(d.state) \(d.adminState)"
            lines.add("\(d.id)  \(d.address)  rack \(d.rack)  \(state)  capacity \(Format.size(d.capacityBytes, human: human))  used \(Format.size(d.usedBytes, human: human))  blocks \(d.blocks)  heartbeat \(hb)")
        }
        lines.flush()
    }
}

struct Fsck: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check files, blocks and replicas under a path; exit status 1 when anything is unhealthy.")
    @OptionGroup var client: ClientOptions
    @Flag(name: .long, help: "Print JSON.") var json = false
    @Argument(help: "Remote path.") var path = "/"

    func run() async throws {
        let p = try remotePath(path)
        let r = try await client.withClient { try await $0.fsck(p) }
        if json {
            out(try jsonPretty(r))
        } else {
            var lines = Lines()
            for problem in r.problems { lines.add(problem) }
            lines.add("path: \(r.path)")
            lines.add("files: \(r.files)  directories: \(r.directories)  blocks: \(r.blocks)  live replicas: \(r.replicas)")
            lines.add("under-replicated: \(r.underReplicated)  missing: \(r.missing)  corrupt: \(r.corrupt)  decommissioning: \(r.decommissioning)")
            if let why = r.safeMode { lines.add("safe mode: \(why)") }
            lines.add("status: \(r.healthy ? "HEALTHY" : "UNHEALTHY")")
            lines.flush()
        }
        if !r.healthy { throw ExitCode(1) }
    }
}
