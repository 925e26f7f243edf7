import HFSCore

extension HFSClient {
    /// Starts decommissioning datanode `id`: it takes no new blocks and its replicas are copied
    /// to other nodes; `report()` shows it `decommissioned` once that is done.
    public func decommission(_ id: String) async throws -> AdminNodeResponse {
        try await post("admin/decommission", AdminNodeRequest(id: id))
    }

    /// Returns datanode `id` to normal service; surplus replicas are then trimmed.
    public func recommission(_ id: String) async throws -> AdminNodeResponse {
        try await post("admin/recommission", AdminNodeRequest(id: id))
    }
}
