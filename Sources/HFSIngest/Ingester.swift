import AsyncHTTPClient
import Crypto
import Foundation
import HFSClient
import HFSCore
import HFSImaging
import NIOCore

/// `hfs ingest` options (see `hfs ingest --help`).
public struct IngestOptions: Sendable {
    public var labels: LabelSource = .none
    public var include: GlobFilter?
    /// Files read, probed and hashed at once (and URLs fetched at once).
    public var workers = 4
    public var write = IngestWriteOptions()
    /// Store invalid images anyway, flagged with the reason.
    public var keepInvalid = false
    public init() {}
}

/// The outcome of one ingest run; `--json` prints it.
public struct IngestSummary: Sendable, Codable {
    public var ingested = 0
    public var alreadyPresent = 0
    public var deduplicated = 0
    public var invalid = 0
    public var failed = 0
    public var logicalBytes: Int64 = 0
    public var storedBytes: Int64 = 0
    public var savedBytes: Int64 = 0
    public var seconds = 0.0
    /// Invalid images (skipped, or stored flagged with `--keep-invalid`), with the reason.
    public var invalidFiles: [IngestProblem] = []
    /// Files that could not be stored, with the reason; a rerun retries them.
    public var failures: [IngestProblem] = []

    enum CodingKeys: String, CodingKey {
        case ingested, alreadyPresent = "already_present", deduplicated, invalid, failed, logicalBytes = "logical_bytes",
             storedBytes = "stored_bytes", savedBytes = "saved_bytes", seconds, invalidFiles = "invalid_files", failures
    }
}

/// Reads sources (directory trees, `.tar`/`.tar.gz` archives and shard patterns, lists of paths
/// and URLs), probes and hashes every file on `workers` tasks, and hands the records to an
/// ``IngestWriter``. SOURCE/<relative path> (or <path inside the archive>) lands at
/// DEST/<relative path>, so a rerun lands on the same paths and skips what is committed.
public final class Ingester: @unchecked Sendable {
    let client: HFSClient
    let options: IngestOptions
    let progress: IngestProgress
    private var summary = IngestSummary()
    private var http: HTTPClient?

    public init(client: HFSClient, options: IngestOptions, progress: IngestProgress) {
        self.client = client; self.options = options; self.progress = progress
    }

    /// One unit of work: a file (an image, or a sample's image with its sidecars).
    struct Item: Sendable {
        enum Load: Sendable { case file(String), bytes([UInt8]), url(String) }
        /// For messages: the local path, `archive:path` or the URL.
        var source: String
        var destination: HFSPath
        var label: String?
        var load: Load
        /// Known already for archive entries (the WebDataset grouper probes them).
        var probe: ProbeResult?
        var sidecars: [(destination: HFSPath, bytes: [UInt8])] = []
    }

    public func run(sources: [String], dest: HFSPath) async throws -> IngestSummary {
        let start = Date()
        let kinds = try sources.flatMap { try SourceKind.classify($0) }
        progress.total = try Self.countFiles(kinds, filter: options.include)
        try await client.registerDataset(dest)
        if kinds.contains(where: { if case .list = $0 { true } else { false } }) { http = makeHTTPClient() }
        do {
            try await ingest(kinds, dest: dest)
        } catch {
            try? await http?.shutdown()
            throw error
        }
        try? await http?.shutdown()
        summary.seconds = Date().timeIntervalSince(start)
        progress.finish()
        return summary
    }

    private func ingest(_ kinds: [SourceKind], dest: HFSPath) async throws {
        let progress = self.progress
        let writer = try await IngestWriter(client: client, options: options.write) { counts in
            progress.add(files: counts.ingested + counts.alreadyPresent + counts.failed, bytes: counts.logicalBytes)
        }
        try await withThrowingTaskGroup(of: Prepared.self) { group in
            var running = 0
            let limit = max(1, options.workers)
            try await forEachItem(kinds, dest: dest) { item in
                if running >= limit, let done = try await group.next() {
                    running -= 1
                    await self.accept(done, writer: writer)
                }
                group.addTask { await self.prepare(item) }
                running += 1
            }
            for try await done in group { await accept(done, writer: writer) }
        }
        let counts = await writer.finish()
        summary.ingested = counts.ingested
        summary.alreadyPresent = counts.alreadyPresent
        summary.deduplicated = counts.deduplicated
        summary.failed += counts.failed
        summary.failures += counts.failures
        summary.logicalBytes = counts.logicalBytes
        summary.storedBytes = counts.storedBytes
        summary.savedBytes = counts.savedBytes
    }

    // MARK: preparing one item (on a worker task)

    /// An item read, probed and hashed: records to write, or why it is skipped.
    enum Prepared: Sendable {
        case records([IngestRecord], invalid: IngestProblem?)
        case skipped(IngestProblem, invalid: Bool)
    }

