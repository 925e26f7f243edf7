import Foundation
import HFSCore
import Testing
@testable import HFSMetadata

/// A validated path from a literal known to be valid.
func path(_ raw: String) -> HFSPath {
    do { return try HFSPath(raw) } catch { fatalError("bad test path \(raw): \(error)") }
}

/// Runs `body` and returns the HFSError it threw, recording an issue if it threw none or another code.
@discardableResult
func expectError(_ code: HFSError.Code, containing text: String? = nil, sourceLocation: SourceLocation = #_sourceLocation,
                 _ body: () throws -> Void) -> HFSError? {
    let error = #expect(throws: HFSError.self, sourceLocation: sourceLocation) { try body() }
    #expect(error?.code == code, "\(error?.message ?? "no error")", sourceLocation: sourceLocation)
    if let text {
        #expect(error?.message.contains(text) == true, "\(error?.message ?? "no error")", sourceLocation: sourceLocation)
    }
    return error
}

/// One small file of `size` bytes in one extent.
func newFile(_ raw: String, size: Int64 = 100, replication: Int = 2, extents: [Extent]) -> NewFile {
    NewFile(path: raw, size: size, storedSize: extents.reduce(0) { $0 + $1.storedLength }, replication: replication,
            codec: "auto", mtime: 1_700_000_000, extents: extents)
}

extension MetadataStore {
    /// Names of entries listed at `raw` (full paths).
    func listedPaths(_ raw: String, recursive: Bool = false, limit: Int = 1000) throws -> [String] {
        try list(path(raw), recursive: recursive, limit: limit).entries.map(\.path)
    }

    func exists(_ raw: String) throws -> Bool {
        do {
            _ = try status(path(raw))
            return true
        } catch let error as HFSError where error.code == .notFound {
            return false
        }
    }
}
