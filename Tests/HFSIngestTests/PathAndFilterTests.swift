import Foundation
import Testing
import HFSIngest
import HFSTestSupport

@Suite struct GlobFilterTests {
    @Test func namesPathsAndCase() throws {
        let f = try GlobFilter("*.jpg, *.png")
        #expect(f.matches(relativePath: "a/b/c.jpg"))
        #expect(f.matches(relativePath: "n01/ILSVRC.JPEG") == false)
        #expect(f.matches(relativePath: "x.JPG"))
        #expect(f.matches(relativePath: "a/b.png"))
        #expect(!f.matches(relativePath: "a/b.txt"))
        #expect(!f.matches(relativePath: "jpg"))
        let p = try GlobFilter("train/*/*.jp*g")
        #expect(p.matches(relativePath: "train/cat/1.jpeg"))
        #expect(p.matches(relativePath: "train/cat/1.JPEG"))
        #expect(!p.matches(relativePath: "train/cat/sub/1.jpg"))     // * stops at /
        #expect(!p.matches(relativePath: "val/cat/1.jpg"))
        let c = try GlobFilter(globs: ["img_[0-4]?.[!t]*", "\\*star"])
        #expect(c.matches(relativePath: "img_3x.png"))
        #expect(!c.matches(relativePath: "img_5x.png"))
        #expect(!c.matches(relativePath: "img_3x.txt"))
        #expect(c.matches(relativePath: "d/*star"))
        #expect(!c.matches(relativePath: "d/xstar"))
        #expect(try GlobFilter(globs: []).matches(relativePath: "anything"))
        #expect(try GlobFilter("*").matches(relativePath: "a/b/c"))
        #expect(throws: IngestError.self) { try GlobFilter("*.jpg,,*.png") }
        #expect(throws: IngestError.self) { try GlobFilter("[abc") }
    }
}

@Suite struct DestinationMappingTests {
    @Test func validAndInvalid() throws {
        #expect(try DestinationMapping.relativeDestination("./a//b/c.jpg/", source: "s") == "a/b/c.jpg")
        #expect(try DestinationMapping.destination("/ds", "cls/x.jpg", source: "s") == "/ds/cls/x.jpg")
        #expect(try DestinationMapping.destination("/ds/", "données/日本.jpg", source: "s") == "/ds/données/日本.jpg")
        func message(_ p: String) -> String? {
            do { _ = try DestinationMapping.relativeDestination(p, source: "shard.tar"); return nil } catch let e as IngestError { return e.message } catch { return nil }
        }
        #expect(message("a/../b") == "'a/../b' in shard.tar: has a '..' component")
        #expect(message("a/./b") == "'a/./b' in shard.tar: has a '.' component")
        #expect(message("") == "'' in shard.tar: is empty")
        #expect(message("./") == "'./' in shard.tar: is empty")
        #expect(message("a\u{0}b") == "'a\\u{0}b' in shard.tar: has a control character")
        #expect(message(String(repeating: "x", count: 256))?.contains("longer than 255 bytes") == true)
    }
}

@Suite struct PathListTests {
    @Test func urlsAndLocalPaths() throws {
        let text = """
        # comment
        https://Example.com:8443/imgs/cat%201.jpg?size=big#frag

        http://127.0.0.1:9999/a/b.png
          relative/c.jpg  
        /abs/d.jpg
        file:///abs/e.jpg
        """
        let items = try PathList.parse(text, name: "list.txt", baseDirectory: "/lists")
        #expect(items.map(\.relativePath) == ["example.com/imgs/cat 1.jpg", "127.0.0.1/a/b.png", "relative/c.jpg", "abs/d.jpg", "abs/e.jpg"])
        #expect(items.map(\.line) == [2, 4, 5, 6, 7])
        #expect(items[0].location == .url("https://Example.com:8443/imgs/cat%201.jpg?size=big#frag"))
        #expect(items[2].location == .local(path: "/lists/relative/c.jpg"))
        #expect(items[3].location == .local(path: "/abs/d.jpg"))
        #expect(items[4].location == .local(path: "/abs/e.jpg"))
    }

