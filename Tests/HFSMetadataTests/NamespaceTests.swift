import HFSCore
import Testing
@testable import HFSMetadata

@Suite struct NamespaceTests {
    let store: MetadataStore

    init() throws { store = try MetadataStore.inMemory() }

    @Test func rootExistsAfterMigration() throws {
        let root = try store.status(.root)
        #expect(root.path == "/")
        #expect(root.type == .directory)
        #expect(root.owner == "root" && root.group == "supergroup" && root.mode == 0o755)
        #expect(try store.list(.root, recursive: true, limit: 10).entries.isEmpty)
    }

    @Test func statusOfMissingPathNamesIt() throws {
        expectError(.notFound, containing: "no such file or directory: /nope/x") { _ = try store.status(path("/nope/x")) }
    }

    @Test func mkdirWithoutParents() throws {
        try store.mkdir(path("/a"), parents: false, owner: "alice", now: 5)
        let a = try store.status(path("/a"))
        #expect(a.type == .directory && a.owner == "alice" && a.mode == 0o755 && a.mtime == 5)
        #expect(a.size == 0 && a.replication == 0 && a.codec == nil)
        expectError(.alreadyExists, containing: "file exists: /a") {
            try store.mkdir(path("/a"), parents: false, owner: "alice", now: 6)
        }
        expectError(.notFound, containing: "/x") { try store.mkdir(path("/x/y"), parents: false, owner: "alice", now: 6) }
        #expect(try !store.exists("/x"))
        expectError(.alreadyExists) { try store.mkdir(.root, parents: false, owner: "alice", now: 6) }
    }

    @Test func mkdirWithParents() throws {
        try store.mkdir(path("/x/y/z"), parents: true, owner: "bob", now: 7)
        #expect(try store.listedPaths("/", recursive: true) == ["/x", "/x/y", "/x/y/z"])
        #expect(try store.status(path("/x/y")).owner == "bob")
        try store.mkdir(path("/x/y"), parents: true, owner: "carol", now: 8)   // exists: fine, unchanged
        #expect(try store.status(path("/x/y")).owner == "bob")
        try store.mkdir(.root, parents: true, owner: "carol", now: 8)
    }

    @Test func mkdirThroughAFileIsNotADirectory() throws {
        let block = try store.createBlock(kind: .packed, replication: 2, now: 1).id
        try store.commit([newFile("/d/f", extents: [Extent(block: block, offset: 0, storedLength: 10, logicalLength: 10)])],
                         acks: [], overwrite: false, owner: "u")
        expectError(.notADirectory, containing: "not a directory: /d/f") {
            try store.mkdir(path("/d/f/g"), parents: true, owner: "u", now: 1)
        }
        expectError(.notADirectory, containing: "/d/f") { try store.mkdir(path("/d/f"), parents: true, owner: "u", now: 1) }
        expectError(.notADirectory, containing: "/d/f") { try store.mkdir(path("/d/f/g"), parents: false, owner: "u", now: 1) }
        expectError(.notADirectory, containing: "/d/f") { _ = try store.status(path("/d/f/g/h")) }
        #expect(try store.listedPaths("/d") == ["/d/f"])
    }