    func prepare(_ item: Item) async -> Prepared {
        let bytes: [UInt8]
        do { bytes = try await load(item) } catch {
            return .skipped(IngestProblem(path: item.source, reason: Self.message(error)), invalid: false)
        }
        let probe = item.probe ?? ImageProbe.probe(bytes)
        let sha = Self.sha256(bytes)
        let now = Date().timeIntervalSince1970
        var image: ImageAttributes
        var problem: IngestProblem?
        switch probe {
        case .image(let info):
            image = ImageAttributes(format: info.format.rawValue, width: info.width, height: info.height, channels: info.channels,
                                    label: item.label, sha256: sha, invalid: nil)
        case .invalid(let why):
            problem = IngestProblem(path: item.source, reason: why.reason)
            guard options.keepInvalid else { return .skipped(problem!, invalid: true) }
            image = ImageAttributes(format: nil, width: nil, height: nil, channels: nil, label: item.label, sha256: sha, invalid: why.reason)
        }
        var records = [IngestRecord(remote: item.destination, bytes: bytes, image: image, mtime: now)]
        records += item.sidecars.map { IngestRecord(remote: $0.destination, bytes: $0.bytes, image: nil, mtime: now) }
        return .records(records, invalid: problem)
    }

    private func accept(_ prepared: Prepared, writer: IngestWriter) async {
        switch prepared {
        case .records(let records, let invalid):
            if let invalid { noteInvalid(invalid, kept: true) }
            for r in records { await writer.add(r) }
        case .skipped(let problem, let invalid):
            if invalid { noteInvalid(problem, kept: false) } else { noteFailure(problem) }
            progress.add(files: 1, bytes: 0)
        }
    }

    private func noteInvalid(_ p: IngestProblem, kept: Bool) {
        summary.invalid += 1
        summary.invalidFiles.append(p)
        progress.message("invalid image \(p.path): \(p.reason)" + (kept ? " (stored, flagged)" : " (skipped)"))
    }

    private func noteFailure(_ p: IngestProblem) {
        summary.failed += 1
        summary.failures.append(p)
        progress.message("failed \(p.path): \(p.reason)")
    }

    private func load(_ item: Item) async throws -> [UInt8] {
        switch item.load {
        case .bytes(let b): return b
        case .file(let path): return try Self.readFile(path)
        case .url(let url): return try await fetch(url)
        }
    }

    static func readFile(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw IngestError(.io, "cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw IngestError(.io, "cannot stat \(path): \(String(cString: strerror(errno)))") }
        let size = Int(st.st_size)
        guard size <= IngestLimits.tarEntryBytesMaxDefault else {
            throw IngestError(.entryTooLarge, "\(path) is \(size) bytes; ingest takes files up to \(IngestLimits.tarEntryBytesMaxDefault)")
        }
        return try [UInt8](unsafeUninitializedCapacity: size) { buf, got in
            got = 0
            while got < size {
                let n = read(fd, buf.baseAddress! + got, size - got)
                if n < 0 && errno == EINTR { continue }
                guard n >= 0 else { throw IngestError(.io, "read \(path): \(String(cString: strerror(errno)))") }
                if n == 0 { throw IngestError(.io, "\(path) shrank while being read") }
                got += n
            }
        }
    }

    /// GET with a timeout, retried on transport errors and 5xx answers (3 attempts, backoff).
    private func fetch(_ url: String) async throws -> [UInt8] {
        guard let http else { throw IngestError(.io, "no HTTP client for \(url)") }
        var lastError = ""
        for attempt in 0..<IngestLimits.fetchAttempts {
            if attempt > 0 { try await Task.sleep(nanoseconds: UInt64(250_000_000) << attempt) }
            do {
                var request = HTTPClientRequest(url: url)
                request.method = .GET
                let response = try await http.execute(request, timeout: .seconds(IngestLimits.fetchTimeoutSeconds))
                if response.status == .ok {
                    return Array(buffer: try await response.body.collect(upTo: IngestLimits.tarEntryBytesMaxDefault))
                }
                lastError = "HTTP \(response.status.code)"
                if response.status.code < 500 { break }
            } catch {
                lastError = "\(error)".replacingOccurrences(of: "\n", with: " ")
            }
        }
        throw IngestError(.io, "fetching \(url) failed: \(lastError)")
    }

    private func makeHTTPClient() -> HTTPClient {
        var config = HTTPClient.Configuration()
        config.timeout.connect = .seconds(5)
        config.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = max(8, options.workers)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
    }

    // MARK: sources

    enum SourceKind {
        case directory(String)
        case archive(String)
        case list(String)

        static func classify(_ source: String) throws -> [SourceKind] {
            if ShardPattern.isPattern(source) && !FileManager.default.fileExists(atPath: source) {
                return try ShardPattern.expand(source).map { shard in
                    guard FileManager.default.fileExists(atPath: shard) else { throw IngestError(.io, "no such shard: \(shard) (from \(source))") }
                    return .archive(shard)
                }
            }
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: source, isDirectory: &isDir) else {
                throw IngestError(.io, "no such file or directory: \(source)")
            }
            if isDir.boolValue { return [.directory(source)] }
            if try isArchive(source) { return [.archive(source)] }
            let ext = (source as NSString).pathExtension.lowercased()
            guard ["txt", "list", "lst", "urls"].contains(ext) else {
                throw IngestError(.io, "\(source) is not a directory, a .tar/.tar.gz archive or a list of paths/URLs (.txt, .list)")
            }
            return [.list(source)]
        }

        /// gzip magic, or `ustar` at offset 257 of the first tar header.
        static func isArchive(_ path: String) throws -> Bool {
            guard let h = FileHandle(forReadingAtPath: path) else { throw IngestError(.io, "cannot open \(path)") }
            defer { try? h.close() }
            let head = [UInt8]((try? h.read(upToCount: 512)) ?? Data())
            if head.count >= 2 && head[0] == 0x1F && head[1] == 0x8B { return true }
            return head.count >= 262 && Array(head[257..<262]) == Array("ustar".utf8)
        }
    }