    @Test func errorsNameTheLine() {
        func message(_ text: String) -> String? {
            do { _ = try PathList.parse(text, name: "l.txt", baseDirectory: "."); return nil } catch let e as IngestError { return e.message } catch { return nil }
        }
        #expect(message("http://h/a.jpg\nhttp://h:81/a.jpg?x") == "l.txt line 2: destination 'h/a.jpg' is also the destination of line 1")
        #expect(message("https://h/dir/") == "l.txt line 1: URL 'https://h/dir/' has no file name")
        #expect(message("https://h") == "l.txt line 1: URL 'https://h' has no file name")
        #expect(message("ftp://h/a.jpg") == "l.txt line 1: unsupported scheme 'ftp' (http, https, file or a local path)")
        #expect(message("\n../up.jpg") == "l.txt line 2: '../up.jpg' in path list: has a '..' component")
        #expect(message("http://h/a/%2E%2E/b.jpg")?.contains("has a '..' component") == true)
    }

    @Test func readsAFileRelativeToItsFolder() throws {
        try withTemporaryDirectory { dir in
            let list = dir.appendingPathComponent("urls.txt")
            try Data("x/y.jpg\n".utf8).write(to: list)
            let items = try PathList.read(contentsOfFile: list.path)
            #expect(items == [PathListItem(location: .local(path: dir.appendingPathComponent("x/y.jpg").path), relativePath: "x/y.jpg", line: 1)])
        }
    }
}

@Suite struct DirectoryWalkerTests {
    @Test func sortedStreamingWalkWithFilterAndLinks() throws {
        try withTemporaryDirectory { dir in
            let fm = FileManager.default
            let root = dir.appendingPathComponent("photos")
            for p in ["b/2.jpg", "b/1.JPG", "a/z.png", "a/y.txt", "a/sub/x.jpg", "top.jpg", "B/upper.jpg", ".hidden/h.jpg"] {
                let url = root.appendingPathComponent(p)
                try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(p.utf8).write(to: url)
            }
            try Data("outside".utf8).write(to: dir.appendingPathComponent("outside.jpg"))
            try fm.createSymbolicLink(atPath: root.appendingPathComponent("in-link.jpg").path, withDestinationPath: "a/sub/x.jpg")
            try fm.createSymbolicLink(atPath: root.appendingPathComponent("out-link.jpg").path, withDestinationPath: "../outside.jpg")
            try fm.createSymbolicLink(atPath: root.appendingPathComponent("dir-link").path, withDestinationPath: "a")
            try fm.createSymbolicLink(atPath: root.appendingPathComponent("dangling.jpg").path, withDestinationPath: "nowhere.jpg")

            let walker = try DirectoryWalker(root: root.path, filter: try GlobFilter("*.jpg,*.png"))
            var seen: [String] = []
            while let f = try walker.next() {
                seen.append(f.relativePath)
                #expect(f.absolutePath == root.path + "/" + f.relativePath)
            }
            #expect(seen == [".hidden/h.jpg", "B/upper.jpg", "a/sub/x.jpg", "a/z.png", "b/1.JPG", "b/2.jpg", "in-link.jpg", "top.jpg"])
            let skipped = Dictionary(uniqueKeysWithValues: walker.skipped.map { ($0.relativePath, $0.reason) })
            #expect(skipped["out-link.jpg"] == "symbolic link to outside the tree")
            #expect(skipped["dangling.jpg"] == "dangling symbolic link")
            #expect(skipped["dir-link"] == "symbolic link to a directory or special file (not followed)")

            let all = try DirectoryWalker(root: root.path + "//")
            #expect(all.root == root.path)
            var count = 0
            while try all.next() != nil { count += 1 }
            #expect(count == 9)   // + a/y.txt
            #expect(throws: IngestError.self) { try DirectoryWalker(root: root.appendingPathComponent("top.jpg").path) }
        }
    }
}
