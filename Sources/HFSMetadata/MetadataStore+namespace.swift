import GRDB
import HFSCore

/// Reads and changes of the directory tree.
extension MetadataStore {
    public func status(_ path: HFSPath) throws -> FileStatus {
        try read { db in
            try Namespace(db: db).existingInode(at: path).status(path: path.description)
        }
    }

    /// A directory's children (with `recursive`, its whole subtree depth-first, children sorted by
    /// name), or a file's own status. Stops after `limit` entries and says so with `truncated`.
    public func list(_ path: HFSPath, recursive: Bool, limit: Int) throws -> (entries: [FileStatus], truncated: Bool) {
        try read { db in
            let namespace = Namespace(db: db)
            let inode = try namespace.existingInode(at: path)
            guard inode.kind == .directory else { return ([inode.status(path: path.description)], false) }
            var listing = Listing(namespace: namespace, recursive: recursive, limit: max(0, limit))
            try listing.appendChildren(of: inode.id, at: path.description)
            return (listing.entries, listing.truncated)
        }
    }

    /// `parents == false`: the parent must exist and `path` must not. `parents == true`: like
    /// `mkdir -p`, fine if it already is a directory.
    public func mkdir(_ path: HFSPath, parents: Bool, owner: String, now: Double) throws {
        try write { db in
            let namespace = Namespace(db: db)
            if parents {
                var cache: [HFSPath: Int64] = [:]
                _ = try namespace.makeDirectories(path, resolving: path, owner: owner, now: now, cache: &cache)
                return
            }
            guard let parentPath = path.parent else { throw HFSError.exists(path) }
            guard let parentID = try namespace.directoryID(at: parentPath, resolving: path) else {
                throw HFSError.noSuchPath(parentPath)
            }
            if try namespace.childKind(of: parentID, named: path.name) != nil { throw HFSError.exists(path) }
            _ = try namespace.insertDirectory(parent: parentID, name: path.name, owner: owner, now: now)
        }
    }

    /// Deletes a file or a directory (a non-empty one only with `recursive`). Returns the dedicated
    /// blocks no file references any more, now in state `deleted`.
    public func delete(_ path: HFSPath, recursive: Bool) throws -> [Int64] {
        guard !path.isRoot else { throw HFSError.invalid("cannot delete the root directory /") }
        return try write { db in
            let namespace = Namespace(db: db)
            let inode = try namespace.existingInode(at: path)
            if inode.kind == .directory, !recursive, try namespace.hasChildren(inode.id) {
                throw HFSError.notEmpty(path)
            }
            let candidates = try namespace.dedicatedBlocks(inSubtreeOf: inode.id)
            try namespace.deleteSubtree(inode.id)
            return try namespace.retireUnreferencedBlocks(candidates)
        }
    }

    /// Unix `mv`: into `dst` under its own name when `dst` is a directory, else to `dst`, whose
    /// parent must be a directory and which must not exist. One row changes.
    public func rename(_ src: HFSPath, _ dst: HFSPath) throws {
        guard !src.isRoot else { throw HFSError.invalid("cannot rename the root directory /") }
        try write { db in
            let namespace = Namespace(db: db)
            let source = try namespace.existingInode(at: src)
            let target = try Self.renameTarget(of: src, kind: source.kind, to: dst, in: namespace)
            try db.execute(sql: "UPDATE inode SET parent = ?, name = ? WHERE id = ?",
                           arguments: [target.parentID, target.path.name, source.id])
        }
    }

    /// Where `src` lands when moved to `dst`, checked: not inside itself, not over an existing entry.
    private static func renameTarget(of src: HFSPath, kind: FileKind, to dst: HFSPath,
                                     in namespace: Namespace) throws -> (parentID: Int64, path: HFSPath) {
        let existing = try namespace.inode(at: dst)
        let target: (parentID: Int64, path: HFSPath)
        if let existing, existing.kind == .directory {
            target = (existing.id, try dst.appending(src.name))
        } else if existing != nil {
            throw HFSError.exists(dst)
        } else {
            guard let parentPath = dst.parent else { throw HFSError.exists(dst) }
            guard let parentID = try namespace.directoryID(at: parentPath, resolving: dst) else {
                throw HFSError.noSuchPath(parentPath)
            }
            target = (parentID, dst)
        }
        if kind == .directory, target.path.isWithin(src) {
            throw HFSError.invalid("cannot move directory \(src) into itself: \(target.path)")
        }
        if try namespace.childKind(of: target.parentID, named: target.path.name) != nil {
            throw HFSError.exists(target.path)
        }
        return target
    }
}

/// A directory listing being built depth-first, bounded by `limit` entries.
private struct Listing {
    let namespace: Namespace
    let recursive: Bool
    let limit: Int
    var entries: [FileStatus] = []
    var truncated = false

    init(namespace: Namespace, recursive: Bool, limit: Int) {
        self.namespace = namespace; self.recursive = recursive; self.limit = limit
    }

    /// Appends the children of directory `id` (at path `directory`), and with `recursive` their
    /// subtrees depth first, until `limit` entries; sets `truncated` if anything was left out.
    /// Iterative: renames can nest directories deeper than any path a client may name, and a
    /// recursive walk of such a tree would overflow the stack.
    mutating func appendChildren(of id: Int64, at directory: String) throws {
        // One more than fits tells whether anything is left out.
        var stack = [(children: try namespace.children(of: id, limit: limit - entries.count + 1).makeIterator(), path: directory)]
        while !stack.isEmpty {
            guard let child = stack[stack.count - 1].children.next() else {
                stack.removeLast()
                continue
            }
            if entries.count == limit {
                truncated = true
                return
            }
            let path = Inode.path(in: stack[stack.count - 1].path, name: child.name)
            entries.append(child.status(path: path))
            if recursive, child.kind == .directory {
                stack.append((try namespace.children(of: child.id, limit: limit - entries.count + 1).makeIterator(), path))
            }
        }
    }
}
