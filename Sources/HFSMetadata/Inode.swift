import GRDB
import HFSCore

/// One row of `inode`: a file or a directory, named by `(parent, name)`.
struct Inode: Equatable {
    static let rootID: Int64 = 1
    static let directoryMode = 0o755
    static let fileMode = 0o644
    static let defaultGroup = "supergroup"

    var id: Int64
    var parent: Int64
    var name: String
    var kind: FileKind
    var size: Int64
    var storedSize: Int64
    var replication: Int
    var codec: String?
    var mtime: Double
    var owner: String
    var groupName: String
    var mode: Int

    /// The wire status of this inode, which lives at `path`.
    func status(path: String) -> FileStatus {
        let isFile = kind == .file
        return FileStatus(path: path, type: kind, size: isFile ? size : 0, storedSize: isFile ? storedSize : 0,
                          replication: isFile ? replication : 0, mtime: mtime, owner: owner, group: groupName,
                          mode: mode, codec: isFile ? codec : nil)
    }

    /// `name` inside the directory at `directory` ("/" + name for the root).
    static func path(in directory: String, name: String) -> String {
        directory == "/" ? "/" + name : directory + "/" + name
    }
}

extension Inode: FetchableRecord {
    enum Columns {
        static let id = Column("id")
        static let parent = Column("parent")
        static let name = Column("name")
        static let kind = Column("kind")
        static let size = Column("size")
        static let storedSize = Column("storedSize")
        static let replication = Column("replication")
        static let codec = Column("codec")
        static let mtime = Column("mtime")
        static let owner = Column("owner")
        static let groupName = Column("groupName")
        static let mode = Column("mode")
    }

    init(row: Row) throws {
        let kindName: String = row[Columns.kind]
        guard let kind = FileKind(rawValue: kindName) else {
            throw HFSError(.internal, "inode \(row[Columns.id] as Int64) has unknown kind '\(kindName)'")
        }
        self.init(id: row[Columns.id], parent: row[Columns.parent], name: row[Columns.name], kind: kind,
                  size: row[Columns.size], storedSize: row[Columns.storedSize], replication: row[Columns.replication],
                  codec: row[Columns.codec], mtime: row[Columns.mtime], owner: row[Columns.owner],
                  groupName: row[Columns.groupName], mode: row[Columns.mode])
    }
}
