/// Operator requests (`hfs admin ...`) and the states they set.

/// A datanode's administrative state. `normal` and `decommissioning` are stored by the namenode;
/// `decommissioned` is what a decommissioning node is reported as once every block it holds has
/// its full replication on other nodes (it may then be stopped).
public enum AdminState: String, Codable, Sendable, CaseIterable {
    case normal, decommissioning, decommissioned
}

/// `POST /api/v1/admin/decommission` and `/admin/recommission`.
public struct AdminNodeRequest: Codable, Sendable {
    public var id: String
    public init(id: String) { self.id = id }
}

public struct AdminNodeResponse: Codable, Sendable {
    public var id: String
    public var adminState: AdminState
    public init(id: String, adminState: AdminState) { self.id = id; self.adminState = adminState }
}
