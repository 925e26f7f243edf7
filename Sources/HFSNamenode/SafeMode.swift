/// Safe mode after a namenode (re)start: the namenode makes no replication or deletion decisions
/// (no copies, no trims, no removal of corrupt or unknown replicas) until it has heard every
/// datanode's full block report, so that a restart does not set off a storm of copies of blocks
/// whose replicas simply have not been reported yet.
///
/// It leaves safe mode, for good, when every datanode of cluster.yaml has registered, or at the
/// latest `dead_node_timeout` after its start: a node still silent then would be declared dead
/// by the same rule without a restart, so no decision comes sooner than it would have. Pure: the
/// caller passes the time since start and the nodes registered in this process.
public struct SafeModePolicy: Sendable, Equatable {
    public var configured: Set<String>
    public var maxWaitSeconds: Double

    public init(configured: Set<String>, maxWaitSeconds: Double) {
        self.configured = configured
        self.maxWaitSeconds = maxWaitSeconds
    }

    /// Nil when the namenode may leave safe mode; else why it stays, in one line.
    public func reason(secondsSinceStart t: Double, registered: Set<String>) -> String? {
        let waiting = configured.subtracting(registered)
        if waiting.isEmpty || t >= maxWaitSeconds { return nil }
        let have = configured.count - waiting.count
        return "\(have) of \(configured.count) datanodes have reported their blocks (waiting for \(waiting.sorted().joined(separator: ", "))); "
            + "no replication or deletion until all have, or \(Int((maxWaitSeconds - t).rounded(.up))) s from now"
    }
}
