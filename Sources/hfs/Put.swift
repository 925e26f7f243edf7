import ArgumentParser
import Foundation
import HFSClient
import HFSCore

struct Put: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy local files and directory trees into hfs.",
        discussion: """
        Like cp -r: when REMOTE is an existing directory each source keeps its own name inside it \
        (hfs put photos /data/ creates /data/photos/...); otherwise REMOTE is the new name. \
        '-' reads stdin. Files up to 4 MiB are packed many to a block; larger files get blocks of \
        their own and are streamed.
        """)

    @OptionGroup var client: ClientOptions
    @Flag(name: .shortAndLong, help: "Overwrite existing files.") var force = false
    @Option(name: .long, help: "Replicas per block (default: the cluster's replication).") var replication: Int?
    @Option(name: .long, help: "auto (default: JPEG/PNG/GIF/WebP as they are, lz4 where it saves ≥10%, lz4 over pixel deltas for PPM/PGM/BMP), none, lz4 or zlib.")
    var codec: String?
    @Argument(help: "LOCAL... REMOTE") var paths: [String] = []

    func validate() throws {
        guard paths.count >= 2 else { throw ValidationError("put needs at least one LOCAL source and a REMOTE destination") }
        try validateWriteOptions(codec: codec, replication: replication)
    }

    func run() async throws {
        let dst = try remotePath(paths.last!)
        let sources = Array(paths.dropLast())
        let options = PutOptions(overwrite: force, replication: replication, codec: codec.flatMap(CodecPolicy.init(rawValue:)))
        try await client.withClient { c in
            let dstStatus = try await c.statusIfExists(dst)
            let intoDir = dstStatus?.type == .directory
            if sources.count > 1 && !intoDir { throw HFSError(.notADirectory, "target '\(dst)' is not an existing directory") }
            var items: [PutItem] = []
            var dirs: [LocalTree.Directory] = []
            for src in sources {
                if src == "-" {
                    if intoDir { throw HFSError(.isADirectory, "'\(dst)' is a directory: give stdin a file name") }
                    items.append(PutItem(source: .stdin, remote: dst))
                    continue
                }
                let name = URL(fileURLWithPath: src).standardizedFileURL.lastPathComponent
                let target = intoDir ? try dst.appending(name) : dst
                try LocalTree.collect(src, into: target, files: &items, dirs: &dirs)
            }
            // Every directory the tree needs, checked before any byte is sent: a file in the
            // way fails the put here, not at a commit halfway through. Only the directories no
            // file will create (the commit of a file creates its parents) are made.
            for chunk in stride(from: 0, to: dirs.count, by: Limits.commitFilesMax) {
                let some = dirs[chunk..<min(chunk + Limits.commitFilesMax, dirs.count)]
                for (d, entry) in zip(some, try await c.lookup(some.map(\.path))) where entry != nil && entry?.type != .directory {
                    throw HFSError(.notADirectory, "'\(d.path)' exists and is not a directory")
                }
            }
            for d in dirs where d.create { try await c.mkdir(d.path, parents: true) }
            _ = try await c.put(items, options: options)
        }
    }
}

/// Walks local sources for put: every regular file (a symbolic link to one counts as that file),
/// each directory's entries in byte order, and every directory, marked `create` where no file
/// will create it (the commit of a file creates its missing parents): the top one and those
/// holding no file at any depth. Anything else (a socket, a FIFO, a link to a directory) is an
/// error naming it.
enum LocalTree {
    struct Directory {
        var path: HFSPath
        var create: Bool
    }

    static func collect(_ src: String, into target: HFSPath, files: inout [PutItem], dirs: inout [Directory]) throws {
        var st = stat()
        guard stat(src, &st) == 0 else {
            throw HFSError.notFound("cannot stat '\(src)': \(String(cString: strerror(errno)).lowercased())")
        }
        guard (st.st_mode & S_IFMT) == S_IFDIR else {
            guard (st.st_mode & S_IFMT) == S_IFREG else { throw HFSError.invalid("'\(src)' is not a regular file") }
            files.append(PutItem(source: .file(src), remote: target))
            return
        }
        dirs.append(Directory(path: target, create: true))
        var base = URL(fileURLWithPath: src).standardizedFileURL.path
        while base.count > 1 && base.hasSuffix("/") { base.removeLast() }
        _ = try walk(base, remote: target, files: &files, dirs: &dirs)
    }

    /// Appends what lies below `directory`; returns whether it holds a file at any depth.
    private static func walk(_ directory: String, remote: HFSPath, files: inout [PutItem], dirs: inout [Directory]) throws -> Bool {
        var holdsFile = false
        for entry in try entries(directory) {
            let (name, type) = (entry.name, entry.type)
            let path = (directory == "/" ? "" : directory) + "/" + name
            let child = try remote.appending(name)
            var isDirectory = type == DT_DIR
            if type != DT_DIR && type != DT_REG {
                // A link, something else, or a file system that leaves d_type unknown: look closer.
                var st = stat()
                guard lstat(path, &st) == 0 else { throw HFSError.notFound("cannot stat '\(path)': \(String(cString: strerror(errno)))") }
                var kind = st.st_mode & S_IFMT
                if kind == S_IFLNK {
                    guard stat(path, &st) == 0 else {
                        throw HFSError.notFound("'\(path)' is a symbolic link to nothing: \(String(cString: strerror(errno)))")
                    }
                    kind = st.st_mode & S_IFMT
                    if kind == S_IFDIR { throw HFSError.invalid("'\(path)' is a symbolic link to a directory (not followed)") }
                }
                guard kind == S_IFREG || kind == S_IFDIR else { throw HFSError.invalid("'\(path)' is not a regular file or directory") }
                isDirectory = kind == S_IFDIR
            }
            if isDirectory {
                let at = dirs.count
                dirs.append(Directory(path: child, create: true))
                if try walk(path, remote: child, files: &files, dirs: &dirs) {
                    dirs[at].create = false
                    holdsFile = true
                }
            } else {
                files.append(PutItem(source: .file(path), remote: child))
                holdsFile = true
            }
        }
        return holdsFile
    }

    /// The entries of `directory` (without . and ..) with their d_type, sorted by name bytes.
    private static func entries(_ directory: String) throws -> [Posix.DirectoryEntry] {
        do {
            return try Posix.listDirectory(directory)
        } catch .cannotOpen(let err) {
            throw HFSError(.io, "cannot read directory '\(directory)': \(String(cString: strerror(err)))")
        } catch .nameNotUTF8(let shown) {
            throw HFSError.invalid("'\(directory)' holds a file name that is not UTF-8 (\(shown))")
        }
    }
}
