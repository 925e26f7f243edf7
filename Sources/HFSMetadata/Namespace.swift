import GRDB
import HFSCore

/// Path resolution and inode writes inside one database access (a read or a write transaction).
///
/// Paths are resolved by walking names from the root, one `(parent, name)` lookup per component.
struct Namespace {
    let db: Database

    /// The subtree of the inode bound to `?`, itself included, as the CTE `subtree(id)`.
    static let subtreeCTE = """
        WITH RECURSIVE subtree(id) AS (
            SELECT ?
            UNION ALL
            SELECT inode.id FROM inode JOIN subtree ON inode.parent = subtree.id
        )

        """

    // MARK: resolution

    /// The inode at `path`, or nil when a component is missing.
    /// Throws `.notADirectory` when a file stands where a directory is needed.
    func inode(at path: HFSPath) throws -> Inode? {
        guard let parentPath = path.parent else { return try inode(id: Inode.rootID) }
        guard let parentID = try directoryID(at: parentPath, resolving: path) else { return nil }
        return try child(of: parentID, named: path.name)
    }

    /// Like ``inode(at:)``, but a missing path is a `.notFound` error.
    func existingInode(at path: HFSPath) throws -> Inode {
        guard let inode = try inode(at: path) else { throw HFSError.noSuchPath(path) }
        return inode
    }

    /// The id of the directory at `path`, or nil when a component is missing. `requested` is the
    /// path the caller is resolving, named in the error when a component is a file.
    func directoryID(at path: HFSPath, resolving requested: HFSPath) throws -> Int64? {
        var id = Inode.rootID
        for (depth, name) in path.components.enumerated() {
            guard let child = try childKind(of: id, named: name) else { return nil }
            guard child.kind == .directory else {
                let file = "/" + path.components.prefix(depth + 1).joined(separator: "/")
                throw HFSError.notADirectory(file, resolving: requested)
            }
            id = child.id
        }
        return id
    }

    func inode(id: Int64) throws -> Inode? {
        try Inode.fetchOne(db.cachedStatement(sql: "SELECT * FROM inode WHERE id = ?"), arguments: [id])
    }

    func child(of parent: Int64, named name: String) throws -> Inode? {
        let statement = try db.cachedStatement(sql: "SELECT * FROM inode WHERE parent = ? AND name = ?")
        return try Inode.fetchOne(statement, arguments: [parent, name])
    }

    /// Id and kind of `name` in directory `parent`, without the rest of the row.
    func childKind(of parent: Int64, named name: String) throws -> (id: Int64, kind: FileKind)? {
        let statement = try db.cachedStatement(sql: "SELECT id, kind FROM inode WHERE parent = ? AND name = ?")
        guard let row = try Row.fetchOne(statement, arguments: [parent, name]) else { return nil }
        let kind: String = row["kind"]
        return (row["id"], kind == FileKind.file.rawValue ? .file : .directory)
    }

    /// Children of `parent` sorted by name, at most `limit` of them.
    func children(of parent: Int64, limit: Int) throws -> [Inode] {
        let statement = try db.cachedStatement(sql: "SELECT * FROM inode WHERE parent = ? ORDER BY name LIMIT ?")
        return try Inode.fetchAll(statement, arguments: [parent, limit])
    }

    func hasChildren(_ id: Int64) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM inode WHERE parent = ?)", arguments: [id]) ?? false
    }

    // MARK: directories

    /// The id of the directory at `path`, creating it and its missing ancestors like `mkdir -p`.
    /// A file in the way is `.notADirectory`. `cache` remembers directories already resolved in
    /// this transaction (valid as long as the transaction deletes no directory).
    func makeDirectories(_ path: HFSPath, resolving requested: HFSPath, owner: String, now: Double,
                         cache: inout [HFSPath: Int64]) throws -> Int64 {
        guard let parentPath = path.parent else { return Inode.rootID }
        if let id = cache[path] { return id }
        let parentID = try makeDirectories(parentPath, resolving: requested, owner: owner, now: now, cache: &cache)
        let id: Int64
        if let existing = try childKind(of: parentID, named: path.name) {
            guard existing.kind == .directory else {
                throw HFSError.notADirectory(path.description, resolving: requested)
            }
            id = existing.id
        } else {
            id = try insertDirectory(parent: parentID, name: path.name, owner: owner, now: now)
        }
        cache[path] = id
        return id
    }

    func insertDirectory(parent: Int64, name: String, owner: String, now: Double) throws -> Int64 {
        let statement = try db.cachedStatement(sql: """
            INSERT INTO inode (parent, name, kind, mtime, owner, groupName, mode)
            VALUES (?, ?, 'directory', ?, ?, ?, ?)
            """)
        try statement.execute(arguments: [parent, name, now, owner, Inode.defaultGroup, Inode.directoryMode])
        return db.lastInsertedRowID
    }

    // MARK: deletion

    /// Dedicated blocks used by files in the subtree of `id` (itself included), distinct.
    func dedicatedBlocks(inSubtreeOf id: Int64) throws -> [Int64] {
        try Int64.fetchAll(db, sql: Self.subtreeCTE + """
            SELECT DISTINCT extent.block FROM extent JOIN block ON block.id = extent.block
            WHERE extent.file IN subtree AND block.kind = 'dedicated'
            ORDER BY extent.block
            """, arguments: [id])
    }

    /// Deletes the inode `id` and everything below it; their extents go by ON DELETE CASCADE.
    func deleteSubtree(_ id: Int64) throws {
        try db.execute(sql: Self.subtreeCTE + "DELETE FROM inode WHERE id IN subtree", arguments: [id])
    }

    /// Marks `deleted` those of `candidates` that no extent references any more and returns them.
    func retireUnreferencedBlocks(_ candidates: [Int64]) throws -> [Int64] {
        let statement = try db.cachedStatement(sql: """
            UPDATE block SET state = 'deleted'
            WHERE id = ? AND state != 'deleted' AND NOT EXISTS (SELECT 1 FROM extent WHERE extent.block = block.id)
            """)
        var retired: [Int64] = []
        for id in candidates {
            try statement.execute(arguments: [id])
            if db.changesCount > 0 { retired.append(id) }
        }
        return retired
    }

    // MARK: sums

    struct SubtreeTotals {
        var files: Int64
        var directories: Int64
        var logicalBytes: Int64
        var storedBytes: Int64
        var rawBytes: Int64
    }

    /// Counts and byte sums over the subtree of `id`, itself included.
    func totals(inSubtreeOf id: Int64) throws -> SubtreeTotals {
        let row = try Row.fetchOne(db, sql: Self.subtreeCTE + """
            SELECT COALESCE(SUM(kind = 'file'), 0) AS files,
                   COALESCE(SUM(kind = 'directory'), 0) AS directories,
                   COALESCE(SUM(size), 0) AS logicalBytes,
                   COALESCE(SUM(storedSize), 0) AS storedBytes,
                   COALESCE(SUM(storedSize * replication), 0) AS rawBytes
            FROM inode WHERE id IN subtree
            """, arguments: [id])
        guard let row else { throw HFSError(.internal, "subtree sums of inode \(id) returned no row") }
        return SubtreeTotals(files: row["files"], directories: row["directories"], logicalBytes: row["logicalBytes"],
                             storedBytes: row["storedBytes"], rawBytes: row["rawBytes"])
    }
}
