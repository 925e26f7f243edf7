import Foundation
import GRDB
import HFSCore

/// The namenode's metadata: the namespace (directories and files), each file's extents, the
/// blocks they live in, the replicas datanodes hold and the datanodes themselves, in one SQLite
/// database through GRDB.
///
/// - Paths are never stored. An inode is named by `(parent, name)` and a path is resolved by
///   walking names from the root (id 1), so renaming a directory rewrites one row.
/// - Every mutation that must hold together (a batch of file commits, a rename, a delete and its
///   block de-references, a full block report) is one `write {}`: one SQLite transaction.
/// - Constraints live in the schema (`Schema.swift`, an append-only migrator of plain SQL).
/// - Replica rows are soft state: datanode block reports are the truth and reconcile them.
///
/// Errors that callers can act on are ``HFSError``s naming the path or block; an unexpected
/// SQLite failure surfaces as `.io` (or `.internal` for a violated constraint, i.e. a bug).
public final class MetadataStore: Sendable {
    private let writer: any DatabaseWriter

    /// Opens (or creates) the database at `path` in WAL mode with `synchronous=FULL`, so that an
    /// acknowledged commit survives power loss, and brings its schema up to date.
    public init(path: String) throws {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            var configuration = Configuration()
            configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
            let pool = try DatabasePool(path: path, configuration: configuration)
            try Schema.migrator.migrate(pool)
            writer = pool
        } catch {
            throw HFSError(.io, "cannot open metadata database \(path): \(Self.oneLine(error))")
        }
    }

    private init(writer: any DatabaseWriter) throws {
        try Schema.migrator.migrate(writer)
        self.writer = writer
    }

    /// A private in-memory database with the real schema, for tests.
    public static func inMemory() throws -> MetadataStore {
        try MetadataStore(writer: DatabaseQueue())
    }

    /// One block referenced by a subtree, as `fsck` judges it.
    public struct BlockHealthRow: Sendable, Equatable {
        public var block: Int64
        /// The highest replication among the files that use the block.
        public var replication: Int
        /// Ids of the datanodes that hold a good replica, sorted.
        public var replicaNodes: [String]
        /// Ids of the datanodes whose replica a reader found corrupt, sorted.
        public var corruptNodes: [String] = []
        /// Ids of the datanodes whose replica is shorter than the block's acknowledged length:
        /// it missed appends (a copy taken while a batch was landing, a file cut short on disk),
        /// so it is never read and is replaced like a corrupt one. Sorted.
        public var staleNodes: [String] = []

        public init(block: Int64, replication: Int, replicaNodes: [String], corruptNodes: [String] = [], staleNodes: [String] = []) {
            self.block = block; self.replication = replication; self.replicaNodes = replicaNodes; self.corruptNodes = corruptNodes
            self.staleNodes = staleNodes
        }
    }

    // MARK: database access

    /// Runs `updates` in one write transaction; rolled back if it throws.
    func write<T>(_ updates: (Database) throws -> T) throws -> T {
        try translatingErrors { try writer.write(updates) }
    }

    /// Runs `value` on a consistent snapshot of the database.
    func read<T>(_ value: (Database) throws -> T) throws -> T {
        try translatingErrors { try writer.read(value) }
    }

    private func translatingErrors<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as HFSError {
            throw error
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
            throw HFSError(.internal, "metadata constraint violated: \(Self.oneLine(error))")
        } catch {
            throw HFSError(.io, "metadata database: \(Self.oneLine(error))")
        }
    }

    private static func oneLine(_ error: any Error) -> String {
        String(describing: error).split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}

// MARK: errors naming a path

extension HFSError {
    static func noSuchPath(_ path: some CustomStringConvertible) -> HFSError {
        HFSError(.notFound, "no such file or directory: \(path)")
    }

    static func exists(_ path: some CustomStringConvertible) -> HFSError {
        HFSError(.alreadyExists, "file exists: \(path)")
    }

    static func isADirectory(_ path: some CustomStringConvertible) -> HFSError {
        HFSError(.isADirectory, "is a directory: \(path)")
    }

    static func notEmpty(_ path: some CustomStringConvertible) -> HFSError {
        HFSError(.notEmpty, "directory not empty: \(path) (use -r)")
    }

    /// `file` is a file where a directory is needed to resolve `requested`.
    static func notADirectory(_ file: String, resolving requested: some CustomStringConvertible) -> HFSError {
        let requested = requested.description
        let context = file == requested ? "" : " (in \(requested))"
        return HFSError(.notADirectory, "not a directory: \(file)\(context)")
    }
}
