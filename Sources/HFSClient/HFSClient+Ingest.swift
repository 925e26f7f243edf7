import Foundation
import HFSCore
import HFSFormat

/// One file for ``IngestWriter``: its bytes are in memory already (ingest has read, probed and
/// hashed them).
public struct IngestRecord: Sendable {
    public var remote: HFSPath
    public var bytes: [UInt8]
    /// Image attributes, nil for a sidecar (`.cls`, `.json`...) stored beside its image.
    public var image: ImageAttributes?
    public var mtime: Double
    public init(remote: HFSPath, bytes: [UInt8], image: ImageAttributes?, mtime: Double) {
        self.remote = remote; self.bytes = bytes; self.image = image; self.mtime = mtime
    }
}

/// What became of the records of one or more batches.
public struct IngestCounts: Sendable, Codable, Equatable {
    /// Files stored by this run (deduplicated ones included).
    public var ingested = 0
    /// Files already committed with the same content (a rerun skips them).
    public var alreadyPresent = 0
    /// Files whose content was stored already and that now refer to it.
    public var deduplicated = 0
    public var failed = 0
    public var logicalBytes: Int64 = 0
    /// Bytes this run added to the cluster for one replica (after compression).
    public var storedBytes: Int64 = 0
    /// Logical bytes not stored again thanks to dedup.
    public var savedBytes: Int64 = 0
    public var failures: [IngestProblem] = []
    public init() {}

    public mutating func add(_ o: IngestCounts) {
        ingested += o.ingested; alreadyPresent += o.alreadyPresent; deduplicated += o.deduplicated; failed += o.failed
        logicalBytes += o.logicalBytes; storedBytes += o.storedBytes; savedBytes += o.savedBytes
        failures += o.failures
    }
}

public struct IngestProblem: Sendable, Codable, Equatable {
    public var path: String
    public var reason: String
    public init(path: String, reason: String) { self.path = path; self.reason = reason }
}

public struct IngestWriteOptions: Sendable {
    public var replication: Int?
    public var codec: CodecPolicy?
    public var dedup = false
    public init(replication: Int? = nil, codec: CodecPolicy? = nil, dedup: Bool = false) {
        self.replication = replication; self.codec = codec; self.dedup = dedup
    }
}

