@testable import HFSClient
import HFSCore
import NIOCore
import Synchronization
import Testing

/// The ordered sink of `hfs cat`: frames of several extents in flight come out in file order,
/// readers ahead pause at the bound, and a failure or cancellation releases every paused reader.
@Suite("in-order sink", .timeLimit(.minutes(1)))
struct InOrderSinkTests {
    final class Collected: Sendable {
        let bytes = Mutex<[UInt8]>([])
        func append(_ b: ByteBuffer) { bytes.withLock { $0 += b.readableBytesView } }
    }

    static func frame(_ value: UInt8, _ count: Int) -> ByteBuffer { ByteBuffer(repeating: value, count: count) }

    @Test("frames given out of order reach the sink in file order")
    func reorders() async throws {
        let out = Collected()
        let sink = InOrderSink(sink: { out.append($0) }, aheadBytesMax: 1 << 20)
        try await sink.put(Self.frame(3, 10), at: 20)
        try await sink.put(Self.frame(2, 10), at: 10)
        #expect(out.bytes.withLock { $0.isEmpty })
        try await sink.put(Self.frame(1, 10), at: 0)
        try await sink.put(Self.frame(4, 5), at: 30)
        try await sink.finish(size: 35)
        #expect(out.bytes.withLock { $0 } == [UInt8](repeating: 1, count: 10) + [UInt8](repeating: 2, count: 10)
                + [UInt8](repeating: 3, count: 10) + [UInt8](repeating: 4, count: 5))
    }

    @Test("a reader ahead pauses at the bound and goes on once the bytes before it are out")
    func pausesAhead() async throws {
        let out = Collected()
        let sink = InOrderSink(sink: { out.append($0) }, aheadBytesMax: 16)
        try await sink.put(Self.frame(2, 10), at: 10)            // parked (10 of 16)
        let ahead = Task { try await sink.put(Self.frame(3, 10), at: 20) }   // would make 20: waits
        try await Task.sleep(for: .milliseconds(100))
        #expect(out.bytes.withLock { $0.isEmpty })
        try await sink.put(Self.frame(1, 10), at: 0)             // in order: writes 0..<20, wakes the reader
        try await ahead.value
        try await sink.finish(size: 30)
        #expect(out.bytes.withLock { $0.count } == 30)
    }

    @Test("a paused reader that is cancelled throws, and so does the ordered read")
    func cancelReleases() async throws {
        let sink = InOrderSink(sink: { _ in }, aheadBytesMax: 8)
        try await sink.put(Self.frame(2, 8), at: 8)
        let ahead = Task { try await sink.put(Self.frame(3, 8), at: 16) }
        try await Task.sleep(for: .milliseconds(100))
        ahead.cancel()
        await #expect(throws: CancellationError.self) { try await ahead.value }
        await #expect(throws: (any Error).self) { try await sink.finish(size: 24) }
    }

    @Test("a sink that fails stops every reader, paused ones included")
    func sinkFailure() async throws {
        let sink = InOrderSink(sink: { _ in throw HFSError(.io, "local: write to stdout: broken pipe") }, aheadBytesMax: 8)
        try await sink.put(Self.frame(2, 8), at: 8)
        let ahead = Task { try await sink.put(Self.frame(3, 8), at: 16) }
        try await Task.sleep(for: .milliseconds(100))
        await #expect(throws: HFSError.self) { try await sink.put(Self.frame(1, 8), at: 0) }
        await #expect(throws: HFSError.self) { try await ahead.value }
    }
}
