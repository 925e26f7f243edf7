/// The one error type that crosses module and process boundaries.
///
/// Every error says what went wrong, where (a path, a block, a node) and why, in one line; the
/// CLI prints `hfs: error: <message>` and the HTTP layers map `code` to a status.
public struct HFSError: Error, CustomStringConvertible, Sendable, Equatable, Codable {
    public enum Code: String, Sendable, Codable {
        case invalidArgument      // bad path, bad flag value, malformed request (400)
        case notFound             // no such file or directory, block or node (404)
        case alreadyExists        // the destination exists and overwrite was not asked (409)
        case notADirectory        // a path component is a file (409)
        case isADirectory         // a file operation on a directory (409)
        case notEmpty             // rm of a non-empty directory without -r (409)
        case conflict             // stale offset, block full, wrong generation (409)
        case corrupt              // checksum mismatch (422)
        case unavailable          // no live datanode, node not reachable (503)
        case io                   // local disk or network failure (500)
        case config               // cluster.yaml problems
        case `internal`           // a bug (500)
    }

    public var code: Code
    public var message: String
    /// The datanode at fault, when one is known (a pipeline node that cannot be reached): a
    /// writer leaves it out of its next pipeline.
    public var node: String?

    public init(_ code: Code, _ message: String, node: String? = nil) {
        self.code = code
        self.message = message
        self.node = node
    }

    public var description: String { message }

    public var httpStatus: Int {
        switch code {
        case .invalidArgument, .config: return 400
        case .notFound: return 404
        case .alreadyExists, .notADirectory, .isADirectory, .notEmpty, .conflict: return 409
        case .corrupt: return 422
        case .unavailable: return 503
        case .io, .internal: return 500
        }
    }

    public static func invalid(_ m: String) -> HFSError { HFSError(.invalidArgument, m) }
    public static func notFound(_ m: String) -> HFSError { HFSError(.notFound, m) }
}
