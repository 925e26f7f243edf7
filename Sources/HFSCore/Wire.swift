/// Messages of the control plane (JSON over HTTP, `/api/v1/...`). Bytes never travel in these:
/// the data plane is raw framed bodies between clients and datanodes.

public enum FileKind: String, Codable, Sendable { case file, directory }

/// How a frame's stored bytes are encoded. `lz4-delta` is lz4 for uncompressed pixels: each
/// byte minus the byte one pixel before it, zig-zag mapped, bit-shuffled and lz4-compressed (the
/// last two by c-blosc); smooth images shrink far more than under plain lz4.
public enum Codec: String, Codable, Sendable, CaseIterable {
    case none, lz4, zlib
    case lz4Delta = "lz4-delta"
}

/// What a writer asks for: `auto` keeps already-compressed formats as they are and uses lz4
/// where it saves at least ~10%; `auto` and `lz4` use `lz4-delta` on uncompressed pixels
/// (PNM, BMP).
public enum CodecPolicy: String, Codable, Sendable, CaseIterable {
    case auto, none, lz4, zlib
}

public enum BlockKind: String, Codable, Sendable { case packed, dedicated }

/// HDFS FileStatus, trimmed to what hfs has.
public struct FileStatus: Codable, Sendable, Equatable {
    public var path: String
    public var type: FileKind
    /// Logical bytes (0 for a directory).
    public var size: Int64
    /// Bytes stored for one replica after compression (0 for a directory).
    public var storedSize: Int64
    /// Replication of a file; 0 for a directory (printed as `-`).
    public var replication: Int
    /// Seconds since 1970.
    public var mtime: Double
    public var owner: String
    public var group: String
    /// Permission bits, e.g. 0o644.
    public var mode: Int
    /// Codec policy the file was written with (`auto`, `lz4`...), nil for a directory.
    public var codec: String?

    public init(path: String, type: FileKind, size: Int64, storedSize: Int64, replication: Int,
                mtime: Double, owner: String, group: String, mode: Int, codec: String?) {
        self.path = path; self.type = type; self.size = size; self.storedSize = storedSize
        self.replication = replication; self.mtime = mtime; self.owner = owner; self.group = group
        self.mode = mode; self.codec = codec
    }
}

public struct DatanodeInfo: Codable, Sendable, Hashable {
    public var id: String
    public var address: String
    public var rack: String
    public init(id: String, address: String, rack: String) { self.id = id; self.address = address; self.rack = rack }
}

/// One piece of a file: `storedLength` bytes of frames at `offset` in `block`, decoding to
/// `logicalLength` bytes.
public struct Extent: Codable, Sendable, Equatable {
    public var block: Int64
    public var offset: Int64
    public var storedLength: Int64
    public var logicalLength: Int64
    public init(block: Int64, offset: Int64, storedLength: Int64, logicalLength: Int64) {
        self.block = block; self.offset = offset; self.storedLength = storedLength; self.logicalLength = logicalLength
    }
}

/// An extent with where its block lives, best replica first.
public struct ExtentLocation: Codable, Sendable {
    public var extent: Extent
    public var generation: Int64
    public var replicas: [DatanodeInfo]
    public init(extent: Extent, generation: Int64, replicas: [DatanodeInfo]) {
        self.extent = extent; self.generation = generation; self.replicas = replicas
    }
}

public struct FileLocations: Codable, Sendable {
    public var status: FileStatus
    public var extents: [ExtentLocation]
    public init(status: FileStatus, extents: [ExtentLocation]) { self.status = status; self.extents = extents }
}

// MARK: namespace requests

/// Locations of many files at once (`hfs get` of a tree), at most ``Limits/locationsPathsMax``.
public struct LocationsRequest: Codable, Sendable {
    public var paths: [String]
    public init(paths: [String]) { self.paths = paths }
}
public struct LocationsResponse: Codable, Sendable {
    public var files: [FileLocations]
    public init(files: [FileLocations]) { self.files = files }
}