/// The write side of `hfs ingest`: records are gathered into batches (up to
/// ``Limits/packedBatchFilesMax`` files or ``Limits/packedBatchBytesMax`` bytes); for each batch
/// one lookup says which paths are committed already (a rerun skips those with the same content),
/// with dedup one more finds content stored already, then the rest is appended to a packed block
/// and everything is committed in one transaction. Several batches are in flight at once.
///
/// An actor: records may come from several tasks (compute outputs do); call ``add(_:)`` for every
/// record, then ``finish()``.
public actor IngestWriter {
    let ctx: WriteContext
    let dedup: Bool
    private var pending: [IngestRecord] = []
    private var pendingBytes = 0
    private var inFlight: [Task<IngestCounts, Never>] = []
    private var done = IngestCounts()
    private let onBatch: @Sendable (IngestCounts) -> Void

    /// `onBatch` is called with the counts of every batch as it completes (progress).
    public init(client: HFSClient, options: IngestWriteOptions, onBatch: @escaping @Sendable (IngestCounts) -> Void = { _ in })
        async throws {
        let cluster = try await client.info()
        let replication = options.replication ?? cluster.replication
        guard (1...Limits.replicationMax).contains(replication) else {
            throw HFSError.invalid("--replication \(replication) is outside 1...\(Limits.replicationMax)")
        }
        let policy = options.codec ?? cluster.codec
        ctx = WriteContext(client: client, replication: replication, policy: policy, blockSizeBytes: cluster.blockSizeBytes,
                           smallFileBytesMax: Int(cluster.smallFileBytesMax), overwrite: false)
        dedup = options.dedup
        self.onBatch = onBatch
    }

    public func add(_ record: IngestRecord) async {
        pending.append(record)
        pendingBytes += record.bytes.count
        if pending.count >= Limits.packedBatchFilesMax || pendingBytes >= Limits.packedBatchBytesMax { await dispatch() }
    }

    /// Waits for every batch and returns the counts of the whole run.
    public func finish() async -> IngestCounts {
        if !pending.isEmpty { await dispatch() }
        for task in inFlight { done.add(await task.value) }
        inFlight = []
        return done
    }

    private func dispatch() async {
        let records = pending
        pending = []
        pendingBytes = 0
        if inFlight.count >= Limits.packedBatchesInFlightMax {
            done.add(await inFlight.removeFirst().value)
        }
        let (ctx, dedup, onBatch) = (ctx, dedup, onBatch)
        inFlight.append(Task.detached {
            // An encoder per batch: one holds a zlib stream, which batches in flight must not share.
            let counts = await Self.write(records, ctx: ctx, dedup: dedup, encoder: FrameEncoder(policy: ctx.policy))
            onBatch(counts)
            return counts
        })
    }

    /// Writes one batch; a batch that fails as a whole makes every record of it a failure (a
    /// rerun retries them).
    static nonisolated func write(_ records: [IngestRecord], ctx: WriteContext, dedup: Bool, encoder: FrameEncoder) async -> IngestCounts {
        var counts = IngestCounts()
        do {
            try await writeOrThrow(records, ctx: ctx, dedup: dedup, encoder: encoder, counts: &counts)
        } catch {
            let reason = (error as? HFSError)?.message ?? "\(error)"
            counts = IngestCounts()
            counts.failed = records.count
            counts.failures = records.map { IngestProblem(path: $0.remote.description, reason: reason) }
        }
        return counts
    }

    private static func writeOrThrow(_ records: [IngestRecord], ctx: WriteContext, dedup: Bool, encoder: FrameEncoder,
                                     counts: inout IngestCounts) async throws {
        // 1. What is committed already: same content → skip; anything else there → a failure.
        let existing = try await ctx.client.lookup(records.map(\.remote))
        var todo: [IngestRecord] = []
        var seen = Set<HFSPath>()
        for (record, entry) in zip(records, existing) {
            guard seen.insert(record.remote).inserted else {
                counts.failed += 1
                counts.failures.append(IngestProblem(path: record.remote.description, reason: "two sources map to this path"))
                continue
            }
            guard let entry else { todo.append(record); continue }
            if entry.type == .file, entry.size == Int64(record.bytes.count), entry.sha256 == record.image?.sha256 {
                counts.alreadyPresent += 1
            } else {
                counts.failed += 1
                counts.failures.append(IngestProblem(path: record.remote.description, reason: entry.type == .directory
                    ? "a directory is in the way" : "a different file exists there already (remove it to ingest this one)"))
            }
        }
        // 2. Dedup: content stored already, or earlier in this batch, is referred to, not stored.
        var stored: [String: StoredContent] = [:]
        if dedup {
            let hashes = todo.compactMap { $0.image?.invalid == nil ? $0.image?.sha256 : nil }
            if !hashes.isEmpty { stored = try await ctx.client.storedContent(hashes) }
        }
        var files: [NewFile] = []
        var batch = PackedBatch(body: ctx.bodies.take())
        var firstInBatch: [String: Int] = [:]     // hash → index in batch.files
        var sameAs: [(record: IngestRecord, index: Int)] = []
        for record in todo {
            let hash = dedup && record.image?.invalid == nil ? record.image?.sha256 : nil
            if let hash, let content = stored[hash], content.size == Int64(record.bytes.count) {
                files.append(NewFile(path: record.remote.description, size: content.size, storedSize: 0, replication: ctx.replication,
                                     codec: content.codec, mtime: record.mtime, extents: content.extents, image: record.image))
                counts.deduplicated += 1; counts.savedBytes += content.size
            } else if let hash, let i = firstInBatch[hash] {
                sameAs.append((record, i))
                counts.deduplicated += 1; counts.savedBytes += Int64(record.bytes.count)
            } else if record.bytes.count > ctx.smallFileBytesMax {
                let s = try await ctx.uploadLarge(source: .exhausted(name: record.remote.description), prefix: record.bytes,
                                                  remote: record.remote, mtime: record.mtime, image: record.image)
                counts.storedBytes += s.storedBytes
            } else {
                if let hash { firstInBatch[hash] = batch.files.count }
                batch.add(remote: record.remote, bytes: record.bytes, mtime: record.mtime, encoder: encoder, image: record.image)
                counts.storedBytes += batch.files.last!.storedLength
            }
            counts.ingested += 1
            counts.logicalBytes += Int64(record.bytes.count)
        }
        // 3. One append, one commit.
        var acks: [BlockAck] = []
        if !batch.files.isEmpty {
            let placed = try await ctx.append(batch)
            files += placed.files
            acks = placed.acks
            for (record, i) in sameAs {
                let first = placed.files[i]
                files.append(NewFile(path: record.remote.description, size: first.size, storedSize: 0, replication: ctx.replication,
                                     codec: first.codec, mtime: record.mtime, extents: first.extents, image: record.image))
            }
        }
        if !files.isEmpty { try await ctx.client.commit(files, acks: acks, overwrite: false) }
        ctx.bodies.give(batch.body)
    }
}
