import Foundation
import HFSCore

/// Streams the regular files of a local tree, depth first, each directory's entries sorted by
/// their UTF-8 bytes (so the order is the same on every run and machine). Memory is bounded by
/// the directory depth times the entries of one directory, not by the tree size.
///
/// Symbolic links: a link to a regular file inside the tree is yielded (at the link's path); links
/// to directories are not followed (no cycles, no escaping the tree); links leading outside the
/// tree, dangling links, sockets, FIFOs and devices are recorded in ``skipped`` with a reason.
/// Files not matching the ``GlobFilter`` are passed over silently. Hidden files are included.
public final class DirectoryWalker {
    public struct File: Sendable, Equatable {
        public var absolutePath: String
        /// Path relative to the root, `/`-separated.
        public var relativePath: String
        public var size: Int64
    }

    /// The root as an absolute path without trailing slash.
    public let root: String
    public let filter: GlobFilter?
    /// Entries not yielded, with why (`link to outside the tree`); never silently dropped.
    public private(set) var skipped: [(relativePath: String, reason: String)] = []

    private let realRoot: String
    /// Directories being listed: their relative path and the names still to visit (reversed).
    private var stack: [(relative: String, names: [String])] = []

    public init(root: String, filter: GlobFilter? = nil) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw IngestError(.io, "'\(printable(root))' is not a directory")
        }
        var absolute = root.hasPrefix("/") ? root : FileManager.default.currentDirectoryPath + "/" + root
        while absolute.count > 1 && absolute.hasSuffix("/") { absolute.removeLast() }
        self.root = absolute
        self.filter = filter
        self.realRoot = Self.realPath(absolute) ?? absolute
        stack = [("", try Self.sortedNames(absolute))]
    }

    /// The next regular file, or nil when the walk is done.
    public func next() throws -> File? {
        while var top = stack.last {
            guard let name = top.names.popLast() else {
                stack.removeLast()
                continue
            }
            stack[stack.count - 1] = top
            let relative = top.relative.isEmpty ? name : top.relative + "/" + name
            let absolute = (root == "/" ? "" : root) + "/" + relative
            var st = stat()
            guard lstat(absolute, &st) == 0 else {
                skipped.append((relative, "cannot stat: \(String(cString: strerror(errno)))"))
                continue
            }
            switch st.st_mode & S_IFMT {
            case S_IFDIR:
                do { stack.append((relative, try Self.sortedNames(absolute))) } catch let e as IngestError {
                    skipped.append((relative, e.message))
                }
            case S_IFREG:
                if filter?.matches(relativePath: relative) ?? true {
                    return File(absolutePath: absolute, relativePath: relative, size: Int64(st.st_size))
                }
            case S_IFLNK:
                if let file = followLink(absolute: absolute, relative: relative) { return file }
            default:
                skipped.append((relative, "not a regular file"))
            }
        }
        return nil
    }

    /// A link to a regular file inside the tree, or nil (recorded in `skipped`).
    private func followLink(absolute: String, relative: String) -> File? {
        guard let target = Self.realPath(absolute) else {
            skipped.append((relative, "dangling symbolic link"))
            return nil
        }
        guard target.hasPrefix(realRoot == "/" ? "/" : realRoot + "/") else {
            skipped.append((relative, "symbolic link to outside the tree"))
            return nil
        }
        var st = stat()
        guard stat(target, &st) == 0, st.st_mode & S_IFMT == S_IFREG else {
            skipped.append((relative, "symbolic link to a directory or special file (not followed)"))
            return nil
        }
        guard filter?.matches(relativePath: relative) ?? true else { return nil }
        return File(absolutePath: absolute, relativePath: relative, size: Int64(st.st_size))
    }

    /// The names in `directory`, in reverse byte order (so `popLast` visits them in order).
    static func sortedNames(_ directory: String) throws -> [String] {
        do {
            return try Posix.listDirectory(directory).reversed().map(\.name)
        } catch .cannotOpen(let err) {
            throw IngestError(.io, "cannot list '\(printable(directory))': \(String(cString: strerror(err)))")
        } catch .nameNotUTF8(let shown) {
            throw IngestError(.io, "'\(printable(directory))' holds a file name that is not UTF-8 (\(shown))")
        }
    }

    static func realPath(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }
}