public struct MkdirRequest: Codable, Sendable {
    public var path: String; public var parents: Bool; public var owner: String
    public init(path: String, parents: Bool, owner: String) { self.path = path; self.parents = parents; self.owner = owner }
}
public struct DeleteRequest: Codable, Sendable {
    public var path: String; public var recursive: Bool
    public init(path: String, recursive: Bool) { self.path = path; self.recursive = recursive }
}
public struct RenameRequest: Codable, Sendable {
    public var src: String; public var dst: String
    public init(src: String, dst: String) { self.src = src; self.dst = dst }
}
public struct ListResponse: Codable, Sendable {
    public var entries: [FileStatus]
    /// True when the listing stopped at ``Limits/listingEntriesMax``.
    public var truncated: Bool
    public init(entries: [FileStatus], truncated: Bool) { self.entries = entries; self.truncated = truncated }
}
public struct DuResponse: Codable, Sendable, Equatable {
    public var path: String
    public var files: Int64
    public var directories: Int64
    public var logicalBytes: Int64
    /// Bytes of one copy after compression.
    public var storedBytes: Int64
    /// storedBytes × replication, summed per file: what the datanodes hold.
    public var rawBytes: Int64
    public init(path: String, files: Int64, directories: Int64, logicalBytes: Int64, storedBytes: Int64, rawBytes: Int64) {
        self.path = path; self.files = files; self.directories = directories
        self.logicalBytes = logicalBytes; self.storedBytes = storedBytes; self.rawBytes = rawBytes
    }
}

// MARK: write path

public struct AllocateBlockRequest: Codable, Sendable {
    public var kind: BlockKind
    public var replication: Int
    /// A packed block the client found full: the namenode seals it and never hands it out again.
    public var fullBlock: Int64?
    /// Datanodes the client could not reach.
    public var excludeNodes: [String]
    public init(kind: BlockKind, replication: Int, fullBlock: Int64? = nil, excludeNodes: [String] = []) {
        self.kind = kind; self.replication = replication; self.fullBlock = fullBlock; self.excludeNodes = excludeNodes
    }
}
public struct AllocateBlockResponse: Codable, Sendable {
    public var block: Int64
    public var generation: Int64
    /// First element is the primary: the client sends to it, it forwards down the list.
    public var pipeline: [DatanodeInfo]
    public init(block: Int64, generation: Int64, pipeline: [DatanodeInfo]) {
        self.block = block; self.generation = generation; self.pipeline = pipeline
    }
}
/// What a datanode pipeline answers for an append: where the bytes landed and who holds them.
public struct AppendResponse: Codable, Sendable {
    public var block: Int64
    public var offset: Int64
    public var storedLength: Int64
    /// Ids of every pipeline node that has the bytes durably on disk.
    public var nodes: [String]
    public init(block: Int64, offset: Int64, storedLength: Int64, nodes: [String]) {
        self.block = block; self.offset = offset; self.storedLength = storedLength; self.nodes = nodes
    }
}
public struct NewFile: Codable, Sendable {
    public var path: String
    public var size: Int64
    public var storedSize: Int64
    public var replication: Int
    public var codec: String
    public var mtime: Double
    public var extents: [Extent]
    /// Set by ingest: what the image header says, its label and content hash.
    public var image: ImageAttributes?
    public init(path: String, size: Int64, storedSize: Int64, replication: Int, codec: String, mtime: Double, extents: [Extent],
                image: ImageAttributes? = nil) {
        self.path = path; self.size = size; self.storedSize = storedSize; self.replication = replication
        self.codec = codec; self.mtime = mtime; self.extents = extents; self.image = image
    }
}

