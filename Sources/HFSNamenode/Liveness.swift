import HFSCore

/// Datanode liveness as a pure function of time since the last heartbeat: live until two
/// intervals have passed without one, then stale (still read from, chosen for new blocks only
/// when too few nodes are live, its replicas not counted healthy by fsck, but not copied
/// elsewhere yet), dead after `dead_node_timeout` (its replicas no longer count; they are copied).
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
        if age >= min(2 * heartbeatIntervalSeconds, deadNodeTimeoutSeconds) { return .stale }
        return .live
    }
}
