import Foundation
import GRDB
import HFSCore

/// What ingest needs from the metadata: what already sits at a batch of paths, stored content by
/// hash (dedup), and datasets answered from the image table without reading any block.
extension MetadataStore {
    /// One entry per path: nil where nothing is (or a parent is missing or a file).
    public func lookup(_ paths: [HFSPath]) throws -> [LookupEntry?] {
        try read { db in
            let namespace = Namespace(db: db)
            let hash = try db.cachedStatement(sql: "SELECT sha256 FROM image WHERE file = ?")
            return try paths.map { path in
                guard let inode = try? namespace.inode(at: path) else { return nil }
                let sha = inode.kind == .file ? try String.fetchOne(hash, arguments: [inode.id]) : nil
                return LookupEntry(type: inode.kind, size: inode.kind == .file ? inode.size : 0, sha256: sha)
            }
        }
    }

    /// For each hash some file holds, that file's size, codec and extents.
    public func storedContent(_ hashes: [String]) throws -> [String: StoredContent] {
        try read { db in
            let file = try db.cachedStatement(sql: """
                SELECT inode.id, inode.size, inode.codec FROM image JOIN inode ON inode.id = image.file
                WHERE image.sha256 = ? AND image.invalid IS NULL LIMIT 1
                """)
            let extents = try db.cachedStatement(sql: """
                SELECT block, offset, storedLength, logicalLength FROM extent WHERE file = ? ORDER BY seq
                """)
            var found: [String: StoredContent] = [:]
            for hash in Set(hashes) {
                guard let row = try Row.fetchOne(file, arguments: [hash]) else { continue }
                let id: Int64 = row[0]
                let list = try Row.fetchAll(extents, arguments: [id]).map {
                    Extent(block: $0[0], offset: $0[1], storedLength: $0[2], logicalLength: $0[3])
                }
                found[hash] = StoredContent(size: row[1], codec: row[2] ?? CodecPolicy.auto.rawValue, extents: list)
            }
            return found
        }
    }

    /// Records the directory at `path` (created if missing) as a dataset.
    public func registerDataset(_ path: HFSPath, owner: String, now: Double) throws {
        try write { db in
            var cache: [HFSPath: Int64] = [:]
            let id = try Namespace(db: db).makeDirectories(path, resolving: path, owner: owner, now: now, cache: &cache)
            try db.execute(sql: "INSERT OR IGNORE INTO dataset (dir, createdAt) VALUES (?, ?)", arguments: [id, now])
        }
    }

    /// Every dataset, with its summary, in path order.
    public func datasets() throws -> [DatasetSummary] {
        try read { db in
            let namespace = Namespace(db: db)
            let ids = try Int64.fetchAll(db, sql: "SELECT dir FROM dataset")
            return try ids.map { try Self.summary(of: $0, at: namespace.path(of: $0), in: db) }.sorted { $0.path < $1.path }
        }
    }

    /// The summary of the images under `path` (a dataset or any directory).
    public func datasetSummary(_ path: HFSPath) throws -> DatasetSummary {
        try read { db in
            let inode = try Namespace(db: db).existingInode(at: path)
            guard inode.kind == .directory else { throw HFSError.invalid("\(path) is a file, not a dataset directory") }
            return try Self.summary(of: inode.id, at: path.description, in: db)
        }
    }

    /// Up to `limit` image rows under the directory at `path`, in path order, after `after`.
    public func manifest(_ path: HFSPath, after: String?, limit: Int) throws -> ManifestResponse {
        try read { db in
            let inode = try Namespace(db: db).existingInode(at: path)
            guard inode.kind == .directory else { throw HFSError.invalid("\(path) is a file, not a dataset directory") }
            let prefix = path.isRoot ? "" : path.description
            let rows = try Row.fetchAll(db, sql: Self.subtreePathsCTE + """
                SELECT sub.path, image.label, image.format, image.width, image.height, inode.size, image.sha256
                FROM sub JOIN inode ON inode.id = sub.id JOIN image ON image.file = sub.id
                WHERE sub.path > ? ORDER BY sub.path LIMIT ?
                """, arguments: [inode.id, prefix, after ?? "", limit + 1])
            let page = rows.prefix(limit).map {
                ManifestRow(path: $0[0], label: $0[1], format: $0[2], width: $0[3], height: $0[4], bytes: $0[5], sha256: $0[6])
            }
            return ManifestResponse(rows: Array(page), next: rows.count > limit ? page.last?.path : nil)
        }
    }

    /// `sub(id, path)`: the subtree of inode `?` with full paths, its root at path `?`.
    private static let subtreePathsCTE = """
        WITH RECURSIVE sub(id, path) AS (
            SELECT ?, ?
            UNION ALL
            SELECT inode.id, sub.path || '/' || inode.name FROM inode JOIN sub ON inode.parent = sub.id
        )

        """

    private static func summary(of dir: Int64, at path: String, in db: Database) throws -> DatasetSummary {
        let from = Namespace.subtreeCTE + "SELECT %@ FROM inode JOIN image ON image.file = inode.id WHERE inode.id IN subtree %@"
        func query(_ columns: String, _ tail: String = "") -> String {
            String(format: from, columns, tail)
        }
        let totals = try Row.fetchOne(db, sql: query("""
            COUNT(*), COALESCE(SUM(image.invalid IS NOT NULL), 0), COALESCE(SUM(inode.size), 0), COALESCE(SUM(inode.storedSize), 0)
            """), arguments: [dir])
        var classes: [String: Int64] = [:]
        for row in try Row.fetchAll(db, sql: query("image.label, COUNT(*)", "AND image.label IS NOT NULL GROUP BY image.label"),
                                    arguments: [dir]) {
            classes[row[0]] = row[1]
        }
        var formats: [String: Int64] = [:]
        for row in try Row.fetchAll(db, sql: query("COALESCE(image.format, 'invalid'), COUNT(*)", "GROUP BY 1"), arguments: [dir]) {
            formats[row[0]] = row[1]
        }
        let widths = try Int.fetchAll(db, sql: query("image.width", "AND image.width IS NOT NULL ORDER BY 1"), arguments: [dir])
        let heights = try Int.fetchAll(db, sql: query("image.height", "AND image.height IS NOT NULL ORDER BY 1"), arguments: [dir])
        let invalid: Int64 = totals?[1] ?? 0
        return DatasetSummary(path: path, images: (totals?[0] ?? 0) - invalid, invalid: invalid,
                              logicalBytes: totals?[2] ?? 0, storedBytes: totals?[3] ?? 0, classes: classes, formats: formats,
                              width: Distribution(sorted: widths), height: Distribution(sorted: heights))
    }
}

extension Distribution {
    /// Nearest-rank quantiles of already sorted values; nil when there are none.
    init?(sorted v: [Int]) {
        guard let first = v.first, let last = v.last else { return nil }
        func q(_ p: Double) -> Int { v[Swift.max(0, Int((p * Double(v.count)).rounded(.up)) - 1)] }
        self.init(min: first, p25: q(0.25), median: q(0.5), p75: q(0.75), max: last,
                  mean: Double(v.reduce(0, +)) / Double(v.count))
    }
}

extension Namespace {
    /// The absolute path of inode `id`, walking up its parents.
    func path(of id: Int64) throws -> String {
        var names: [String] = []
        var current = id
        while current != Inode.rootID {
            guard let inode = try inode(id: current) else { throw HFSError(.internal, "inode \(id) has no path (missing \(current))") }
            names.append(inode.name)
            current = inode.parent
        }
        return "/" + names.reversed().joined(separator: "/")
    }
}