    @Test func listFlatRecursiveAndFile() throws {
        for dir in ["/t/b/y", "/t/a", "/t/c", "/t/b/x"] {
            try store.mkdir(path(dir), parents: true, owner: "u", now: 1)
        }
        let block = try store.createBlock(kind: .packed, replication: 2, now: 1).id
        let extent = Extent(block: block, offset: 0, storedLength: 7, logicalLength: 9)
        try store.commit([newFile("/t/b/file", size: 9, extents: [extent])], acks: [], overwrite: false, owner: "u")

        #expect(try store.listedPaths("/t") == ["/t/a", "/t/b", "/t/c"])
        #expect(try store.listedPaths("/t", recursive: true)
                == ["/t/a", "/t/b", "/t/b/file", "/t/b/x", "/t/b/y", "/t/c"])
        let file = try store.list(path("/t/b/file"), recursive: false, limit: 10)
        #expect(file.entries.count == 1 && !file.truncated)
        #expect(file.entries.first?.path == "/t/b/file")
        #expect(file.entries.first?.size == 9 && file.entries.first?.storedSize == 7)
        #expect(file.entries.first?.type == .file && file.entries.first?.mode == 0o644)
        expectError(.notFound) { _ = try store.list(path("/t/none"), recursive: false, limit: 10) }
    }

    @Test func listStopsAtLimit() throws {
        for dir in ["/l/a/1", "/l/a/2", "/l/b"] {
            try store.mkdir(path(dir), parents: true, owner: "u", now: 1)
        }
        let three = try store.list(path("/l"), recursive: true, limit: 3)
        #expect(three.entries.map(\.path) == ["/l/a", "/l/a/1", "/l/a/2"])
        #expect(three.truncated)
        let all = try store.list(path("/l"), recursive: true, limit: 4)
        #expect(all.entries.count == 4 && !all.truncated)
        let flat = try store.list(path("/l"), recursive: false, limit: 1)
        #expect(flat.entries.map(\.path) == ["/l/a"] && flat.truncated)
    }

    @Test func renameDirectoryWithChildren() throws {
        try store.mkdir(path("/src/sub/deep"), parents: true, owner: "u", now: 1)
        let block = try store.createBlock(kind: .packed, replication: 2, now: 1).id
        try store.commit([newFile("/src/sub/f", extents: [Extent(block: block, offset: 0, storedLength: 5, logicalLength: 5)])],
                         acks: [], overwrite: false, owner: "u")
        try store.rename(path("/src"), path("/dst"))
        #expect(try !store.exists("/src"))
        #expect(try store.status(path("/dst/sub/deep")).type == .directory)
        #expect(try store.locations(path("/dst/sub/f")).extents.first?.extent.block == block)
        #expect(try store.listedPaths("/dst", recursive: true) == ["/dst/sub", "/dst/sub/deep", "/dst/sub/f"])
    }

    @Test func renameIntoExistingDirectoryKeepsName() throws {
        try store.mkdir(path("/a/x"), parents: true, owner: "u", now: 1)
        try store.mkdir(path("/b"), parents: true, owner: "u", now: 1)
        try store.rename(path("/a/x"), path("/b"))
        #expect(try store.listedPaths("/b") == ["/b/x"])
        #expect(try store.listedPaths("/a").isEmpty)
        try store.mkdir(path("/a/x"), parents: true, owner: "u", now: 1)
        expectError(.alreadyExists, containing: "/b/x") { try store.rename(path("/a/x"), path("/b")) }
    }

    @Test func renameErrors() throws {
        try store.mkdir(path("/a/b/c"), parents: true, owner: "u", now: 1)
        expectError(.invalidArgument, containing: "into itself") { try store.rename(path("/a"), path("/a/b/c")) }
        expectError(.invalidArgument, containing: "into itself") { try store.rename(path("/a"), path("/a/b/new")) }
        expectError(.invalidArgument) { try store.rename(path("/a"), path("/a")) }
        expectError(.notFound, containing: "/missing") { try store.rename(path("/missing"), path("/z")) }
        expectError(.notFound, containing: "/no") { try store.rename(path("/a"), path("/no/where")) }
        expectError(.invalidArgument) { try store.rename(.root, path("/z")) }
        let block = try store.createBlock(kind: .packed, replication: 1, now: 1).id
        let extent = Extent(block: block, offset: 0, storedLength: 1, logicalLength: 1)
        try store.commit([newFile("/f1", extents: [extent]), newFile("/f2", extents: [extent])],
                         acks: [], overwrite: false, owner: "u")
        expectError(.alreadyExists, containing: "file exists: /f2") { try store.rename(path("/f1"), path("/f2")) }
        #expect(try store.listedPaths("/a", recursive: true) == ["/a/b", "/a/b/c"])
        try store.rename(path("/f1"), path("/a/b/renamed"))
        #expect(try store.status(path("/a/b/renamed")).type == .file)
        #expect(try !store.exists("/f1"))
    }

    @Test func deleteRecursiveReturnsOnlyUnsharedDedicatedBlocks() throws {
        let big1 = try store.createBlock(kind: .dedicated, replication: 2, now: 1).id
        let big2 = try store.createBlock(kind: .dedicated, replication: 2, now: 1).id
        let shared = try store.createBlock(kind: .dedicated, replication: 2, now: 1).id
        let packed = try store.createBlock(kind: .packed, replication: 2, now: 1).id
        func e(_ block: Int64) -> Extent { Extent(block: block, offset: 0, storedLength: 10, logicalLength: 10) }
        try store.commit([
            newFile("/del/big", extents: [e(big1), e(big2)]),
            newFile("/del/sub/small", extents: [e(packed)]),
            newFile("/del/sub/half", extents: [e(shared)]),
            newFile("/keep/other-half", extents: [e(shared)]),
        ], acks: [BlockAck(block: big1, length: 10, nodes: ["dn1"])], overwrite: false, owner: "u")

        expectError(.notEmpty, containing: "directory not empty: /del (use -r)") {
            _ = try store.delete(path("/del"), recursive: false)
        }
        let freed = try store.delete(path("/del"), recursive: true)
        #expect(freed.sorted() == [big1, big2].sorted())
        #expect(try !store.exists("/del"))
        #expect(try !store.exists("/del/sub/small"))
        #expect(try store.deletedBlocks(on: "dn1") == [big1])
        #expect(try store.locations(path("/keep/other-half")).extents.map(\.extent.block) == [shared])
        #expect(try store.du(.root).files == 1)
        #expect(try store.delete(path("/keep/other-half"), recursive: false) == [shared])
    }

    @Test func deleteEdgeCases() throws {
        expectError(.invalidArgument) { _ = try store.delete(.root, recursive: true) }
        expectError(.notFound, containing: "/ghost") { _ = try store.delete(path("/ghost"), recursive: true) }
        try store.mkdir(path("/empty"), parents: false, owner: "u", now: 1)
        #expect(try store.delete(path("/empty"), recursive: false).isEmpty)
        #expect(try !store.exists("/empty"))
    }
}
