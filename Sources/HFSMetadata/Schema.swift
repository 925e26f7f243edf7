import GRDB

/// The database schema, as an append-only list of migrations in plain SQL.
///
/// Never edit a migration that has shipped: add a new one. Migrations name no app types, so the
/// code can change without rewriting history.
enum Schema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: v1)
        }
        migrator.registerMigration("v2-images") { db in
            try db.execute(sql: v2Images)
        }
        migrator.registerMigration("v3-block-ids") { db in
            try db.execute(sql: v3BlockIDs)
        }
        return migrator
    }

    /// Namespace, extents, blocks, replicas and datanodes. The root directory is inode 1 with
    /// parent 0 and an empty name.
    private static let v1 = """
        CREATE TABLE inode (
            id INTEGER PRIMARY KEY,
            parent INTEGER NOT NULL,
            name TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('file', 'directory')),
            size INTEGER NOT NULL DEFAULT 0,
            storedSize INTEGER NOT NULL DEFAULT 0,
            replication INTEGER NOT NULL DEFAULT 0,
            codec TEXT,
            mtime REAL NOT NULL,
            owner TEXT NOT NULL,
            groupName TEXT NOT NULL,
            mode INTEGER NOT NULL,
            UNIQUE (parent, name)
        );
        INSERT INTO inode (id, parent, name, kind, mtime, owner, groupName, mode)
        VALUES (1, 0, '', 'directory', (julianday('now') - 2440587.5) * 86400.0, 'root', 'supergroup', 493);

        CREATE TABLE block (
            id INTEGER PRIMARY KEY,
            generation INTEGER NOT NULL,
            kind TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('open', 'sealed', 'deleted')),
            length INTEGER NOT NULL DEFAULT 0,
            replication INTEGER NOT NULL,
            createdAt REAL NOT NULL
        );

        CREATE TABLE extent (
            file INTEGER NOT NULL REFERENCES inode(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            block INTEGER NOT NULL REFERENCES block(id),
            offset INTEGER NOT NULL,
            storedLength INTEGER NOT NULL,
            logicalLength INTEGER NOT NULL,
            PRIMARY KEY (file, seq)
        );
        CREATE INDEX extent_block ON extent(block);

        CREATE TABLE replica (
            block INTEGER NOT NULL,
            datanode TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'finalized',
            length INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (block, datanode)
        );
        CREATE INDEX replica_datanode ON replica(datanode);

        CREATE TABLE datanode (
            id TEXT PRIMARY KEY,
            address TEXT NOT NULL,
            rack TEXT NOT NULL,
            capacityBytes INTEGER NOT NULL DEFAULT 0,
            usedBytes INTEGER NOT NULL DEFAULT 0,
            adminState TEXT NOT NULL DEFAULT 'normal'
        );
        """

    /// Block ids never come back: `block.id` alone (an INTEGER PRIMARY KEY without AUTOINCREMENT)
    /// would hand out again the id of the highest block once its row is forgotten, and a stale
    /// `blk_<id>` file of the old block on some datanode would then pass for a replica of the new
    /// one. The last id handed out is kept here and only grows.
    private static let v3BlockIDs = """
        CREATE TABLE sequence (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
        INSERT INTO sequence (name, value) VALUES ('block', (SELECT COALESCE(MAX(id), 0) FROM block));
        """

    /// Image attributes recorded by ingest (one row per ingested file, gone with the file) and the
    /// directories ingest wrote into (datasets, followed through renames by inode id).
    private static let v2Images = """
        CREATE TABLE image (
            file INTEGER PRIMARY KEY REFERENCES inode(id) ON DELETE CASCADE,
            format TEXT,
            width INTEGER,
            height INTEGER,
            channels INTEGER,
            label TEXT,
            sha256 TEXT NOT NULL,
            invalid TEXT
        );
        CREATE INDEX image_sha256 ON image(sha256);

        CREATE TABLE dataset (
            dir INTEGER PRIMARY KEY REFERENCES inode(id) ON DELETE CASCADE,
            createdAt REAL NOT NULL
        );
        """
}
