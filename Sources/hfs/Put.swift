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
            var dirs: [HFSPath] = []
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
            for d in dirs { try await c.mkdir(d, parents: true) }
            _ = try await c.put(items, options: options)
        }
    }
}

/// Walks local sources for put.
enum LocalTree {
    static func collect(_ src: String, into target: HFSPath, files: inout [PutItem], dirs: inout [HFSPath]) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: src, isDirectory: &isDir) else {
            throw HFSError.notFound("cannot stat '\(src)': no such file or directory")
        }
        guard isDir.boolValue else {
            try checkRegular(src)
            files.append(PutItem(source: .file(src), remote: target))
            return
        }
        dirs.append(target)
        let base = URL(fileURLWithPath: src).standardizedFileURL
        guard let walker = FileManager.default.enumerator(at: base, includingPropertiesForKeys: [.isDirectoryKey, .isRegularFileKey],
                                                           options: []) else {
            throw HFSError(.io, "cannot read directory '\(src)'")
        }
        var found: [(String, Bool)] = []
        for case let url as URL in walker {
            let values = try url.resourceValues(forKeys: [.isDirectoryKey, .isRegularFileKey])
            let rel = String(url.standardizedFileURL.path.dropFirst(base.path.count + 1))
            if values.isDirectory == true {
                found.append((rel, true))
            } else if values.isRegularFile == true {
                found.append((rel, false))
            } else {
                throw HFSError.invalid("'\(url.path)' is not a regular file or directory")
            }
        }
        found.sort { $0.0 < $1.0 }
        for (rel, isDir) in found {
            let remote = try target.appending(relative: rel)
            if isDir { dirs.append(remote) } else { files.append(PutItem(source: .file(base.path + "/" + rel), remote: remote)) }
        }
    }

    static func checkRegular(_ path: String) throws {
        var st = stat()
        guard stat(path, &st) == 0 else { throw HFSError.notFound("cannot stat '\(path)': \(String(cString: strerror(errno)))") }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw HFSError.invalid("'\(path)' is not a regular file") }
    }
}
