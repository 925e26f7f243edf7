import ArgumentParser
import Foundation
import HFSClient
import HFSCore
import HFSImaging
import HFSIngest
import NIOConcurrencyHelpers

struct Compute: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run image hooks on the datanodes that hold the images.",
        subcommands: [ComputeHooks.self, ComputeRun.self])
}

struct ComputeHooks: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "hooks", abstract: "List the hooks and their parameters.")
    @OptionGroup var client: ClientOptions
    @Flag(name: .long, help: "One JSON object per hook.") var json = false

    func run() async throws {
        let declared = try await client.withClient { try await $0.info().externalHooks ?? [] }
        let hooks = Hooks.all + declared
        for h in hooks {
            if json { out(try jsonLine(h)); continue }
            out("\(h.name) (\(h.kind.rawValue)\(h.external ? ", external" : "")): \(h.summary)")
            for p in h.parameters {
                out("    \(p.name)=\(p.type)" + (p.defaultValue.map { " (default \($0))" } ?? " (required)") + ": \(p.help)")
            }
        }
    }
}

struct ComputeRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run HOOK on every image under PATH... on the datanodes holding them.",
        discussion: """
        Feature hooks print one JSON line per file on stdout: {"path", "hook", "node", "result"} \
        (the hash hooks give hex strings), or {"path", "hook", "node", "error"}. Filter hooks \
        write their images under --out DEST the way cp -r PATH... DEST/ places them (a directory \
        keeps its own name under DEST), committed and replicated like any write; an output keeps \
        its input's name and format (PPM/PGM give PNG, and --param format=png|jpeg forces one: \
        the extension then changes). Two inputs landing on one output, or an output path that \
        exists with other content, are errors, never an overwrite. A summary (files, failures, \
        node-local fraction, bytes read on the datanodes against bytes sent to the client, time, \
        images/s) goes to stderr, and with --json also as a last line {"summary": ...} on stdout. \
        Exit status 1 when some file failed.
        """)
    @OptionGroup var client: ClientOptions
    @Option(name: .long, parsing: .singleValue, help: "Hook parameter k=v (repeat it).") var param: [String] = []
    @Option(name: .customLong("out"), help: "Where a filter hook writes its images.") var outDir: String?
    @Flag(name: .long, help: "Also print the summary as a JSON line on stdout.") var json = false
    @Option(name: .long, help: "Tasks running at once on each datanode.") var tasksPerNode = Limits.computeTasksPerNodeDefault
    @Argument(help: "HOOK") var hook: String
    @Argument(help: "PATH...") var paths: [String] = []

    func validate() throws {
        guard !paths.isEmpty else { throw ValidationError("compute run needs a HOOK and at least one PATH") }
        guard (1...64).contains(tasksPerNode) else { throw ValidationError("--tasks-per-node must be in 1...64") }
    }

    func run() async throws {
        let params = try parseParams(param)
        let declared = try await client.withClient { try await $0.info().externalHooks ?? [] }
        let kind: HookDescription.Kind
        if let d = Hooks.description(hook) {
            try Hooks.validate(hook, params: params)
            kind = d.kind
        } else if let e = declared.first(where: { $0.name == hook }) {
            guard params.isEmpty else { throw HFSError.invalid("\(hook) is declared in cluster.yaml and takes no --param") }
            kind = e.kind
        } else {
            throw HFSError.invalid("no hook named '\(hook)' (hfs compute hooks lists them)")
        }
        if kind == .filter && outDir == nil { throw HFSError.invalid("\(hook) is a filter: give --out DEST for its images") }
        if kind == .feature && outDir != nil { throw HFSError.invalid("\(hook) is a feature hook: it writes no images (drop --out)") }
        let dest = try outDir.map(remotePath)
        let started = Date()
        try await client.withClient { c in
            let (files, outputs) = try await expand(c, dest: dest)
            var options = ComputeOptions(hook: hook, params: params)
            options.tasksPerNode = tasksPerNode
            let writer = dest == nil ? nil : try await IngestWriter(client: c, options: IngestWriteOptions())
            let printer = RowPrinter(hook: hook)
            let failedRows = NIOLockedValueBox(0)
            var stats = try await c.compute(files, options: options) { row in
                if let error = row.error { printer.print(row.path, node: row.node, error: error); return }
                if let result = row.result { printer.print(row.path, node: row.node, result: result); return }
                guard let bytes = row.output, let target = outputs[row.path], let writer else {
                    printer.print(row.path, node: row.node, error: "the datanode sent no output")
                    failedRows.withLockedValue { $0 += 1 }
                    return
                }
                await writer.add(IngestRecord(remote: Self.renamed(target, input: row.path, format: row.outputFormat), bytes: bytes,
                                              image: Self.attributes(bytes), mtime: Date().timeIntervalSince1970))
            }
            stats.failures += failedRows.withLockedValue { $0 }
            var writeFailures: [IngestProblem] = []
            if let writer {
                let counts = await writer.finish()
                writeFailures = counts.failures
                for f in counts.failures { printer.print(f.path, node: nil, error: "output not stored: \(f.reason)") }
                stats.failures += counts.failed
            }
            printer.flush()
            let seconds = Date().timeIntervalSince(started)
            let summary = Summary(hook: hook, files: stats.files, failures: stats.failures, localFraction: stats.localFraction,
                                  bytesReadOnDatanodes: stats.bytesRead, bytesSentToClient: stats.bytesSent, seconds: seconds,
                                  imagesPerSecond: Double(stats.files) / max(seconds, 0.001), tasks: stats.tasks, retries: stats.retries)
            let share = stats.bytesRead > 0 ? fixed(100 * Double(stats.bytesSent) / Double(stats.bytesRead), 2) : "-"
            FileHandle.standardError.write(Data(("compute \(hook): \(stats.files) files, \(stats.failures) failed, node-local \(fixed(stats.localFraction, 2)), "
                + "read \(Units.human(stats.bytesRead)) on the datanodes, \(Units.human(stats.bytesSent)) sent to the client (\(share)%), "
                + "\(fixed(seconds, 1)) s, \(fixed(summary.imagesPerSecond, 0)) images/s\n").utf8))
            if json { out(try jsonLine(["summary": summary])) }
            if stats.failures > 0 {
                throw HFSError(.io, "\(stats.failures) of \(stats.files) file(s) failed" + (writeFailures.isEmpty ? "" : " (\(writeFailures.count) outputs not stored)"))
            }
        }
    }

    struct Summary: Codable {
        var hook: String
        var files: Int
        var failures: Int
        var localFraction: Double
        var bytesReadOnDatanodes: Int64
        var bytesSentToClient: Int64
        var seconds: Double
        var imagesPerSecond: Double
        var tasks: Int
        var retries: Int
        enum CodingKeys: String, CodingKey {
            case hook, files, failures, localFraction = "node_local_fraction", bytesReadOnDatanodes = "bytes_read_on_datanodes",
                 bytesSentToClient = "bytes_sent_to_client", seconds, imagesPerSecond = "images_per_second", tasks, retries
        }
    }

    /// The files under PATH... with their locations, and (for filters) where each output goes:
    /// cp -r rules (a directory argument keeps its own name under DEST).
    func expand(_ c: HFSClient, dest: HFSPath?) async throws -> ([FileLocations], [String: HFSPath]) {
        var paths: [HFSPath] = []
        var outputs: [String: HFSPath] = [:]
        var taken: [HFSPath: String] = [:]
        for raw in self.paths {
            let src = try remotePath(raw)
            let st = try await c.status(src)
            var found: [HFSPath] = []
            if st.type == .file { found = [src] } else {
                let listing = try await c.list(src, recursive: true)
                if listing.truncated { throw HFSError.invalid("\(src) has more than \(Limits.listingEntriesMax) entries: run on its subdirectories") }
                found = try listing.entries.filter { $0.type == .file }.map { try HFSPath($0.path) }
            }
            for p in found {
                paths.append(p)
                guard let dest else { continue }
                let rel = st.type == .file ? [src.name] : [src.isRoot ? "root" : src.name] + p.components.dropFirst(src.components.count)
                var target = dest
                for comp in rel { target = try target.appending(comp) }
                if let other = taken[target] { throw HFSError(.alreadyExists, "\(other) and \(p) would both be written to \(target)") }
                taken[target] = p.description
                outputs[p.description] = target
            }
        }
        // A forced format renames outputs: two inputs may then collide (a.png, a.jpg → a.png).
        var renamed: [HFSPath: String] = [:]
        for (input, target) in outputs.sorted(by: { $0.key < $1.key }) {
            let r = Self.renamed(target, input: input, format: try forcedFormat())
            if let other = renamed[r] { throw HFSError(.alreadyExists, "\(other) and \(input) would both be written to \(r)") }
            renamed[r] = input
        }
        var located: [FileLocations] = []
        for start in stride(from: 0, to: paths.count, by: Limits.locationsPathsMax) {
            located += try await c.locations(Array(paths[start..<min(start + Limits.locationsPathsMax, paths.count)]))
        }
        return (located, outputs)
    }

    func forcedFormat() throws -> String? {
        try parseParams(param)["format"].flatMap { $0 == "input" ? nil : $0 == "jpg" ? "jpeg" : $0 }
    }

    /// The output's path: the input's name, with the extension of `format` when the format changes.
    static func renamed(_ target: HFSPath, input: String, format: String?) -> HFSPath {
        guard let format else { return target }
        let name = target.name
        let ext = (name as NSString).pathExtension.lowercased()
        let same = (format == "jpeg" && ["jpg", "jpeg"].contains(ext)) || (format == ext)
        if same { return target }
        let stem = ext.isEmpty ? name : String(name.dropLast(ext.count + 1))
        let newName = stem + (format == "jpeg" ? ".jpg" : ".\(format)")
        return (try? (target.parent ?? .root).appending(newName)) ?? target
    }

    static func attributes(_ bytes: [UInt8]) -> ImageAttributes? {
        guard case .image(let info) = ImageProbe.probe(bytes) else { return nil }
        return ImageAttributes(format: info.format.rawValue, width: info.width, height: info.height, channels: info.channels,
                               label: nil, sha256: Ingester.sha256(bytes), invalid: nil)
    }
}

