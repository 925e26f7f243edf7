import HFSCore

/// Datanode liveness as a pure function of time since the last heartbeat: live until three
/// intervals are missed, then stale (still readable, not chosen for new blocks), dead after
/// `dead_node_timeout` (its replicas no longer count).
public enum NodeState: String, Sendable, Codable {
    case live, stale, dead
}

public struct LivenessPolicy: Sendable {
    public var heartbeatIntervalSeconds: Double
    public var deadNodeTimeoutSeconds: Double
    public init(heartbeatIntervalSeconds: Double, deadNodeTimeoutSeconds: Double) {
        self.heartbeatIntervalSeconds = heartbeatIntervalSeconds
        self.deadNodeTimeoutSeconds = deadNodeTimeoutSeconds
    }

    public func state(secondsSinceHeartbeat age: Double?) -> NodeState {
        guard let age else { return .dead }
        if age >= deadNodeTimeoutSeconds { return .dead }
        if age > min(3 * heartbeatIntervalSeconds, deadNodeTimeoutSeconds) { return .stale }
        return .live
    }
}
