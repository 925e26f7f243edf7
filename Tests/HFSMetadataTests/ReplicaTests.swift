import HFSCore
import Testing
@testable import HFSMetadata

@Suite struct ReplicaTests {
    let store: MetadataStore

    init() throws { store = try MetadataStore.inMemory() }

    @Test func datanodesAreUpserted() throws {
        try store.upsertDatanode(DatanodeInfo(id: "dn2", address: "127.0.0.1:2", rack: "/r1"), capacityBytes: 100, usedBytes: 1)
        try store.upsertDatanode(DatanodeInfo(id: "dn1", address: "127.0.0.1:1", rack: "/r1"), capacityBytes: 100, usedBytes: 2)
        try store.upsertDatanode(DatanodeInfo(id: "dn2", address: "127.0.0.1:9", rack: "/r2"), capacityBytes: 500, usedBytes: 50)
        let nodes = try store.datanodes()
        #expect(nodes.map(\.node.id) == ["dn1", "dn2"])
        #expect(nodes[1].node == DatanodeInfo(id: "dn2", address: "127.0.0.1:9", rack: "/r2"))
        #expect(nodes[1].capacityBytes == 500 && nodes[1].usedBytes == 50)
    }

    @Test func fullReportReplacesRowsAndReturnsUnwantedBlocks() throws {
        let a = try store.createBlock(kind: .packed, replication: 2, now: 1).id
        let b = try store.createBlock(kind: .dedicated, replication: 2, now: 1).id
        let doomed = try store.createBlock(kind: .dedicated, replication: 2, now: 1).id
        try store.commit([newFile("/doomed", extents: [Extent(block: doomed, offset: 0, storedLength: 1, logicalLength: 1)])],
                         acks: [], overwrite: false, owner: "u")
        #expect(try store.delete(path("/doomed"), recursive: false) == [doomed])

        #expect(try store.replaceReplicas(of: "dn1", with: [BlockReportEntry(block: a, length: 5)]).isEmpty)
        let unwanted = try store.replaceReplicas(of: "dn1", with: [
            BlockReportEntry(block: b, length: 7),
            BlockReportEntry(block: 777, length: 1),
            BlockReportEntry(block: doomed, length: 1),
            BlockReportEntry(block: 777, length: 1),
        ])
        #expect(unwanted == [777, doomed])
        #expect(try store.replicaCounts() == ["dn1": 1])   // a is gone: not in this report
        #expect(try store.fsckScan(.root).blocks.isEmpty)
        #expect(try store.replaceReplicas(of: "dn2", with: [BlockReportEntry(block: a, length: 5)]).isEmpty)
        #expect(try store.replicaCounts() == ["dn1": 1, "dn2": 1])
    }

    @Test func incrementalReportAddsAndRemoves() throws {
        let a = try store.createBlock(kind: .packed, replication: 2, now: 1).id
        let b = try store.createBlock(kind: .packed, replication: 2, now: 1).id
        try store.commit([newFile("/f", extents: [Extent(block: a, offset: 0, storedLength: 1, logicalLength: 1)])],
                         acks: [], overwrite: false, owner: "u")
        let unwanted = try store.addReplicas(of: "dn1", received: [BlockReportEntry(block: a, length: 1),
                                                                   BlockReportEntry(block: b, length: 1),
                                                                   BlockReportEntry(block: 555, length: 1)], removed: [])
        #expect(unwanted == [555])
        #expect(try store.replicaCounts() == ["dn1": 2])
        #expect(try store.locations(path("/f")).extents.first?.replicaNodes == ["dn1"])
        #expect(try store.addReplicas(of: "dn1", received: [], removed: [a, 555]).isEmpty)
        #expect(try store.replicaCounts() == ["dn1": 1])
        #expect(try store.locations(path("/f")).extents.first?.replicaNodes == [])
    }

    @Test func deletedBlocksAreForgottenOnceNoReplicaRemains() throws {
        let block = try store.createBlock(kind: .dedicated, replication: 2, now: 1).id
        try store.commit([newFile("/big", extents: [Extent(block: block, offset: 0, storedLength: 1, logicalLength: 1)])],
                         acks: [BlockAck(block: block, length: 1, nodes: ["dn1", "dn2"])], overwrite: false, owner: "u")
        #expect(try store.delete(path("/big"), recursive: false) == [block])
        #expect(try store.deletedBlocks(on: "dn1") == [block])
        #expect(try store.deletedBlocks(on: "dn2") == [block])

        _ = try store.addReplicas(of: "dn1", received: [], removed: [block])
        try store.forgetBlocks([block])   // dn2 still holds it: kept
        #expect(try store.deletedBlocks(on: "dn2") == [block])

        _ = try store.addReplicas(of: "dn2", received: [], removed: [block])
        try store.forgetBlocks([block])
        // Forgotten: a late report of it is now an unknown block, still to delete.
        #expect(try store.addReplicas(of: "dn2", received: [BlockReportEntry(block: block, length: 1)], removed: []) == [block])
        expectError(.notFound) { try store.sealBlock(block) }
    }
}

@Suite struct DecommissionStoreTests {
    @Test func decommissioningIsStoredAndUnknownIdsNameTheKnownOnes() throws {
        let store = try MetadataStore.inMemory()
        try store.upsertDatanode(DatanodeInfo(id: "dn1", address: "127.0.0.1:1", rack: "/r1"), capacityBytes: 100, usedBytes: 1)
        try store.upsertDatanode(DatanodeInfo(id: "dn2", address: "127.0.0.1:2", rack: "/r1"), capacityBytes: 100, usedBytes: 1)
        #expect(try store.datanodes().map(\.decommissioning) == [false, false])
        try store.setDecommissioning("dn2", true)
        #expect(try store.datanodes().map(\.decommissioning) == [false, true])
        // A re-registration keeps the admin state.
        try store.upsertDatanode(DatanodeInfo(id: "dn2", address: "127.0.0.1:9", rack: "/r2"), capacityBytes: 100, usedBytes: 5)
        #expect(try store.datanodes().map(\.decommissioning) == [false, true])
        try store.setDecommissioning("dn2", false)
        #expect(try store.datanodes().map(\.decommissioning) == [false, false])
        expectError(.notFound, containing: "no datanode 'dn9' (known: dn1, dn2)") { try store.setDecommissioning("dn9", true) }
    }
}
