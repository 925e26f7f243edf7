import Foundation
@testable import HFSServer
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

/// The outbound handler that sends `FileBody` responses' ranges with sendfile, on an embedded
/// channel: what it passes on to the HTTP/1 encoder.
@Suite struct FileBodyHandlerTests {
    func head(length: Int, fileBody: String? = nil) -> HTTPResponseHead {
        var head = HTTPResponseHead(version: .http1_1, status: .ok)
        head.headers.add(name: "content-length", value: "\(length)")
        if let fileBody { head.headers.add(name: FileBody.headerName, value: fileBody) }
        return head
    }

    func outbound(_ channel: EmbeddedChannel) throws -> [HTTPServerResponsePart] {
        var parts: [HTTPServerResponsePart] = []
        while let p = try channel.readOutbound(as: HTTPServerResponsePart.self) { parts.append(p) }
        return parts
    }

    @Test func otherResponsesPassAsTheyAre() throws {
        let channel = EmbeddedChannel(handler: FileBodyHandler())
        let body = HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(string: "abc")))
        try channel.writeOutbound(HTTPServerResponsePart.head(head(length: 3)))
        try channel.writeOutbound(body)
        try channel.writeOutbound(HTTPServerResponsePart.end(nil))
        #expect(try outbound(channel) == [.head(head(length: 3)), body, .end(nil)])
        #expect(try channel.finish().isClean)
    }

    @Test func theFileRangeFollowsTheHeadAndItsHeaderIsRemoved() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hfs-filebody-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("blk 1")  // a space in the path, too
        try Data(repeating: 7, count: 10_000).write(to: file)

        let channel = EmbeddedChannel(handler: FileBodyHandler())
        for (offset, count) in [(100, 500), (0, 10_000), (9_999, 1)] {
            try channel.writeOutbound(HTTPServerResponsePart.head(head(length: count, fileBody: "\(offset) \(count) \(file.path)")))
            try channel.writeOutbound(HTTPServerResponsePart.end(nil))
            let parts = try outbound(channel)
            try #require(parts.count == 3, "\(parts)")
            #expect(parts[0] == .head(head(length: count)), "the private header went out: \(parts[0])")
            guard case .body(.fileRegion(let region)) = parts[1] else {
                Issue.record("no file region after the head: \(parts[1])")
                continue
            }
            #expect(region.readerIndex == offset && region.endIndex == offset + count)
            #expect(!region.fileHandle.isOpen, "the file stays open after its range was written")
            #expect(parts[2] == .end(nil))
        }
        // An empty range: the head and the end, no body.
        try channel.writeOutbound(HTTPServerResponsePart.head(head(length: 0, fileBody: "5 0 \(file.path)")))
        try channel.writeOutbound(HTTPServerResponsePart.end(nil))
        #expect(try outbound(channel) == [.head(head(length: 0)), .end(nil)])
        #expect(try channel.finish().isClean)
    }

    /// A file that is gone, or shorter than the range (sendfile past its end would write nothing,
    /// and NIO would retry forever): no head goes out and the connection is closed.
    @Test(arguments: ["missing", "short"])
    func aRangeThatCannotBeSentClosesTheConnection(_ kind: String) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hfs-filebody-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("blk_1")
        if kind == "short" { try Data(repeating: 1, count: 4_000).write(to: file) }
        let channel = EmbeddedChannel(handler: FileBodyHandler())
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        #expect(throws: (any Error).self) {
            try channel.writeOutbound(HTTPServerResponsePart.head(head(length: 100, fileBody: "3950 100 \(file.path)")))
        }
        #expect(!channel.isActive, "a response that cannot be sent left the connection open")
        #expect(try outbound(channel).isEmpty, "a head went out for a body that cannot follow")
    }
}
