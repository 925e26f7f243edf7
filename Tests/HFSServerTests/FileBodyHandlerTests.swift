import Foundation
import HFSCore
@testable import HFSServer
import Hummingbird
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
            try channel.writeOutbound(HTTPServerResponsePart.head(head(length: count, fileBody: FileBody.headerValue(path: file.path, offset: Int64(offset), count: Int64(count)))))
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
        try channel.writeOutbound(HTTPServerResponsePart.head(head(length: 0, fileBody: FileBody.headerValue(path: file.path, offset: 5, count: 0))))
        try channel.writeOutbound(HTTPServerResponsePart.end(nil))
        #expect(try outbound(channel) == [.head(head(length: 0)), .end(nil)])
        #expect(try channel.finish().isClean)
    }

    /// A data directory may be named anything the file system allows: the path crosses the
    /// header (an HTTP field, which does not take control characters) percent-encoded, and the
    /// range opens the same file.
    @Test func anyPathCrossesTheHeader() throws {
        let name = "d\u{1}ir\nwith\r\tcontrol %41 données"
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hfs-filebody-\(UUID().uuidString)").appendingPathComponent(name)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir.deletingLastPathComponent()) }
        let file = dir.appendingPathComponent("blk_1")
        try Data(repeating: 3, count: 1_000).write(to: file)

        // What the route's response carries (HTTP fields replace control characters).
        let response = FileBody.response(path: file.path, offset: 10, count: 990)
        let value = try #require(response.headers.first { $0.name.rawName == FileBody.headerName }?.value)
        #expect(value == FileBody.headerValue(path: file.path, offset: 10, count: 990))
        #expect(value.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7f }, "not plain ASCII: \(value)")
        let parsed = try FileBody.parse(value)
        #expect(parsed.path == file.path && parsed.offset == 10 && parsed.count == 990)

        let channel = EmbeddedChannel(handler: FileBodyHandler())
        try channel.writeOutbound(HTTPServerResponsePart.head(head(length: 990, fileBody: value)))
        try channel.writeOutbound(HTTPServerResponsePart.end(nil))
        let parts = try outbound(channel)
        try #require(parts.count == 3, "\(parts)")
        guard case .body(.fileRegion(let region)) = parts[1] else {
            Issue.record("no file region after the head: \(parts[1])")
            return
        }
        #expect(region.readerIndex == 10 && region.endIndex == 1_000)
        #expect(try channel.finish().isClean)
    }

    @Test(arguments: ["", "1 2", "x 2 /a", "1 -2 /a", "1 2 %zz", "9223372036854775807 1 /a"])
    func aMalformedHeaderIsAnError(_ value: String) {
        #expect(throws: HFSError.self) { try FileBody.parse(value) }
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
            try channel.writeOutbound(HTTPServerResponsePart.head(head(length: 100, fileBody: FileBody.headerValue(path: file.path, offset: 3950, count: 100))))
        }
        #expect(!channel.isActive, "a response that cannot be sent left the connection open")
        #expect(try outbound(channel).isEmpty, "a head went out for a body that cannot follow")
    }
}
