import GRDB
import HFSCore

/// Datanodes and the replicas they report.
extension MetadataStore {
    /// Registers a datanode or refreshes its address, rack and space; its admin state is kept.
    public func upsertDatanode(_ node: DatanodeInfo, capacityBytes: Int64, usedBytes: Int64) throws {
        try write { db in
            try db.execute(sql: """
                INSERT INTO datanode (id, address, rack, capacityBytes, usedBytes) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET address = excluded.address, rack = excluded.rack,
                    capacityBytes = excluded.capacityBytes, usedBytes = excluded.usedBytes
                """, arguments: [node.id, node.address, node.rack, capacityBytes, usedBytes])
        }
    }

    /// Every known datanode, sorted by id. `decommissioning` is its stored admin state.
    public func datanodes() throws -> [(node: DatanodeInfo, capacityBytes: Int64, usedBytes: Int64, decommissioning: Bool)] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT id, address, rack, capacityBytes, usedBytes, adminState FROM datanode ORDER BY id")
                .map { row in
                    (DatanodeInfo(id: row["id"], address: row["address"], rack: row["rack"]),
                     row["capacityBytes"], row["usedBytes"], row["adminState"] == "decommissioning")
                }
        }
    }

    /// Stores whether `id` is being decommissioned (it survives a namenode restart). Throws
    /// `.notFound` naming the known ids when no datanode `id` ever registered.
    public func setDecommissioning(_ id: String, _ decommissioning: Bool) throws {
        try write { db in
            try db.execute(sql: "UPDATE datanode SET adminState = ? WHERE id = ?",
                           arguments: [decommissioning ? "decommissioning" : "normal", id])
            guard db.changesCount == 0 else { return }
            let known = try String.fetchAll(db, sql: "SELECT id FROM datanode ORDER BY id")
            throw HFSError.notFound("no datanode '\(id)' (known: \(known.isEmpty ? "none" : known.joined(separator: ", ")))")
        }
    }

    /// A full block report: the node's replica rows become exactly the reported blocks that the
    /// namenode knows and has not deleted. Returns the reported blocks the node should delete
    /// (unknown or deleted), in report order.
    public func replaceReplicas(of datanode: String, with report: [BlockReportEntry]) throws -> [Int64] {
        try write { db in
            // A replica found corrupt stays marked until it is repaired (a report cannot tell).
            let corrupt = try Int64.fetchAll(db, sql: "SELECT block FROM replica WHERE datanode = ? AND state = 'corrupt'", arguments: [datanode])
            try db.execute(sql: "DELETE FROM replica WHERE datanode = ?", arguments: [datanode])
            let unwanted = try Self.recordReplicas(report, on: datanode, in: db)
            for block in corrupt {
                try db.execute(sql: "UPDATE replica SET state = 'corrupt' WHERE block = ? AND datanode = ?", arguments: [block, datanode])
            }
            return unwanted
        }
    }

    /// An incremental block report: adds `received`, drops `removed`. Returns the received blocks
    /// the node should delete (unknown or deleted).
    public func addReplicas(of datanode: String, received: [BlockReportEntry], removed: [Int64]) throws -> [Int64] {
        try write { db in
            let unwanted = try Self.recordReplicas(received, on: datanode, in: db)
            // A block the node has just received was verified frame by frame on the way in:
            // whatever was wrong with an earlier copy there, this one is good.
            let good = try db.cachedStatement(sql: "UPDATE replica SET state = 'finalized' WHERE block = ? AND datanode = ?")
            for entry in received { try good.execute(arguments: [entry.block, datanode]) }
            let delete = try db.cachedStatement(sql: "DELETE FROM replica WHERE block = ? AND datanode = ?")
            for block in removed {
                try delete.execute(arguments: [block, datanode])
            }
            return unwanted
        }
    }

    /// Number of replica rows per datanode id.
    public func replicaCounts() throws -> [String: Int] {
        try read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT datanode, COUNT(*) AS count FROM replica GROUP BY datanode")
            // (Ids equal as Swift strings but not as SQLite bytes, "é" and "e\u{301}", are added up.)
            return Dictionary(rows.map { ($0["datanode"], $0["count"]) }, uniquingKeysWith: +)
        }
    }

    /// Blocks in state `deleted` that `datanode` still holds: what to tell it to delete.
    public func deletedBlocks(on datanode: String) throws -> [Int64] {
        try read { db in
            try Int64.fetchAll(db, sql: """
                SELECT replica.block FROM replica JOIN block ON block.id = replica.block
                WHERE replica.datanode = ? AND block.state = 'deleted'
                ORDER BY replica.block
                """, arguments: [datanode])
        }
    }

    /// Removes the rows of deleted blocks among `ids` that no replica (and no extent) references.
    public func forgetBlocks(_ ids: [Int64]) throws {
        try write { db in
            let statement = try db.cachedStatement(sql: """
                DELETE FROM block WHERE id = ? AND state = 'deleted'
                    AND NOT EXISTS (SELECT 1 FROM replica WHERE replica.block = block.id)
                    AND NOT EXISTS (SELECT 1 FROM extent WHERE extent.block = block.id)
                """)
            for id in ids {
                try statement.execute(arguments: [id])
            }
        }
    }

    /// Upserts a finalized replica on `datanode` for each reported block that is known and not
    /// deleted; returns the others, each once.
    private static func recordReplicas(_ report: [BlockReportEntry], on datanode: String,
                                       in db: Database) throws -> [Int64] {
        let stateOfBlock = try db.cachedStatement(sql: "SELECT state FROM block WHERE id = ?")
        let upsert = try db.cachedStatement(sql: """
            INSERT INTO replica (block, datanode, state, length) VALUES (?, ?, 'finalized', ?)
            ON CONFLICT (block, datanode) DO UPDATE SET length = MAX(length, excluded.length)
            """)
        var unwanted: [Int64] = []
        var seenUnwanted: Set<Int64> = []
        for entry in report {
            let state = try String.fetchOne(stateOfBlock, arguments: [entry.block])
            if let state, state != "deleted" {
                try upsert.execute(arguments: [entry.block, datanode, entry.length])
            } else if seenUnwanted.insert(entry.block).inserted {
                unwanted.append(entry.block)
            }
        }
        return unwanted
    }
}
