import GRDB
import HFSCore

/// A sealed packed block worth rewriting: most of its bytes belong to deleted files.
public struct CompactionCandidate: Sendable, Equatable {
    public var block: Int64
    public var length: Int64
    public var replication: Int
    /// The byte ranges files still reference, by offset, each once (dedup shares ranges).
    public var live: [ByteRange]
    public var liveBytes: Int64 { live.reduce(0) { $0 + $1.length } }
}

/// Compaction of packed blocks and removal of blocks no file will ever reference.
extension MetadataStore {
    /// Sealed packed blocks, not in `excluding`, whose referenced bytes are below `threshold` of
    /// their length (none with `threshold` 0), emptiest first, at most `limit`, with their live
    /// ranges. Blocks no file references are not included: see ``unreferencedBlocks(uncommittedBefore:)``.
    public func compactionCandidates(threshold: Double, excluding: Set<Int64>, limit: Int) throws -> [CompactionCandidate] {
        guard threshold > 0, limit > 0 else { return [] }
        return try read { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT id, length, replication, live FROM (
                    SELECT block.id, block.length, block.replication,
                        (SELECT SUM(storedLength) FROM (SELECT DISTINCT offset, storedLength FROM extent WHERE extent.block = block.id)) AS live
                    FROM block WHERE block.kind = 'packed' AND block.state = 'sealed' AND block.length > 0
                )
                WHERE live > 0 AND live < ? * length
                ORDER BY CAST(live AS REAL) / length, id
                """, arguments: [threshold])
            var out: [CompactionCandidate] = []
            let ranges = try db.cachedStatement(sql: """
                SELECT DISTINCT offset, storedLength FROM extent WHERE block = ? ORDER BY offset, storedLength DESC
                """)
            for row in rows {
                let id: Int64 = row["id"]
                guard !excluding.contains(id) else { continue }
                var live: [ByteRange] = []
                for r in try Row.fetchAll(ranges, arguments: [id]) {
                    let range = ByteRange(offset: r["offset"], length: r["storedLength"])
                    // Ranges of one block never overlap partly (each is whole frames of one
                    // append); an identical range shared by dedup appears once. Should one lie
                    // across the end of the previous, the copy is widened to cover both.
                    if let last = live.last, range.offset < last.offset + last.length {
                        live[live.count - 1].length = max(last.length, range.offset + range.length - last.offset)
                        continue
                    }
                    live.append(range)
                }
                out.append(CompactionCandidate(block: id, length: row["length"], replication: row["replication"], live: live))
                if out.count >= limit { break }
            }
            return out
        }
    }

    /// Blocks no file references that will never be: sealed packed blocks (every file in them
    /// was removed, or their batch never committed), and dedicated blocks allocated before
    /// `uncommittedBefore` (a put that never committed).
    public func unreferencedBlocks(uncommittedBefore: Double) throws -> [Int64] {
        try read { db in
            try Int64.fetchAll(db, sql: """
                SELECT id FROM block
                WHERE state != 'deleted' AND NOT EXISTS (SELECT 1 FROM extent WHERE extent.block = block.id)
                  AND ((kind = 'packed' AND state = 'sealed') OR (kind = 'dedicated' AND createdAt < ?))
                ORDER BY id
                """, arguments: [uncommittedBefore])
        }
    }

    /// Marks `deleted` those of `ids` that still have no file referencing them; returns them.
    public func retireUnreferenced(_ ids: [Int64]) throws -> [Int64] {
        try write { db in try Namespace(db: db).retireUnreferencedBlocks(ids) }
    }

    /// Switches every file of `old` to the copy of its bytes in `new`, in one transaction: each
    /// range of `plan` moved to `ack.offset` + the lengths of the ranges before it. Then `old` is
    /// `deleted` (its replicas are removed by heartbeat commands) and `new` is sealed with the
    /// acknowledged replicas. Throws `.conflict`, changing nothing, when a file of `old` lies
    /// outside the copied ranges (it was committed after the plan was made).
    public func switchCompacted(old: Int64, plan: CompactionPlan, ack: AppendResponse) throws {
        let copied = plan.ranges.reduce(0) { $0 + $1.length }
        guard Limits.byteCounts.contains(ack.offset), Limits.byteCounts.contains(ack.storedLength) else {
            throw HFSError.invalid("compaction of block \(old): acknowledged offset or length out of range")
        }
        guard ack.storedLength == copied, ack.block == plan.newBlock else {
            throw HFSError(.conflict, "compaction of block \(old): block \(ack.block) got \(ack.storedLength) bytes, the plan copies \(copied) into \(plan.newBlock)")
        }
        try write { db in
            let states = try Row.fetchAll(db, sql: "SELECT id, state FROM block WHERE id IN (?, ?)", arguments: [old, plan.newBlock])
            let state = Dictionary(uniqueKeysWithValues: states.map { (row: Row) -> (Int64, String) in (row["id"], row["state"]) })
            guard state[old] == "sealed" else { throw HFSError(.conflict, "compaction of block \(old): it is \(state[old] ?? "unknown"), not sealed") }
            guard let s = state[plan.newBlock], s != "deleted" else {
                throw HFSError(.conflict, "compaction of block \(old): new block \(plan.newBlock) is \(state[plan.newBlock] ?? "unknown")")
            }
            let move = try db.cachedStatement(sql: """
                UPDATE extent SET block = ?, offset = ? + (offset - ?)
                WHERE block = ? AND offset >= ? AND offset + storedLength <= ?
                """)
            var to = ack.offset
            for r in plan.ranges {
                try move.execute(arguments: [plan.newBlock, to, r.offset, old, r.offset, r.offset + r.length])
                to += r.length
            }
            let left = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM extent WHERE block = ?", arguments: [old]) ?? 0
            guard left == 0 else {
                throw HFSError(.conflict, "compaction of block \(old): \(left) extent(s) outside the copied ranges; it will be planned again")
            }
            try db.execute(sql: "UPDATE block SET state = 'deleted' WHERE id = ?", arguments: [old])
            let end = ack.offset + ack.storedLength
            try db.execute(sql: "UPDATE block SET state = 'sealed', length = MAX(length, ?) WHERE id = ?", arguments: [end, plan.newBlock])
            let upsert = try db.cachedStatement(sql: """
                INSERT INTO replica (block, datanode, state, length) VALUES (?, ?, 'finalized', ?)
                ON CONFLICT (block, datanode) DO UPDATE SET length = MAX(length, excluded.length), state = 'finalized'
                """)
            for node in ack.nodes { try upsert.execute(arguments: [plan.newBlock, node, end]) }
        }
    }

    /// Datanodes holding a good replica of `block` (not corrupt, not stale), sorted.
    public func goodReplicaNodes(of block: Int64) throws -> [String] {
        try read { db in try Self.replicaNodes(of: block, in: db) }
    }

    /// A writer gives up dedicated block `id` after its pipeline failed: it becomes `deleted`.
    /// Refused for a packed block (other writers share it) and for a block a file references.
    public func abandon(_ id: Int64) throws {
        try write { db in
            guard let kind = try String.fetchOne(db, sql: "SELECT kind FROM block WHERE id = ?", arguments: [id]) else {
                throw HFSError.notFound("no such block: \(id)")
            }
            guard kind == BlockKind.dedicated.rawValue else { throw HFSError(.conflict, "block \(id) is \(kind): only a dedicated block can be abandoned") }
            guard try Namespace(db: db).retireUnreferencedBlocks([id]) == [id] else {
                let state = try String.fetchOne(db, sql: "SELECT state FROM block WHERE id = ?", arguments: [id]) ?? "?"
                if state == "deleted" { return }
                throw HFSError(.conflict, "block \(id) is in use by a file")
            }
        }
    }
}
