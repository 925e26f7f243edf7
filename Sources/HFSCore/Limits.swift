/// Every bound in hfs, named with its unit last. Change a limit here, nowhere else.
public enum Limits {
    /// Logical bytes held by one frame; a ranged read decompresses only the frames it touches.
    public static let frameLogicalBytesMax = 1 << 20
    /// A file at or below this size (or `block_size`, if smaller) is appended to a shared packed
    /// block; a packed block stops taking appends once it holds `block_size` stored bytes.
    public static let smallFileBytesMax = 4 << 20
    /// A batch of small files sent to a pipeline in one request (16 MiB rather than 8: small put
    /// median 1.85 s against 2.05 s, 4 runs each side by side, session 7; half the requests,
    /// commits and fdatasyncs).
    public static let packedBatchBytesMax = 16 << 20
    public static let packedBatchFilesMax = 512
    /// Batches of small files in flight at once from one client (8 rather than 4: JPEG ingest
    /// median 2.52 s against 2.70 s, 7 runs side by side, session 6; with 16 MiB batches, 4 in
    /// flight was slower again: 2.14-2.40 s against 2.02-2.16, session 7).
    public static let packedBatchesInFlightMax = 8
    /// Blocks a packed batch tries before its put fails: a block found full or a pipeline that
    /// lost a node sends it to another (after a full one, a new block: see the namenode's allocate).
    public static let packedAppendAttemptsMax = 8
    /// Files committed to the namenode in one request (one SQLite transaction).
    public static let commitFilesMax = 2048
    /// Path limits, as HDFS's defaults.
    public static let pathComponentBytesMax = 255
    public static let pathBytesMax = 4096
    public static let pathDepthMax = 1000
    /// The largest size, offset or length (bytes) a request may give a file, an extent, a block
    /// acknowledgement or a datanode's capacity: 2^53 (8 PiB). Sums and products of such values in
    /// the namenode (`du`, fsck, free space) stay far from overflowing Int64, and exact as JSON numbers.
    public static let byteCountMax: Int64 = 1 << 53
    /// The byte counts a request may carry: 0...``byteCountMax``.
    public static let byteCounts: ClosedRange<Int64> = 0...byteCountMax
    /// Image attributes a commit may carry: width and height up to this, channels up to
    /// ``imageChannelsMax``.
    public static let imageSideMax = 1 << 31
    public static let imageChannelsMax = 16

