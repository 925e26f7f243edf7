import GRDB
import HFSCore

/// Blocks, where a file's bytes are, and sums over subtrees.
extension MetadataStore {
    /// A new `open` block at generation 1.
    public func createBlock(kind: BlockKind, replication: Int, now: Double) throws -> (id: Int64, generation: Int64) {
        let generation: Int64 = 1
        let id = try write { db in
            // Ids only grow, even past forgotten rows (Schema v3-block-ids).
            try db.execute(sql: "UPDATE sequence SET value = MAX(value, (SELECT COALESCE(MAX(id), 0) FROM block)) + 1 WHERE name = 'block'")
            let id = try Int64.fetchOne(db, sql: "SELECT value FROM sequence WHERE name = 'block'")!
            try db.execute(sql: """
                INSERT INTO block (id, generation, kind, state, length, replication, createdAt) VALUES (?, ?, ?, 'open', 0, ?, ?)
                """, arguments: [id, generation, kind.rawValue, replication, now])
            return id
        }
        return (id, generation)
    }

    /// Open packed blocks of this replication with fewer than `maxLength` bytes, oldest first.
    public func openPackedBlocks(replication: Int, maxLength: Int64) throws -> [Int64] {
        try read { db in
            try Int64.fetchAll(db, sql: """
                SELECT id FROM block WHERE kind = 'packed' AND state = 'open' AND replication = ? AND length < ?
                ORDER BY id
                """, arguments: [replication, maxLength])
        }
    }

    /// Seals an open block; sealing a sealed block does nothing.
    public func sealBlock(_ id: Int64) throws {
        try write { db in
            let state = try String.fetchOne(db, sql: "SELECT state FROM block WHERE id = ?", arguments: [id])
            guard let state else { throw HFSError.notFound("no such block: \(id)") }
            guard state != "deleted" else { throw HFSError(.conflict, "cannot seal block \(id): it is deleted") }
            try db.execute(sql: "UPDATE block SET state = 'sealed' WHERE id = ?", arguments: [id])
        }
    }

    /// A file's status and its extents in order, each with its block's generation and the ids of
    /// the datanodes holding a replica (sorted).
    public typealias FileExtents = (status: FileStatus, extents: [(extent: Extent, generation: Int64, replicaNodes: [String])])

    public func locations(_ path: HFSPath) throws -> FileExtents {
        try read { db in try Self.locations(path, in: db) }
    }

    /// The same for many files in one read transaction (`hfs get` of a tree).
    public func locations(_ paths: [HFSPath]) throws -> [FileExtents] {
        try read { db in try paths.map { try Self.locations($0, in: db) } }
    }

    private static func locations(_ path: HFSPath, in db: Database) throws -> FileExtents {
        let inode = try Namespace(db: db).existingInode(at: path)
        guard inode.kind == .file else { throw HFSError.isADirectory(path) }
        let rows = try Row.fetchAll(db.cachedStatement(sql: """
            SELECT extent.block, extent.offset, extent.storedLength, extent.logicalLength, block.generation
            FROM extent JOIN block ON block.id = extent.block
            WHERE extent.file = ? ORDER BY extent.seq
            """), arguments: [inode.id])
        var nodesOfBlock: [Int64: [String]] = [:]
        var extents: [(extent: Extent, generation: Int64, replicaNodes: [String])] = []
        for row in rows {
            let extent = Extent(block: row["block"], offset: row["offset"], storedLength: row["storedLength"],
                                logicalLength: row["logicalLength"])
            if nodesOfBlock[extent.block] == nil {
                nodesOfBlock[extent.block] = try replicaNodes(of: extent.block, in: db)
            }
            extents.append((extent, row["generation"], nodesOfBlock[extent.block] ?? []))
        }
        return (inode.status(path: path.description), extents)
    }

    /// Files, directories (the path itself included) and byte sums under `path`.
    public func du(_ path: HFSPath) throws -> DuResponse {
        try read { db in
            let namespace = Namespace(db: db)
            let totals = try namespace.totals(inSubtreeOf: namespace.existingInode(at: path).id)
            return DuResponse(path: path.description, files: totals.files, directories: totals.directories,
                              logicalBytes: totals.logicalBytes, storedBytes: totals.storedBytes,
                              rawBytes: totals.rawBytes)
        }
    }

    /// Every distinct block used by files under `path`, with the highest replication of the files
    /// using it and the datanodes holding a replica; plus the file and directory counts.
    public func fsckScan(_ path: HFSPath) throws -> (files: Int64, directories: Int64, blocks: [BlockHealthRow]) {
        try read { db in
            let namespace = Namespace(db: db)
            let id = try namespace.existingInode(at: path).id
            let totals = try namespace.totals(inSubtreeOf: id)
            let rows = try Row.fetchAll(db, sql: Namespace.subtreeCTE + """
                , used(block, replication) AS (
                    SELECT extent.block, MAX(inode.replication) FROM extent JOIN inode ON inode.id = extent.file
                    WHERE extent.file IN subtree GROUP BY extent.block
                )
                SELECT used.block, used.replication, replica.datanode, replica.state, replica.length < block.length AS stale
                FROM used JOIN block ON block.id = used.block LEFT JOIN replica ON replica.block = used.block
                ORDER BY used.block, replica.datanode
                """, arguments: [id])
            var blocks: [BlockHealthRow] = []
            for row in rows {
                let block: Int64 = row["block"]
                if blocks.last?.block != block {
                    blocks.append(BlockHealthRow(block: block, replication: row["replication"], replicaNodes: []))
                }
                if let node: String = row["datanode"] {
                    if row["state"] == "corrupt" {
                        blocks[blocks.count - 1].corruptNodes.append(node)
                    } else if row["stale"] == true {
                        blocks[blocks.count - 1].staleNodes.append(node)
                    } else {
                        blocks[blocks.count - 1].replicaNodes.append(node)
                    }
                }
            }
            return (totals.files, totals.directories, blocks)
        }
    }

    /// Datanodes holding a replica of `block` not known to be corrupt and not stale (at least
    /// as long as the block's acknowledged length).
    static func replicaNodes(of block: Int64, in db: Database) throws -> [String] {
        try String.fetchAll(db.cachedStatement(sql: """
            SELECT replica.datanode FROM replica JOIN block ON block.id = replica.block
            WHERE replica.block = ? AND replica.state != 'corrupt' AND replica.length >= block.length
            ORDER BY replica.datanode
            """), arguments: [block])
    }

    /// A reader found a frame of `block` on `datanode` that fails its checksum: that replica is
    /// no longer offered to readers and counts as corrupt in fsck. False if no such replica.
    @discardableResult
    public func markCorrupt(block: Int64, datanode: String) throws -> Bool {
        try write { db in
            try db.execute(sql: "UPDATE replica SET state = 'corrupt' WHERE block = ? AND datanode = ?", arguments: [block, datanode])
            return db.changesCount > 0
        }
    }
}
