import HFSCore
/// Every error of the ingest building blocks: one line that says what, where and why
/// (`archive 'train-0003.tar': bad tar header checksum at offset 1536`).
public struct IngestError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: String, Sendable {
        case io                // open/read failures of local files
        case archive           // corrupt or truncated tar or gzip data
        case entryTooLarge     // a tar entry above the reader's entryBytesMax (recoverable)
        case pattern           // malformed shard pattern or include glob
        case labels            // bad labels argument or CSV
        case pathList          // bad line in a URL/path list
        case destination       // a path that cannot become an hfs path
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

/// Shared limits of the ingest building blocks, unit last.
public enum IngestLimits {
    /// Bytes read from a file or inflated at a time.
    public static let streamChunkBytes = 1 << 20
    /// Largest tar entry delivered as one byte array by ``TarReader/next()``.
    public static let tarEntryBytesMaxDefault = 64 << 20
    /// Largest GNU long-name or pax extended header accepted.
    public static let tarMetadataBytesMax = 1 << 20
    /// Most archives one shard pattern may expand to.
    public static let shardPatternExpansionsMax = 1_000_000
    /// hfs path limits.
    public static let pathComponentBytesMax = Limits.pathComponentBytesMax
    public static let pathBytesMax = Limits.pathBytesMax
    /// Tries per URL of a list (transport errors and 5xx answers are retried, with backoff).
    public static let fetchAttempts = 3
    /// Time for one URL fetch, connection included.
    public static let fetchTimeoutSeconds: Int64 = 30
}

/// `raw` with control characters escaped, so an error message stays one printable line.
func printable(_ raw: String) -> String {
    var out = ""
    for u in raw.unicodeScalars {
        if u.value < 0x20 || u.value == 0x7F { out += "\\u{\(String(u.value, radix: 16))}" } else { out.unicodeScalars.append(u) }
    }
    return out
}
