import ArgumentParser
import Foundation
import HFSClient
import HFSCore
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

struct Get: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy files and directory trees out of hfs.",
        discussion: """
        Like cp -r: when LOCAL is an existing directory each source keeps its own name inside it; \
        otherwise LOCAL is the new name. Every frame is verified; a bad replica is skipped for the \
        next one. A file appears under its name only once all of it has been verified.
        """)

    @OptionGroup var client: ClientOptions
    @Flag(name: .shortAndLong, help: "Overwrite existing local files. This is already what get does (as cp); accepted for HDFS habits.")
    var force = false
    @Option(name: .long, help: "Run a filter hook on the datanode that serves each file and write its output: HOOK[:VALUE] or HOOK:k=v,k=v (e.g. thumbnail:256).")
    var transform: String?
    @Flag(name: .long, help: "Write files of 64 MiB and more through the page cache too (by default they bypass it with O_DIRECT, as a disk copy tool would).")
    var cache = false
    @Argument(help: "REMOTE... LOCAL") var paths: [String] = []

    func validate() throws {
        guard paths.count >= 2 else { throw ValidationError("get needs at least one REMOTE source and a LOCAL destination") }
    }

    func run() async throws {
        let transform = try self.transform.map(parseTransform)
        let local = paths.last!
        let sources = try paths.dropLast().map(remotePath)
        var isDir: ObjCBool = false
        let intoDir = FileManager.default.fileExists(atPath: local, isDirectory: &isDir) && isDir.boolValue
        if sources.count > 1 && !intoDir { throw HFSError(.notADirectory, "target '\(local)' is not an existing directory") }
        try await client.withClient { c in
            var jobs: [(HFSPath, String)] = []
            for src in sources {
                let st = try await c.status(src)
                let target = intoDir ? (local as NSString).appendingPathComponent(src.isRoot ? "root" : src.name) : local
                if st.type == .file {
                    jobs.append((src, target))
                    continue
                }
                try makeLocalDir(target)
                let listing = try await c.list(src, recursive: true)
                if listing.truncated { throw HFSError(.invalidArgument, "\(src) has more than \(Limits.listingEntriesMax) entries: get its subdirectories one by one") }
                for e in listing.entries {
                    let p = try HFSPath(e.path)
                    let rel = p.components.dropFirst(src.components.count).joined(separator: "/")
                    let dest = (target as NSString).appendingPathComponent(rel)
                    if e.type == .directory { try makeLocalDir(dest) } else { jobs.append((p, dest)) }
                }
            }
            // Locations in batches (one namenode request per batch), reads in parallel.
            for start in stride(from: 0, to: jobs.count, by: Limits.locationsPathsMax) {
                let batch = Array(jobs[start..<min(start + Limits.locationsPathsMax, jobs.count)])
                let locations = try await c.locations(batch.map(\.0))
                if let transform {
                    try await Self.fetchTransformed(c, locations, to: Dictionary(uniqueKeysWithValues: batch.map { ($0.0.description, $0.1) }),
                                                    hook: transform.hook, params: transform.params)
                    continue
                }
                // Large files stream extent by extent into their local file; small ones are read
                // whole, neighbours in a block with one request (HFSClient.readMany).
                let small = zip(locations, batch).filter { $0.0.status.size <= Limits.coalescedReadBytesMax }
                let large = zip(locations, batch).filter { $0.0.status.size > Limits.coalescedReadBytesMax }
                let targets = small.map(\.1.1)
                try await c.readMany(small.map(\.0), inFlight: Limits.getFilesInFlightMax) { i, bytes in
                    let sink = try LocalFileSink(path: targets[i])
                    try sink.write(bytes, at: 0)
                    sink.commit()
                }
                try await withThrowingTaskGroup(of: Void.self) { group in
                    var inFlight = 0
                    for (loc, job) in large {
                        if inFlight >= Limits.getLargeFilesInFlightMax { try await group.next(); inFlight -= 1 }
                        let direct = !cache && loc.status.size >= Limits.directWriteBytesMin
                        group.addTask { try await Self.fetch(c, loc, to: job.1, direct: direct) }
                        inFlight += 1
                    }
                    try await group.waitForAll()
                }
            }
        }
    }

    /// Each file through a filter hook on a datanode holding it; the output is written locally.
    static func fetchTransformed(_ c: HFSClient, _ files: [FileLocations], to dest: [String: String],
                                 hook: String, params: [String: String]) async throws {
        let failures = NIOLockedValueBox<[String]>([])
        _ = try await c.compute(files, options: ComputeOptions(hook: hook, params: params)) { row in
            guard let target = dest[row.path] else { return }
            guard let bytes = row.output else {
                failures.withLockedValue { $0.append("\(row.path): \(row.error ?? "no output")") }
                return
            }
            do { try Data(bytes).write(to: URL(fileURLWithPath: target), options: .atomic) } catch {
                failures.withLockedValue { $0.append("cannot write \(target): \(error.localizedDescription)") }
            }
        }
        let failed = failures.withLockedValue { $0 }
        if let first = failed.first {
            throw HFSError(.io, "--transform \(hook) failed for \(failed.count) file(s); first: \(first)")
        }
    }

    static func fetch(_ c: HFSClient, _ loc: FileLocations, to dest: String, direct: Bool) async throws {
        let sink = try LocalFileSink(path: dest, direct: direct, size: loc.status.size)
        try await c.read(loc, extentsInFlight: Limits.getExtentsInFlightMax) { buffer, offset in
            // Direct writes wait for the disk: they run beside the cooperative threads, which
            // go on receiving and verifying the other extents meanwhile.
            if direct {
                try await NIOThreadPool.singleton.runIfActive { try sink.write(buffer, at: offset) }
            } else {
                try sink.write(buffer, at: offset)
            }
        }
        sink.commit()
    }

    func makeLocalDir(_ path: String) throws {
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            throw HFSError(.io, "cannot create local directory '\(path)': \(error.localizedDescription)")
        }
    }
}

struct Cat: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Write files to stdout, verified.")
    @OptionGroup var client: ClientOptions
    @Argument(help: "REMOTE files") var paths: [String] = []

    func validate() throws { guard !paths.isEmpty else { throw ValidationError("cat needs a REMOTE file") } }

    func run() async throws {
        let files = try paths.map(remotePath)
        try await client.withClient { c in
            for f in files {
                let loc = try await c.locations(f)
                try await c.read(loc, extentsInFlight: Limits.catExtentsInFlightMax, aheadBytesMax: Limits.catAheadBytesMax) { buffer in
                    let err = buffer.withUnsafeReadableBytes { Posix.writeAll(1, $0) }
                    if err != 0 { throw HFSError(.io, "local: write to stdout: \(String(cString: strerror(err)))") }
                }
            }
        }
    }
}