/// Image attributes of an ingested file, read from its header (no decode) by the client.
public struct ImageAttributes: Codable, Sendable, Equatable {
    /// `jpeg`, `png`, `ppm`, `pgm`; nil for a file stored with `--keep-invalid`.
    public var format: String?
    public var width: Int?
    public var height: Int?
    public var channels: Int?
    public var label: String?
    /// SHA-256 of the content, lowercase hex.
    public var sha256: String
    /// Why the file is not a valid image, when it was kept anyway.
    public var invalid: String?
    public init(format: String?, width: Int?, height: Int?, channels: Int?, label: String?, sha256: String, invalid: String?) {
        self.format = format; self.width = width; self.height = height; self.channels = channels
        self.label = label; self.sha256 = sha256; self.invalid = invalid
    }
}

/// What is at each of many paths (ingest checks a batch before uploading it).
public struct LookupRequest: Codable, Sendable {
    public var paths: [String]
    public init(paths: [String]) { self.paths = paths }
}
public struct LookupEntry: Codable, Sendable, Equatable {
    public var type: FileKind
    public var size: Int64
    /// The content hash ingest recorded, if any.
    public var sha256: String?
    public init(type: FileKind, size: Int64, sha256: String?) { self.type = type; self.size = size; self.sha256 = sha256 }
}
public struct LookupResponse: Codable, Sendable {
    /// One per requested path, nil where nothing is.
    public var entries: [LookupEntry?]
    public init(entries: [LookupEntry?]) { self.entries = entries }
}

/// Stored content with a given hash, for deduplication.
public struct ContentLookupRequest: Codable, Sendable {
    public var sha256: [String]
    public init(sha256: [String]) { self.sha256 = sha256 }
}
public struct StoredContent: Codable, Sendable, Equatable {
    public var size: Int64
    public var codec: String
    public var extents: [Extent]
    public init(size: Int64, codec: String, extents: [Extent]) { self.size = size; self.codec = codec; self.extents = extents }
}
public struct ContentLookupResponse: Codable, Sendable {
    /// By hash, for the hashes some file already holds.
    public var found: [String: StoredContent]
    public init(found: [String: StoredContent]) { self.found = found }
}

/// Datasets: directories that ingest wrote into.
public struct DatasetRequest: Codable, Sendable {
    public var path: String
    public var owner: String
    public init(path: String, owner: String) { self.path = path; self.owner = owner }
}
public struct DatasetSummary: Codable, Sendable, Equatable {
    public var path: String
    public var images: Int64
    public var invalid: Int64
    public var logicalBytes: Int64
    public var storedBytes: Int64
    public var classes: [String: Int64]
    public var formats: [String: Int64]
    public var width: Distribution?
    public var height: Distribution?
    public init(path: String, images: Int64, invalid: Int64, logicalBytes: Int64, storedBytes: Int64, classes: [String: Int64],
                formats: [String: Int64], width: Distribution?, height: Distribution?) {
        self.path = path; self.images = images; self.invalid = invalid; self.logicalBytes = logicalBytes
        self.storedBytes = storedBytes; self.classes = classes; self.formats = formats; self.width = width; self.height = height
    }
}
/// Minimum, quartiles, maximum and mean of a column.
public struct Distribution: Codable, Sendable, Equatable {
    public var min: Int
    public var p25: Int
    public var median: Int
    public var p75: Int
    public var max: Int
    public var mean: Double
    public init(min: Int, p25: Int, median: Int, p75: Int, max: Int, mean: Double) {
        self.min = min; self.p25 = p25; self.median = median; self.p75 = p75; self.max = max; self.mean = mean
    }
}
public struct DatasetListResponse: Codable, Sendable {
    public var datasets: [DatasetSummary]
    public init(datasets: [DatasetSummary]) { self.datasets = datasets }
}
/// One manifest row: an image file under a dataset.
public struct ManifestRow: Codable, Sendable, Equatable {
    public var path: String
    public var label: String?
    public var format: String?
    public var width: Int?
    public var height: Int?
    public var bytes: Int64
    public var sha256: String
    public init(path: String, label: String?, format: String?, width: Int?, height: Int?, bytes: Int64, sha256: String) {
        self.path = path; self.label = label; self.format = format; self.width = width; self.height = height
        self.bytes = bytes; self.sha256 = sha256
    }
}
/// A page of the manifest, in path order; ask again with `after` = the last path for the next.
public struct ManifestResponse: Codable, Sendable {
    public var rows: [ManifestRow]
    public var next: String?
    public init(rows: [ManifestRow], next: String?) { self.rows = rows; self.next = next }
}
/// The datanodes that acknowledged a block's bytes, reported with the commit so that a file is
/// readable at once (block reports confirm it later).
public struct BlockAck: Codable, Sendable, Equatable {
    public var block: Int64
    public var length: Int64
    public var nodes: [String]
    public init(block: Int64, length: Int64, nodes: [String]) { self.block = block; self.length = length; self.nodes = nodes }
}
/// `POST fs/commit`. On the wire its files go column by column (``FileColumns``), not as an
/// array of objects: the namenode decodes a commit of small files 2.5 times as fast that way
/// (JSONDecoder's keyed containers were a quarter of its CPU during a small-file put).
public struct CommitRequest: Codable, Sendable {
    public var files: [NewFile]
    public var acks: [BlockAck]
    public var overwrite: Bool
    public var owner: String
    public init(files: [NewFile], acks: [BlockAck], overwrite: Bool, owner: String) {
        self.files = files; self.acks = acks; self.overwrite = overwrite; self.owner = owner
    }