/// `--transform HOOK[:ARGS]`: `thumbnail:256` sets the hook's first parameter, `resize:width=64,height=48`
/// names them; a filter hook only.
func parseTransform(_ spec: String) throws -> (hook: String, params: [String: String]) {
    let parts = spec.split(separator: ":", maxSplits: 1).map(String.init)
    guard let hook = parts.first, let d = Hooks.description(hook) else {
        throw HFSError.invalid("--transform \(spec): no hook named '\(parts.first ?? "")' (hfs compute hooks lists them)")
    }
    guard d.kind == .filter else { throw HFSError.invalid("--transform \(spec): \(hook) is a feature hook, not a filter") }
    var params: [String: String] = [:]
    if parts.count == 2 {
        if parts[1].contains("=") {
            params = try parseParams(parts[1].split(separator: ",").map(String.init))
        } else if let first = d.parameters.first {
            params[first.name] = parts[1]
        } else {
            throw HFSError.invalid("--transform \(spec): \(hook) takes no value")
        }
    }
    try Hooks.validate(hook, params: params)
    return (hook, params)
}

/// `k=v` pairs of --param (or of a --transform), checked for shape.
func parseParams(_ raw: [String]) throws -> [String: String] {
    var out: [String: String] = [:]
    for p in raw {
        guard let eq = p.firstIndex(of: "="), eq != p.startIndex else { throw HFSError.invalid("--param \(p): expected k=v") }
        out[String(p[..<eq])] = String(p[p.index(after: eq)...])
    }
    return out
}

/// Feature rows as JSON lines, buffered and written in order of arrival.
final class RowPrinter: @unchecked Sendable {
    let hook: String
    private let lock = NIOLock()
    private var text = ""
    init(hook: String) { self.hook = hook }

    func print(_ path: String, node: String?, result: JSONValue? = nil, error: String? = nil) {
        struct Row: Encodable { var path: String; var hook: String; var node: String?; var result: JSONValue?; var error: String? }
        guard let line = try? jsonLine(Row(path: path, hook: hook, node: node, result: result, error: error)) else { return }
        lock.withLock {
            text += line + "\n"
            if text.utf8.count > 1 << 16 { FileHandle.standardOutput.write(Data(text.utf8)); text = "" }
        }
    }
    func print(_ path: String, node: String?, error: String) { print(path, node: node, result: nil, error: error) }
    func flush() { lock.withLock { FileHandle.standardOutput.write(Data(text.utf8)); text = "" } }
}

