import Synchronization

/// Lets the owner of a sequence that another task reads take it back: after ``close()``
/// returns, no read is in flight and none starts. For request bodies handed to the HTTP client,
/// which may leave its body-reading task inside a read when the request fails.
public final class ReadGate: Sendable {
    public init() {}

    private struct State {
        var reading = false
        var closed = false
        var waiter: CheckedContinuation<Void, Never>?
    }
    private let state = Mutex(State())

    /// False once closed; otherwise the caller is reading until ``leave()``. One reader at a time.
    public func enter() -> Bool {
        state.withLock { s in
            guard !s.closed else { return false }
            precondition(!s.reading, "two concurrent reads through one ReadGate")
            s.reading = true
            return true
        }
    }

    public func leave() {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            s.reading = false
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume()
    }

    /// Refuses new reads and waits for the one in flight, if any. Called once.
    public func close() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                precondition(!s.closed, "ReadGate closed twice")
                s.closed = true
                if s.reading { s.waiter = c; return false }
                return true
            }
            if now { c.resume() }
        }
    }

    /// Runs `operation`, which hands the gated sequence to another reader, then closes the gate
    /// however the operation ended. With `unstick`, a read still in flight `grace` later gets it
    /// called once (it should end that read, e.g. by closing the connection the read waits on).
    public func closing<T>(unstickAfter grace: Duration = .zero, unstick: (@Sendable () -> Void)? = nil,
                           _ operation: () async throws -> T) async throws -> T {
        let result: Result<T, any Error>
        do { result = .success(try await operation()) } catch { result = .failure(error) }
        if let unstick {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.close() }
                group.addTask {
                    try? await Task.sleep(for: grace)
                    if !Task.isCancelled { unstick() }
                }
                await group.next()
                group.cancelAll()
            }
        } else {
            await close()
        }
        return try result.get()
    }
}

/// `base` read through a ``ReadGate``: once the gate is closed, reads throw.
public struct GatedSequence<Base: AsyncSequence & Sendable>: AsyncSequence, Sendable where Base.Element: Sendable {
    public typealias Element = Base.Element
    public let base: Base
    public let gate = ReadGate()

    public init(_ base: Base) { self.base = base }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: Base.AsyncIterator
        let gate: ReadGate
        public mutating func next() async throws -> Element? {
            guard gate.enter() else { throw HFSError(.unavailable, "the request ended before its body was read") }
            defer { gate.leave() }
            return try await base.next()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: base.makeAsyncIterator(), gate: gate) }
}