    enum CodingKeys: String, CodingKey { case files, acks, overwrite, owner }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        files = try c.decode(FileColumns.self, forKey: .files).files(codingPath: c.codingPath + [CodingKeys.files])
        acks = try c.decode([BlockAck].self, forKey: .acks)
        overwrite = try c.decode(Bool.self, forKey: .overwrite)
        owner = try c.decode(String.self, forKey: .owner)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(FileColumns(files), forKey: .files)
        try c.encode(acks, forKey: .acks)
        try c.encode(overwrite, forKey: .overwrite)
        try c.encode(owner, forKey: .owner)
    }
}

/// ``NewFile``s as columns: one array per field, the i-th file's values at index i; the extents
/// of all files one after another in the extent columns, `extentCount[i]` of them for file i.
/// `image` is left out when no file has image attributes.
struct FileColumns: Codable {
    var path: [String] = [], size: [Int64] = [], storedSize: [Int64] = [], replication: [Int] = []
    var codec: [String] = [], mtime: [Double] = [], extentCount: [Int] = []
    var block: [Int64] = [], offset: [Int64] = [], storedLength: [Int64] = [], logicalLength: [Int64] = []
    var image: [ImageAttributes?]?

    init(_ files: [NewFile]) {
        for f in files {
            path.append(f.path); size.append(f.size); storedSize.append(f.storedSize); replication.append(f.replication)
            codec.append(f.codec); mtime.append(f.mtime); extentCount.append(f.extents.count)
            for e in f.extents {
                block.append(e.block); offset.append(e.offset); storedLength.append(e.storedLength); logicalLength.append(e.logicalLength)
            }
        }
        if files.contains(where: { $0.image != nil }) { image = files.map(\.image) }
    }

    func files(codingPath: [any CodingKey]) throws -> [NewFile] {
        func bad(_ why: String) -> DecodingError { .dataCorrupted(.init(codingPath: codingPath, debugDescription: why)) }
        let n = path.count
        guard [size.count, storedSize.count, replication.count, codec.count, mtime.count, extentCount.count].allSatisfy({ $0 == n }),
              image.map({ $0.count == n }) ?? true else {
            throw bad("file columns of different lengths")
        }
        let extents = block.count
        guard [offset.count, storedLength.count, logicalLength.count].allSatisfy({ $0 == extents }) else {
            throw bad("extent columns of different lengths")
        }
        guard extentCount.allSatisfy({ (0...extents).contains($0) }), extentCount.reduce(0, +) == extents else {
            throw bad("extentCount does not add up to the \(extents) extents")
        }
        var out: [NewFile] = []
        out.reserveCapacity(n)
        var next = 0
        for i in 0..<n {
            let own = (next..<(next + extentCount[i])).map {
                Extent(block: block[$0], offset: offset[$0], storedLength: storedLength[$0], logicalLength: logicalLength[$0])
            }
            next += extentCount[i]
            out.append(NewFile(path: path[i], size: size[i], storedSize: storedSize[i], replication: replication[i], codec: codec[i],
                               mtime: mtime[i], extents: own, image: image?[i]))
        }
        return out
    }
}

