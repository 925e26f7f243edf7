import HFSCore

extension Codec {
    /// The codec byte of a frame header.
    public var wireID: UInt8 {
        switch self {
        case .none: return 0
        case .lz4: return 1
        case .zlib: return 2
        case .lz4Delta: return 3
        }
    }

    public init?(wireID: UInt8) {
        switch wireID {
        case 0: self = .none
        case 1: self = .lz4
        case 2: self = .zlib
        case 3: self = .lz4Delta
        default: return nil
        }
    }
}