    /// Walks one source and calls `body` with each item, in a deterministic order.
    private func forEachItem(_ kinds: [SourceKind], dest: HFSPath, _ body: (Item) async throws -> Void) async throws {
        for kind in kinds {
            switch kind {
            case .directory(let root):
                let walker = try DirectoryWalker(root: root, filter: options.include)
                while let f = try walker.next() {
                    guard let destination = destination(dest, f.relativePath, source: f.absolutePath) else { continue }
                    try await body(Item(source: f.absolutePath, destination: destination,
                                        label: options.labels.label(forRelativePath: f.relativePath), load: .file(f.absolutePath)))
                }
                for s in walker.skipped {
                    noteFailure(IngestProblem(path: (root as NSString).appendingPathComponent(s.relativePath), reason: s.reason))
                }
            case .archive(let path):
                let grouper = WebDatasetGrouper(reader: try TarReader(path: path))
                while true {
                    let sample: Sample?
                    do { sample = try grouper.next() } catch let e as IngestError where e.kind == .entryTooLarge {
                        noteFailure(IngestProblem(path: path, reason: e.message))
                        continue
                    }
                    guard let sample else { break }
                    guard let image = sample.image else {
                        for s in sample.sidecars { noteFailure(IngestProblem(path: "\(path):\(s.entry.path)", reason: "a sidecar without an image")) }
                        continue
                    }
                    if let filter = options.include, !filter.matches(relativePath: image.path) { continue }
                    let source = "\(path):\(image.path)"
                    guard let destination = destination(dest, image.path, source: source) else { continue }
                    var sidecars: [(HFSPath, [UInt8])] = []
                    for s in sample.sidecars {
                        guard let d = self.destination(dest, s.entry.path, source: "\(path):\(s.entry.path)") else { continue }
                        sidecars.append((d, s.entry.bytes))
                    }
                    try await body(Item(source: source, destination: destination,
                                        label: sample.label ?? options.labels.label(forRelativePath: image.path),
                                        load: .bytes(image.bytes), probe: sample.probe, sidecars: sidecars))
                }
            case .list(let path):
                for entry in try PathList.read(contentsOfFile: path) {
                    if let filter = options.include, !filter.matches(relativePath: entry.relativePath) { continue }
                    let (source, load): (String, Item.Load) = switch entry.location {
                    case .local(let p): (p, .file(p))
                    case .url(let u): (u, .url(u))
                    }
                    guard let destination = destination(dest, entry.relativePath, source: source) else { continue }
                    try await body(Item(source: source, destination: destination,
                                        label: options.labels.label(forRelativePath: entry.relativePath), load: load))
                }
            }
        }
    }

    /// DEST/<relative>, or nil after reporting a name hfs cannot store.
    private func destination(_ dest: HFSPath, _ relative: String, source: String) -> HFSPath? {
        do {
            return try HFSPath(DestinationMapping.destination(dest.description, relative, source: source))
        } catch {
            noteFailure(IngestProblem(path: source, reason: Self.message(error)))
            return nil
        }
    }

    /// Files to ingest, when knowable without reading archives (for progress and ETA).
    static func countFiles(_ kinds: [SourceKind], filter: GlobFilter?) throws -> Int? {
        var total = 0
        for kind in kinds {
            switch kind {
            case .directory(let root):
                let walker = try DirectoryWalker(root: root, filter: filter)
                while try walker.next() != nil { total += 1 }
            case .list(let path):
                total += try PathList.read(contentsOfFile: path).count
            case .archive:
                return nil
            }
        }
        return total
    }

    static func message(_ error: any Error) -> String {
        if let e = error as? HFSError { return e.message }
        if let e = error as? IngestError { return e.message }
        return "\(error)"
    }

    public static func sha256(_ bytes: [UInt8]) -> String {
        let digest = SHA256.hash(data: bytes)
        let hex = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for b in digest { out.append(hex[Int(b >> 4)]); out.append(hex[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }
}