/// `POST blocks/abandon` (HDFS's abandonBlock): a writer gives up a dedicated block it was
/// allocated, after its pipeline failed; the block's partial replicas are removed, including
/// one on a node that comes back later.
public struct AbandonBlockRequest: Codable, Sendable {
    public var block: Int64
    public init(block: Int64) { self.block = block }
}

/// A reader found a replica whose frames fail their checksums.
public struct BadReplicaRequest: Codable, Sendable {
    public var block: Int64
    public var datanode: String
    public var reason: String
    public init(block: Int64, datanode: String, reason: String) { self.block = block; self.datanode = datanode; self.reason = reason }
}

// MARK: datanode ↔ namenode

public struct BlockReportEntry: Codable, Sendable, Equatable {
    public var block: Int64
    public var length: Int64
    public init(block: Int64, length: Int64) { self.block = block; self.length = length }
}
public struct RegisterRequest: Codable, Sendable {
    public var node: DatanodeInfo
    public var capacityBytes: Int64
    public var usedBytes: Int64
    /// Full block report.
    public var blocks: [BlockReportEntry]
    public init(node: DatanodeInfo, capacityBytes: Int64, usedBytes: Int64, blocks: [BlockReportEntry]) {
        self.node = node; self.capacityBytes = capacityBytes; self.usedBytes = usedBytes; self.blocks = blocks
    }
}
public struct HeartbeatRequest: Codable, Sendable {
    public var id: String
    public var capacityBytes: Int64
    public var usedBytes: Int64
    public var blockCount: Int
    public init(id: String, capacityBytes: Int64, usedBytes: Int64, blockCount: Int) {
        self.id = id; self.capacityBytes = capacityBytes; self.usedBytes = usedBytes; self.blockCount = blockCount
    }
}
public struct DatanodeCommand: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        /// Remove these blocks' files.
        case delete
        /// Copy these blocks to `targets` (a pipeline: the first forwards to the rest).
        case replicate
        /// Write the live ranges of `blocks[0]` into `compaction.newBlock` through `targets`,
        /// then tell the namenode (`blocks/compacted`).
        case compact
    }
    public var kind: Kind
    public var blocks: [Int64]
    public var targets: [DatanodeInfo]?
    public var compaction: CompactionPlan?
    public init(kind: Kind, blocks: [Int64], targets: [DatanodeInfo]? = nil, compaction: CompactionPlan? = nil) {
        self.kind = kind; self.blocks = blocks; self.targets = targets; self.compaction = compaction
    }
}

/// A stored byte range of a block: whole frames, `length` bytes from `offset`.
public struct ByteRange: Codable, Sendable, Equatable, Hashable {
    public var offset: Int64
    public var length: Int64
    public init(offset: Int64, length: Int64) { self.offset = offset; self.length = length }
}

/// What a compaction copies: the ranges of the old block that files still reference, in order,
/// into a new block where they land one after the other from offset 0.
public struct CompactionPlan: Codable, Sendable, Equatable {
    public var newBlock: Int64
    public var ranges: [ByteRange]
    public init(newBlock: Int64, ranges: [ByteRange]) { self.newBlock = newBlock; self.ranges = ranges }
}

