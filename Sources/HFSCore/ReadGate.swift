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

    /// ``close()``, calling `unstick` once if the read in flight has not ended after `grace`
    /// (it should make that read end, e.g. by closing the connection it waits on).
    public func close(after grace: Duration, unstick: @escaping @Sendable () -> Void) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.close() }
            group.addTask {
                try? await Task.sleep(for: grace)
                if !Task.isCancelled { unstick() }
            }
            await group.next()
            group.cancelAll()
        }
    }
}
