import Foundation
@testable import HFSCore
import Testing

/// The commit request's columnar form on the wire.
@Suite struct CommitWireTests {
    let image = ImageAttributes(format: "jpeg", width: 640, height: 480, channels: 3, label: "cat", sha256: String(repeating: "ab", count: 32),
                                invalid: nil)

    func files(images: Bool) -> [NewFile] {
        [
            NewFile(path: "/a/empty", size: 0, storedSize: 0, replication: 2, codec: "auto", mtime: 1.5, extents: []),
            NewFile(path: "/a/one", size: 10, storedSize: 12, replication: 3, codec: "lz4", mtime: 2.25,
                    extents: [Extent(block: 7, offset: 100, storedLength: 12, logicalLength: 10)], image: images ? image : nil),
            NewFile(path: "/a/données two", size: 300, storedSize: 310, replication: 1, codec: "none", mtime: 1_764_478_970.123456,
                    extents: [Extent(block: 8, offset: 0, storedLength: 200, logicalLength: 190),
                              Extent(block: 9, offset: 0, storedLength: 110, logicalLength: 110)]),
        ]
    }

    func roundTrip(_ r: CommitRequest) throws -> CommitRequest {
        try JSONDecoder().decode(CommitRequest.self, from: JSONEncoder().encode(r))
    }

    func same(_ a: [NewFile], _ b: [NewFile]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { x, y in
            x.path == y.path && x.size == y.size && x.storedSize == y.storedSize && x.replication == y.replication
                && x.codec == y.codec && x.mtime == y.mtime && x.extents == y.extents && x.image == y.image
        }
    }

    @Test(arguments: [false, true])
    func filesRoundTrip(images: Bool) throws {
        let r = CommitRequest(files: files(images: images), acks: [BlockAck(block: 7, length: 112, nodes: ["dn1", "dn2"])],
                              overwrite: true, owner: "alice")
        let back = try roundTrip(r)
        #expect(same(back.files, r.files))
        #expect(back.acks == r.acks && back.overwrite && back.owner == "alice")
        let json = String(decoding: try JSONEncoder().encode(r), as: UTF8.self)
        #expect(json.contains("\"image\"") == images, "image column present only when a file has attributes: \(json)")
    }

    @Test func noFiles() throws {
        let back = try roundTrip(CommitRequest(files: [], acks: [], overwrite: false, owner: "o"))
        #expect(back.files.isEmpty && back.acks.isEmpty)
    }

    /// Columns that do not line up are a decoding error, never a crash or a file with the wrong extents.
    @Test(arguments: [
        #""path":["/a","/b"],"size":[1]"#,
        #""path":["/a"],"size":[1],"block":[1,2]"#,
        #""path":["/a"],"size":[1],"extentCount":[2]"#,
        #""path":["/a"],"size":[1],"extentCount":[-1]"#,
        #""path":["/a"],"size":[1],"extentCount":[9223372036854775807]"#,
        #""path":["/a"],"size":[1],"image":[]"#,
        #""path":["/a"],"size":[1],"extentCount":[0]"#,
        #""path":["/a","/b"],"size":[1,1],"storedSize":[1,1],"replication":[1,1],"codec":["none","none"],"mtime":[0,0],"extentCount":[1,1]"#,
    ])
    func misalignedColumnsAreRejected(_ change: String) throws {
        // One file with one extent, then `change` overrides some of its columns.
        var columns: [String: String] = [
            "path": #"["/a"]"#, "size": "[1]", "storedSize": "[1]", "replication": "[1]", "codec": #"["none"]"#, "mtime": "[0]",
            "extentCount": "[1]", "block": "[1]", "offset": "[0]", "storedLength": "[1]", "logicalLength": "[1]",
        ]
        func body() -> Data {
            let files = columns.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",")
            return Data(#"{"files":{\#(files)},"acks":[],"overwrite":false,"owner":"o"}"#.utf8)
        }
        #expect(try JSONDecoder().decode(CommitRequest.self, from: body()).files.count == 1)
        let overrides = try JSONSerialization.jsonObject(with: Data("{\(change)}".utf8)) as! [String: Any]
        for (key, value) in overrides {
            columns[key] = String(decoding: try JSONSerialization.data(withJSONObject: value), as: UTF8.self)
        }
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(CommitRequest.self, from: body()) }
    }
}