/// `POST blocks/compacted`: a datanode's answer to a compaction command. On success `ack` is the
/// new block's append acknowledgement (the ranges sit back to back from `ack.offset`); on failure
/// `error` says why and the namenode drops the new block.
public struct CompactedRequest: Codable, Sendable {
    public var block: Int64
    public var plan: CompactionPlan
    public var ack: AppendResponse?
    public var error: String?
    public init(block: Int64, plan: CompactionPlan, ack: AppendResponse?, error: String?) {
        self.block = block; self.plan = plan; self.ack = ack; self.error = error
    }
}
public struct HeartbeatResponse: Codable, Sendable {
    /// The namenode does not know this node (it restarted): register again with a full report.
    public var reregister: Bool
    public var commands: [DatanodeCommand]
    public init(reregister: Bool, commands: [DatanodeCommand]) { self.reregister = reregister; self.commands = commands }
}
/// Incremental block report.
public struct BlockReceivedRequest: Codable, Sendable {
    public var id: String
    public var received: [BlockReportEntry]
    public var removed: [Int64]
    public init(id: String, received: [BlockReportEntry], removed: [Int64]) { self.id = id; self.received = received; self.removed = removed }
}

// MARK: cluster

public struct ClusterInfo: Codable, Sendable {
    public var replication: Int
    public var blockSizeBytes: Int64
    public var codec: CodecPolicy
    public var smallFileBytesMax: Int64
    /// Hooks declared in cluster.yaml (`hooks:`), which the datanodes run.
    public var externalHooks: [HookDescription]?
    public init(replication: Int, blockSizeBytes: Int64, codec: CodecPolicy, smallFileBytesMax: Int64, externalHooks: [HookDescription] = []) {
        self.replication = replication; self.blockSizeBytes = blockSizeBytes; self.codec = codec; self.smallFileBytesMax = smallFileBytesMax
        self.externalHooks = externalHooks
    }
}
public struct DatanodeReport: Codable, Sendable {
    public var id: String
    public var address: String
    public var rack: String
    /// Liveness: `live`, `stale` or `dead`.
    public var state: String
    /// ``AdminState`` raw value: `normal`, `decommissioning` or `decommissioned`.
    public var adminState: String
    public var capacityBytes: Int64
    public var usedBytes: Int64
    public var blocks: Int
    public var lastHeartbeatSeconds: Double?
    public init(id: String, address: String, rack: String, state: String, adminState: String = AdminState.normal.rawValue,
                capacityBytes: Int64, usedBytes: Int64, blocks: Int, lastHeartbeatSeconds: Double?) {
        self.id = id; self.address = address; self.rack = rack; self.state = state; self.adminState = adminState
        self.capacityBytes = capacityBytes; self.usedBytes = usedBytes; self.blocks = blocks; self.lastHeartbeatSeconds = lastHeartbeatSeconds
    }
}
public struct ReportResponse: Codable, Sendable {
    public var datanodes: [DatanodeReport]
    /// Why the namenode is in safe mode (no replication or deletion decisions yet); nil once it left.
    public var safeMode: String?
    public init(datanodes: [DatanodeReport], safeMode: String? = nil) { self.datanodes = datanodes; self.safeMode = safeMode }
}
public struct FsckResponse: Codable, Sendable {
    public var path: String
    public var files: Int64
    public var directories: Int64
    public var blocks: Int64
    public var replicas: Int64
    public var underReplicated: Int64
    public var missing: Int64
    public var corrupt: Int64
    /// Blocks at their replication only thanks to replicas on decommissioning nodes (healthy,
    /// but not yet copied off them).
    public var decommissioning: Int64
    public var healthy: Bool
    /// One line per unhealthy block, bounded.
    public var problems: [String]
    /// Set while the namenode is in safe mode (see ``ReportResponse/safeMode``).
    public var safeMode: String?
    public init(path: String, files: Int64, directories: Int64, blocks: Int64, replicas: Int64, underReplicated: Int64,
                missing: Int64, corrupt: Int64, decommissioning: Int64 = 0, healthy: Bool, problems: [String], safeMode: String? = nil) {
        self.path = path; self.files = files; self.directories = directories; self.blocks = blocks; self.replicas = replicas
        self.underReplicated = underReplicated; self.missing = missing; self.corrupt = corrupt; self.decommissioning = decommissioning
        self.healthy = healthy; self.problems = problems; self.safeMode = safeMode
    }
}
/// Body of every non-2xx answer.
public struct ErrorBody: Codable, Sendable {
    public var error: HFSError
    public init(error: HFSError) { self.error = error }
}

