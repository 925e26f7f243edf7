import Foundation
import GRDB
import HFSCore

/// Committing written files: the hot path of small-file ingest.
extension MetadataStore {
    /// Makes a batch of written files visible at once, in one transaction: creates missing parent
    /// directories (owned by `owner`), inserts each file and its extents, records the datanodes
    /// that acknowledged each block. Any error leaves nothing of the batch visible.
    ///
    /// An existing file is `.alreadyExists` unless `overwrite`, which replaces it (its dedicated
    /// blocks that nothing references any more become `deleted`); a directory is `.isADirectory`.
    public func commit(_ files: [NewFile], acks: [BlockAck], overwrite: Bool, owner: String) throws {
        guard files.count <= Limits.commitFilesMax else {
            throw HFSError.invalid("commit of \(files.count) files; at most \(Limits.commitFilesMax) per request")
        }
        let paths = try files.map { try HFSPath($0.path) }
        let now = Date().timeIntervalSince1970
        try write { db in
            var batch = CommitBatch(namespace: Namespace(db: db), owner: owner, overwrite: overwrite, now: now)
            for (file, path) in zip(files, paths) {
                try batch.insert(file, at: path)
            }
            try batch.retireReplacedBlocks()
            for ack in acks {
                try batch.record(ack)
            }
        }
    }
}

/// The state of one commit transaction: resolved directories, checked blocks, replaced blocks.
private struct CommitBatch {
    let namespace: Namespace
    let owner: String
    let overwrite: Bool
    /// mtime of directories the batch creates.
    let now: Double
    var directories: [HFSPath: Int64] = [:]
    var usableBlocks: Set<Int64> = []
    /// Dedicated blocks of overwritten files, retired at the end if nothing uses them any more.
    var replacedBlocks: [Int64] = []

    init(namespace: Namespace, owner: String, overwrite: Bool, now: Double) {
        self.namespace = namespace; self.owner = owner; self.overwrite = overwrite; self.now = now
    }

    private var db: Database { namespace.db }

    mutating func insert(_ file: NewFile, at path: HFSPath) throws {
        try Self.validate(file, at: path)
        let parentID = try namespace.makeDirectories(path.parent ?? .root, resolving: path, owner: owner, now: now,
                                                     cache: &directories)
        try removeExisting(at: path, parentID: parentID)
        let fileID = try insertInode(file, parentID: parentID, name: path.name)
        for (seq, extent) in file.extents.enumerated() {
            try requireUsable(extent.block, for: path)
            try insertExtent(extent, file: fileID, seq: seq)
        }
        if let image = file.image { try insertImage(image, file: fileID) }
    }

    /// Retires the replaced files' dedicated blocks that the batch did not reuse.
    mutating func retireReplacedBlocks() throws {
        _ = try namespace.retireUnreferencedBlocks(replacedBlocks)
        replacedBlocks = []
    }

    /// Records the datanodes that hold `ack.block` and raises the block's length to `ack.length`.
    mutating func record(_ ack: BlockAck) throws {
        guard Limits.byteCounts.contains(ack.length) else {
            throw HFSError.invalid("block \(ack.block) acknowledged with a negative length or one over \(Limits.byteCountMax)")
        }
        try requireUsable(ack.block, for: nil)
        let upsert = try db.cachedStatement(sql: """
            INSERT INTO replica (block, datanode, state, length) VALUES (?, ?, 'finalized', ?)
            ON CONFLICT (block, datanode) DO UPDATE SET length = MAX(length, excluded.length)
            """)
        for node in ack.nodes {
            try upsert.execute(arguments: [ack.block, node, ack.length])
        }
        try db.cachedStatement(sql: "UPDATE block SET length = MAX(length, ?) WHERE id = ?")
            .execute(arguments: [ack.length, ack.block])
    }

    // MARK: steps

    private static func validate(_ file: NewFile, at path: HFSPath) throws {
        if path.isRoot { throw HFSError.isADirectory(path) }
        let bytes = Limits.byteCounts
        guard bytes.contains(file.size), bytes.contains(file.storedSize) else {
            throw HFSError.invalid("size of \(path) is negative or over \(Limits.byteCountMax) bytes")
        }
        guard (1...Limits.replicationMax).contains(file.replication) else {
            throw HFSError.invalid("replication \(file.replication) for \(path) is outside 1...\(Limits.replicationMax)")
        }
        for extent in file.extents where !bytes.contains(extent.offset) || !bytes.contains(extent.storedLength) || !bytes.contains(extent.logicalLength) {
            throw HFSError.invalid("extent of \(path) in block \(extent.block) has a negative offset or length, or one over \(Limits.byteCountMax)")
        }
        if let image = file.image {
            guard image.sha256.count == 64, image.sha256.allSatisfy(\.isHexDigit) else {
                throw HFSError.invalid("sha256 of \(path) is not 64 hex digits")
            }
            let side = 0...Limits.imageSideMax
            guard image.width.map(side.contains) ?? true, image.height.map(side.contains) ?? true,
                  image.channels.map((0...Limits.imageChannelsMax).contains) ?? true else {
                throw HFSError.invalid("image attributes of \(path): width, height or channels out of range")
            }
        }
    }

    /// Makes room for a file at `path`: an existing file is an error unless overwriting.
    private mutating func removeExisting(at path: HFSPath, parentID: Int64) throws {
        guard let existing = try namespace.childKind(of: parentID, named: path.name) else { return }
        guard existing.kind == .file else { throw HFSError.isADirectory(path) }
        guard overwrite else { throw HFSError.exists(path) }
        replacedBlocks += try namespace.dedicatedBlocks(inSubtreeOf: existing.id)
        try namespace.deleteSubtree(existing.id)
    }

    private func insertInode(_ file: NewFile, parentID: Int64, name: String) throws -> Int64 {
        let statement = try db.cachedStatement(sql: """
            INSERT INTO inode (parent, name, kind, size, storedSize, replication, codec, mtime, owner, groupName, mode)
            VALUES (?, ?, 'file', ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        try statement.execute(arguments: [parentID, name, file.size, file.storedSize, file.replication, file.codec,
                                          file.mtime, owner, Inode.defaultGroup, Inode.fileMode])
        return db.lastInsertedRowID
    }

    private func insertExtent(_ extent: Extent, file: Int64, seq: Int) throws {
        let statement = try db.cachedStatement(sql: """
            INSERT INTO extent (file, seq, block, offset, storedLength, logicalLength) VALUES (?, ?, ?, ?, ?, ?)
            """)
        try statement.execute(arguments: [file, seq, extent.block, extent.offset, extent.storedLength,
                                          extent.logicalLength])
    }

    private func insertImage(_ image: ImageAttributes, file: Int64) throws {
        let statement = try db.cachedStatement(sql: """
            INSERT INTO image (file, format, width, height, channels, label, sha256, invalid) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """)
        try statement.execute(arguments: [file, image.format, image.width, image.height, image.channels, image.label,
                                          image.sha256, image.invalid])
    }

    /// Throws `.invalidArgument` unless `block` exists and is not deleted.
    private mutating func requireUsable(_ block: Int64, for path: HFSPath?) throws {
        if usableBlocks.contains(block) { return }
        let state = try String.fetchOne(db.cachedStatement(sql: "SELECT state FROM block WHERE id = ?"),
                                        arguments: [block])
        let context = path.map { " (extent of \($0))" } ?? " (acknowledged)"
        guard let state else { throw HFSError.invalid("unknown block \(block)\(context)") }
        guard state != "deleted" else { throw HFSError.invalid("block \(block) is deleted\(context)") }
        usableBlocks.insert(block)
    }
}
