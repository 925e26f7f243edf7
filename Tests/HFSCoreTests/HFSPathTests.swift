import HFSCore
import Testing

@Suite struct HFSPathTests {
    @Test func normalizesRepeatedAndTrailingSlashes() throws {
        #expect(try HFSPath("//a///b/").description == "/a/b")
        #expect(try HFSPath("/").isRoot)
        #expect(try HFSPath("///").isRoot)
        #expect(try HFSPath("/a/b/c").components == ["a", "b", "c"])
    }

    @Test(arguments: ["rel/path", "", "a", "./a"])
    func rejectsRelative(_ raw: String) {
        #expect(throws: HFSError.self) { try HFSPath(raw) }
    }

    @Test(arguments: ["/a/../b", "/a/./b", "/..", "/.", "/a/b/..", "/a\u{0}b", "/a\u{1}b", "/a\nb", "/x\u{7F}"])
    func rejectsDotComponentsAndControlCharacters(_ raw: String) throws {
        let error = #expect(throws: HFSError.self) { try HFSPath(raw) }
        #expect(error?.code == .invalidArgument)
        // Messages stay one printable line.
        #expect(error?.message.contains("\n") == false)
        #expect(error?.message.unicodeScalars.contains { $0.value < 0x20 } == false)
    }

    @Test func limitsComponentAndPathLength() throws {
        let ok = String(repeating: "x", count: Limits.pathComponentBytesMax)
        #expect(try HFSPath("/" + ok).name == ok)
        #expect(throws: HFSError.self) { try HFSPath("/" + ok + "x") }
        let long = String(repeating: "/abcdefgh", count: Limits.pathBytesMax / 9 + 1)
        #expect(throws: HFSError.self) { try HFSPath(long) }
        // Multi-byte characters count in bytes.
        #expect(throws: HFSError.self) { try HFSPath("/" + String(repeating: "é", count: 128)) }
    }

    @Test func unicodeNamesAreFine() throws {
        #expect(try HFSPath("/données/été/猫.jpg").components == ["données", "été", "猫.jpg"])
    }

    @Test func parentNameAppendingAndWithin() throws {
        let p = try HFSPath("/a/b/c.jpg")
        #expect(p.name == "c.jpg")
        #expect(p.parent?.description == "/a/b")
        #expect(HFSPath.root.parent == nil)
        #expect(try HFSPath("/a").appending(relative: "x/y/z.png").description == "/a/x/y/z.png")
        #expect(throws: HFSError.self) { try HFSPath("/a").appending("..") }
        #expect(throws: HFSError.self) { try HFSPath("/a").appending(relative: "x/../y") }
        #expect(p.isWithin(try HFSPath("/a")))
        #expect(!(try HFSPath("/ab")).isWithin(try HFSPath("/a")))
        #expect(p.isWithin(.root))
    }

    @Test func codableValidates() throws {
        let data = Data(#"["/a/../b"]"#.utf8)
        #expect(throws: (any Error).self) { try JSONDecoder().decode([HFSPath].self, from: data) }
        let good = try JSONDecoder().decode([HFSPath].self, from: Data(#"["/a//b"]"#.utf8))
        #expect(good.first?.description == "/a/b")
    }
}

import Foundation