// MARK: compute near the data

/// Any JSON value: hook results and parameters travel as this.
public enum JSONValue: Codable, Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .number(let n):
            // Integers print without a fraction.
            if n.rounded() == n, abs(n) < 9.0e15 { try c.encode(Int64(n)) } else { try c.encode(n) }
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }
}

/// A hook as `hfs compute hooks` lists it.
public struct HookDescription: Codable, Sendable, Equatable {
    /// An operator's hook from cluster.yaml: no parameters, the image on stdin.
    public init(external h: ClusterConfig.ExternalHook) {
        self.init(name: h.name, kind: h.kind == "filter" ? .filter : .feature,
                  summary: "declared in cluster.yaml: runs on the datanode with the image on stdin (timeout \(h.timeoutSeconds) s)",
                  parameters: [], external: true)
    }

    public enum Kind: String, Codable, Sendable { case filter, feature }
    public struct Parameter: Codable, Sendable, Equatable {
        public var name: String
        /// `int`, `double`, `string`, `bool`.
        public var type: String
        /// nil: required.
        public var defaultValue: String?
        public var help: String
        public init(name: String, type: String, defaultValue: String?, help: String) {
            self.name = name; self.type = type; self.defaultValue = defaultValue; self.help = help
        }
        enum CodingKeys: String, CodingKey { case name, type, defaultValue = "default", help }
    }
    public var name: String
    public var kind: Kind
    public var summary: String
    public var parameters: [Parameter]
    /// Declared in cluster.yaml (a command run by the datanode) rather than built in.
    public var external: Bool
    public init(name: String, kind: Kind, summary: String, parameters: [Parameter], external: Bool = false) {
        self.name = name; self.kind = kind; self.summary = summary; self.parameters = parameters; self.external = external
    }
}

/// One file of a compute task: where its bytes are.
public struct ComputeFile: Codable, Sendable, Equatable {
    public var path: String
    public var size: Int64
    public var extents: [Extent]
    public init(path: String, size: Int64, extents: [Extent]) { self.path = path; self.size = size; self.extents = extents }
}

/// `POST /api/v1/compute` on a datanode: run `hook` on files whose blocks it holds.
public struct ComputeRequest: Codable, Sendable {
    public var hook: String
    public var params: [String: String]
    public var files: [ComputeFile]
    public init(hook: String, params: [String: String], files: [ComputeFile]) { self.hook = hook; self.params = params; self.files = files }
}

/// The answer to a compute request is a sequence of records, one per file in request order:
/// a 4-byte big-endian length, this header as JSON, then `outputBytes` bytes of output image (for
/// a filter hook).
public struct ComputeRecord: Codable, Sendable, Equatable {
    public var path: String
    /// A feature hook's result.
    public var result: JSONValue?
    /// A filter hook's output: its format (`jpeg`, `png`, ...) and length in bytes.
    public var outputFormat: String?
    public var outputBytes: Int
    /// Why this file has no result.
    public var error: String?
    /// Stored bytes the datanode read for this file.
    public var bytesRead: Int64
    /// The hook was run on this datanode with the file's blocks on its own disk.
    public var local: Bool
    public init(path: String, result: JSONValue?, outputFormat: String?, outputBytes: Int, error: String?, bytesRead: Int64, local: Bool) {
        self.path = path; self.result = result; self.outputFormat = outputFormat; self.outputBytes = outputBytes
        self.error = error; self.bytesRead = bytesRead; self.local = local
    }
}