    /// Whether `length` bytes from `offset` lie inside `size` bytes, compared without adding (the
    /// numbers may come from a request, and their sum must not overflow).
    public static func range(offset: Int64, length: Int64, fitsIn size: Int64) -> Bool {
        offset >= 0 && length >= 0 && offset <= size && length <= size - offset
    }
    /// Entries returned by one directory listing request.
    public static let listingEntriesMax = 100_000
    /// Files whose locations one request may ask for.
    public static let locationsPathsMax = 1024
    /// Files in one compute task (one request to one datanode).
    public static let computeFilesPerTaskMax = 256
    /// Largest file a compute hook takes (it is decoded in memory).
    public static let computeFileBytesMax: Int64 = 64 << 20
    /// Compute tasks a client keeps running on one datanode by default (`--tasks-per-node`).
    public static let computeTasksPerNodeDefault = 2
    /// Time one compute task may take before the client retries it on another replica.
    public static let computeTaskTimeoutSeconds: Int64 = 300
    /// Rows per page of `hfs dataset manifest` (and of the namenode's manifest answer).
    public static let manifestRowsPerPageMax = 10_000
    /// Control-plane JSON bodies.
    public static let controlBodyBytesMax = 64 << 20
    /// Datanodes in one write pipeline.
    public static let pipelineWidthMax = 16
    public static let replicationMax = 16
    /// Seconds a client waits for a control request or a data chunk.
    public static let requestTimeoutSeconds: Int64 = 120
    /// Seconds a client keeps trying to connect (a refused connection is retried until then).
    public static let connectTimeoutSeconds: Int64 = 2
    /// Concurrent connections per host from one HTTP client.
    public static let connectionsPerHostMax = 32
    /// The largest piece hfs reads from a socket at once (NIO's default: 64 KiB); see SocketReads.
    public static let socketReadBytesMax = 1 << 20
    /// Concurrent file reads in `hfs get` of a tree.
    public static let getFilesInFlightMax = 16
    /// Longest ranged request that reads several small files of a block at once (`hfs get` of a
    /// tree), and the longest gap (dead records, files not asked for) it reads through.
    public static let coalescedReadBytesMax: Int64 = 8 << 20
    public static let coalescedReadGapBytesMax: Int64 = 256 << 10
    /// Files larger than `coalescedReadBytesMax` fetched at once by `hfs get` of a tree.
    public static let getLargeFilesInFlightMax = 4
    /// A datanode whose forward down the pipeline failed waits this long for the writer's next
    /// chunk (the read in flight) before closing the writer's connection.
    public static let stalledWriterSecondsMax: Int64 = 10
    /// Offsets and lengths of O_DIRECT writes (`hfs get` of large files) are multiples of this;
    /// 4 KiB suits devices of 512-byte and 4 KiB sectors.
    public static let directWriteAlignment = 4096
    /// malloc serves allocations up to this size from its heaps, and keeps this much free memory at
    /// a heap's top mapped (``Posix/keepFreedMemory()``): room for 1 MiB socket reads and O_DIRECT
    /// buffers. (A client's batch bodies are larger; they are reused instead: `BatchBodies`.)
    public static let heapAllocationBytesMax = 16 << 20
    public static let heapFreeBytesKept = 64 << 20
    /// A datanode gathers an append into whole pages of this buffer before each O_DIRECT write.
    public static let directAppendBufferBytes = 1 << 20
    /// `hfs get` writes files at least this large around the page cache (O_DIRECT), unless
    /// `--cache`.
    public static let directWriteBytesMin: Int64 = 64 << 20
    /// Blocks of one file fetched at once by `hfs cat`, and the bytes of blocks ahead it holds
    /// while the one before goes to stdout.
    public static let catExtentsInFlightMax = 2
    public static let catAheadBytesMax = 32 << 20
    /// Blocks of one large file fetched at once by `hfs get`.
    public static let getExtentsInFlightMax = 4
    /// Block copies one datanode is asked to make per replication round.
    public static let replicationsPerNodePerRoundMax = 4
    /// Longest time between two full replication scans when nothing seems to change.
    public static let replicationFullScanIntervalSeconds: Double = 30
    /// Seconds before an unconfirmed block copy is asked for again.
    public static let replicationTimeoutSeconds: Double = 60
    /// A block file a datanode finds on disk without knowing it is added to its full report
    /// only once it is this old: a younger one may be an append under way.
    public static let strayBlockFileAgeSecondsMin: Double = 300
    /// How long a writer waits for a just-restarted namenode to know live datanodes again.
    public static let safeModeAllocateWaitSeconds: Int64 = 15
    /// Starts the message of a namenode refusal that lasts only until the datanodes have
    /// registered after a restart: writers wait and ask again.
    public static let safeModeRefusalPrefix = "safe mode: "
    /// Compactions started per round (each rewrites one packed block on one datanode).
    public static let compactionsPerRoundMax = 4
    /// Seconds before a compaction that never answered is given up (its new block dropped).
    public static let compactionTimeoutSeconds: Double = 300
    /// A block with no file referencing it is garbage once it is this old: a dedicated block
    /// allocated by a put that never committed (the client died), or a packed block sealed
    /// before its batch was committed. Younger ones may still belong to an upload under way.
    public static let uncommittedBlockAgeSecondsMin: Double = 6 * 3600
    /// Incremental block reports are flushed this often by a datanode.
    public static let incrementalReportIntervalMilliseconds = 200
}
