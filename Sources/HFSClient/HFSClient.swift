import AsyncHTTPClient
import Foundation
import HFSCore
import NIOCore
import NIOFoundationCompat

/// The hfs client library used by the CLI, tests and any Swift program: metadata calls to the
/// namenode, framed and checksummed writes through datanode pipelines (small files batched into
/// packed blocks, large files streamed into dedicated blocks), verified reads with failover
/// between replicas. Bytes never pass through the namenode.
///
/// Call ``shutdown()`` when done.
public final class HFSClient: Sendable {
    public let namenode: HostPort
    /// To the namenode.
    let http: HTTPClient
    /// To datanodes.
    let dataHTTP: HTTPClient
    public let owner: String

    public init(namenode: HostPort) {
        self.namenode = namenode
        var hc = HTTPClient.Configuration()
        hc.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = Limits.connectionsPerHostMax
        hc.timeout.connect = .seconds(Limits.connectTimeoutSeconds)
        hc.decompression = .disabled
        hc.http1_1ConnectionDebugInitializer = SocketReads.large
        // The namenode: a refused connection is tried again until the connect timeout (a
        // namenode that is restarting is back within it).
        self.http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: hc)
        // Datanodes: a refused connection fails the request at once, and the reader moves to
        // the next replica (the writer rebuilds its pipeline) instead of waiting out the connect
        // timeout on every request to a node that is down but not yet declared dead.
        hc.connectionPool.retryConnectionEstablishment = false
        self.dataHTTP = HTTPClient(eventLoopGroupProvider: .singleton, configuration: hc)
        self.owner = ProcessInfo.processInfo.environment["USER"].flatMap { $0.isEmpty ? nil : $0 } ?? Self.loginName()
    }

    public func shutdown() async {
        try? await http.shutdown()
        try? await dataHTTP.shutdown()
    }

    private static func loginName() -> String {
        if let pw = getpwuid(getuid()), let name = pw.pointee.pw_name { return String(cString: name) }
        return "\(getuid())"
    }

    // MARK: control plane

    var base: String { "http://\(namenode)/api/v1" }

    func get<Answer: Decodable>(_ path: String, _ query: [String: String] = [:]) async throws -> Answer {
        var comps = URLComponents()
        comps.queryItems = query.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) }
        var q = comps.percentEncodedQuery ?? ""
        // '+' is a space in form encoding; keep it literal.
        q = q.replacingOccurrences(of: "+", with: "%2B")
        var req = HTTPClientRequest(url: "\(base)/\(path)" + (q.isEmpty ? "" : "?\(q)"))
        req.method = .GET
        return try await send(req)
    }

    func post<Body: Encodable, Answer: Decodable>(_ path: String, _ body: Body) async throws -> Answer {
        var req = HTTPClientRequest(url: "\(base)/\(path)")
        req.method = .POST
        req.headers.add(name: "content-type", value: "application/json")
        req.body = .bytes(ByteBuffer(data: try JSONEncoder().encode(body)))
        return try await send(req)
    }

    private func send<Answer: Decodable>(_ req: HTTPClientRequest) async throws -> Answer {
        let response: HTTPClientResponse
        do { response = try await http.execute(req, timeout: .seconds(Limits.requestTimeoutSeconds)) } catch {
            throw HFSError(.unavailable, "cannot reach the namenode at \(namenode): \(Self.describe(error))")
        }
        let bytes = try await response.body.collect(upTo: Limits.controlBodyBytesMax)
        guard response.status == .ok else { throw Self.remoteError(bytes, status: Int(response.status.code), from: "namenode") }
        do { return try JSONDecoder().decode(Answer.self, from: bytes) } catch {
            throw HFSError(.internal, "unexpected answer from the namenode: \(error)")
        }
    }

    static func remoteError(_ bytes: ByteBuffer, status: Int, from who: String) -> HFSError {
        if let e = try? JSONDecoder().decode(ErrorBody.self, from: bytes) { return e.error }
        return HFSError(.unavailable, "\(who) answered HTTP \(status)")
    }

    /// One line for a transport error ("connection refused", "timed out").
    static func describe(_ error: any Error) -> String {
        if let e = error as? HFSError { return e.message }
        let text = "\(error)"
        if text.contains("connectTimeout") { return "connection timed out" }
        if text.contains("Connection refused") || text.contains("connectionRefused") || text.contains("ECONNREFUSED") { return "connection refused" }
        if text.contains("deadlineExceeded") { return "request timed out" }
        return text.replacingOccurrences(of: "\n", with: " ")
    }

    // MARK: namespace

    public func info() async throws -> ClusterInfo { try await get("cluster/info") }
    public func report() async throws -> ReportResponse { try await get("cluster/report") }

    public func status(_ path: HFSPath) async throws -> FileStatus { try await get("fs/status", ["path": path.description]) }

    /// The status, or nil when nothing is at `path`.
    public func statusIfExists(_ path: HFSPath) async throws -> FileStatus? {
        do { return try await status(path) } catch let e as HFSError where e.code == .notFound { return nil }
    }

    public func list(_ path: HFSPath, recursive: Bool = false) async throws -> ListResponse {
        try await get("fs/list", ["path": path.description, "recursive": recursive ? "1" : "0"])
    }
    public func locations(_ path: HFSPath) async throws -> FileLocations { try await get("fs/locations", ["path": path.description]) }
    /// Locations of many files, ``Limits/locationsPathsMax`` per request.
    public func locations(_ paths: [HFSPath]) async throws -> [FileLocations] {
        var out: [FileLocations] = []
        for start in stride(from: 0, to: paths.count, by: Limits.locationsPathsMax) {
            let chunk = paths[start..<min(start + Limits.locationsPathsMax, paths.count)]
            let r: LocationsResponse = try await post("fs/locations", LocationsRequest(paths: chunk.map(\.description)))
            out += r.files
        }
        return out
    }
    public func du(_ path: HFSPath) async throws -> DuResponse { try await get("fs/du", ["path": path.description]) }
    public func fsck(_ path: HFSPath) async throws -> FsckResponse { try await get("fs/fsck", ["path": path.description]) }

    public func mkdir(_ path: HFSPath, parents: Bool) async throws {
        let _: OKAnswer = try await post("fs/mkdir", MkdirRequest(path: path.description, parents: parents, owner: owner))
    }
    public func delete(_ path: HFSPath, recursive: Bool) async throws {
        let _: OKAnswer = try await post("fs/delete", DeleteRequest(path: path.description, recursive: recursive))
    }
    public func rename(_ src: HFSPath, _ dst: HFSPath) async throws {
        let _: OKAnswer = try await post("fs/rename", RenameRequest(src: src.description, dst: dst.description))
    }
    func commit(_ files: [NewFile], acks: [BlockAck], overwrite: Bool) async throws {
        let _: OKAnswer = try await post("fs/commit", CommitRequest(files: files, acks: acks, overwrite: overwrite, owner: owner))
    }
    /// What is at each path (nil: nothing), ``Limits/commitFilesMax`` paths per request.
    public func lookup(_ paths: [HFSPath]) async throws -> [LookupEntry?] {
        let r: LookupResponse = try await post("fs/lookup", LookupRequest(paths: paths.map(\.description)))
        guard r.entries.count == paths.count else { throw HFSError(.internal, "lookup answered \(r.entries.count) entries for \(paths.count) paths") }
        return r.entries
    }
    /// Stored content by hash, for the hashes some file already holds.
    public func storedContent(_ hashes: [String]) async throws -> [String: StoredContent] {
        let r: ContentLookupResponse = try await post("fs/content", ContentLookupRequest(sha256: hashes))
        return r.found
    }
    public func registerDataset(_ path: HFSPath) async throws {
        let _: OKAnswer = try await post("datasets/register", DatasetRequest(path: path.description, owner: owner))
    }
    public func datasets() async throws -> [DatasetSummary] {
        let r: DatasetListResponse = try await get("datasets")
        return r.datasets
    }
    public func datasetSummary(_ path: HFSPath) async throws -> DatasetSummary { try await get("datasets/show", ["path": path.description]) }
    /// One page of the manifest of the dataset at `path`.
    public func manifest(_ path: HFSPath, after: String?) async throws -> ManifestResponse {
        var q = ["path": path.description]
        if let after { q["after"] = after }
        return try await get("datasets/manifest", q)
    }
    /// A new block and its pipeline. A namenode that has just restarted may not know any live
    /// datanode yet (they register again within a heartbeat or two): while it says so ("safe
    /// mode: ..."), ask again for up to `Limits.safeModeAllocateWaitSeconds`.
    func allocate(_ r: AllocateBlockRequest) async throws -> AllocateBlockResponse {
        let deadline = ContinuousClock.now + .seconds(Limits.safeModeAllocateWaitSeconds)
        while true {
            do { return try await post("blocks/allocate", r) } catch let e as HFSError
                where e.code == .unavailable && e.message.hasPrefix(Limits.safeModeRefusalPrefix) && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(250))
            }
        }
    }
    func abandon(_ block: Int64) async throws { let _: OKAnswer = try await post("blocks/abandon", AbandonBlockRequest(block: block)) }
}

struct OKAnswer: Decodable {}
