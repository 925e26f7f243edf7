import AsyncHTTPClient
import Foundation
import HFSCore
import NIOCore
import NIOFoundationCompat

/// Blocks added or removed since the last incremental report.
actor IncrementalReports {
    private var received: [Int64: Int64] = [:]
    private var removed: Set<Int64> = []

    func received(_ id: Int64, length: Int64) { received[id] = length; removed.remove(id) }
    func removed(_ id: Int64) { removed.insert(id); received[id] = nil }

    func take() -> BlockReceivedRequest? {
        guard !received.isEmpty || !removed.isEmpty else { return nil }
        defer { received = [:]; removed = [] }
        return BlockReceivedRequest(id: "", received: received.map { BlockReportEntry(block: $0.key, length: $0.value) },
                                    removed: Array(removed))
    }

    /// Puts back a report that could not be sent (newer news wins).
    func restore(_ r: BlockReceivedRequest) {
        for e in r.received where received[e.block] == nil && !removed.contains(e.block) { received[e.block] = e.length }
        for b in r.removed where received[b] == nil { removed.insert(b) }
    }
}

extension Datanode {
    var namenodeURL: String { "http://\(config.namenodeAddress)/api/v1" }

    /// Register (full block report), then heartbeat every interval; register again whenever
    /// the namenode asks (it restarted), and every `block_report_interval` after checking the
    /// block folder (a registration carries the full report). Runs until cancelled.
    func namenodeLoop() async {
        var registered = false
        var periodic = false
        var lastFullReport = ContinuousClock.now
        let interval = Duration.milliseconds(Int64(config.heartbeatIntervalSeconds * 1000))
        let reportInterval = Duration.milliseconds(Int64(config.blockReportIntervalSeconds * 1000))
        while !Task.isCancelled {
            do {
                if registered && ContinuousClock.now - lastFullReport >= reportInterval {
                    let (lost, found) = store.rescan(adoptAfterSeconds: Limits.strayBlockFileAgeSecondsMin)
                    if !lost.isEmpty { logger.warning("block files gone from disk: \(lost.map(String.init).joined(separator: ","))") }
                    if !found.isEmpty { logger.warning("block files found on disk that this node did not know: \(found.map(String.init).joined(separator: ","))") }
                    registered = false
                    periodic = true
                }
                if !registered {
                    let r = RegisterRequest(node: info, capacityBytes: store.capacityBytes, usedBytes: store.usedBytes, blocks: store.report())
                    let answer: HeartbeatResponse = try await post("datanodes/register", r)
                    registered = true
                    lastFullReport = ContinuousClock.now
                    if periodic { logger.debug("full block report (\(r.blocks.count) blocks)") } else {
                        logger.info("registered with the namenode at \(config.namenodeAddress) (\(r.blocks.count) blocks)")
                    }
                    periodic = false
                    await resendChanged(since: r.blocks)
                    await execute(answer.commands)
                }
                let h = HeartbeatRequest(id: me.id, capacityBytes: store.capacityBytes, usedBytes: store.usedBytes, blockCount: store.blockCount)
                let answer: HeartbeatResponse = try await post("datanodes/heartbeat", h)
                if answer.reregister { registered = false; continue }
                await execute(answer.commands)
            } catch {
                logger.warning("namenode \(config.namenodeAddress) not reachable: \(error)")
                registered = false
            }
            try? await Task.sleep(for: interval)
        }
    }

    /// Blocks added or grown while a full report was on its way are reported again, so that a
    /// full report the namenode applied after their incremental report does not hide them.
    func resendChanged(since snapshot: [BlockReportEntry]) async {
        let before = Dictionary(uniqueKeysWithValues: snapshot.map { ($0.block, $0.length) })
        for e in store.report() where before[e.block] != e.length { await reports.received(e.block, length: e.length) }
    }

    /// Sends incremental block reports every ``Limits/incrementalReportIntervalMilliseconds``.
    func reportLoop() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(Limits.incrementalReportIntervalMilliseconds))
            guard var r = await reports.take() else { continue }
            r.id = me.id
            do {
                let answer: HeartbeatResponse = try await post("datanodes/blocks", r)
                await execute(answer.commands)
            } catch {
                await reports.restore(r)
            }
        }
    }

    func execute(_ commands: [DatanodeCommand]) async {
        for c in commands {
            switch c.kind {
            case .delete:
                for id in c.blocks {
                    await locks.acquire(id)
                    _ = store.delete(id)
                    await locks.release(id)
                    await reports.removed(id)
                }
                logger.info("deleted \(c.blocks.count) block(s) on the namenode's command")
            case .replicate:
                // Copies run beside the heartbeats; the namenode bounds how many it asks for.
                for id in c.blocks { Task { await self.replicate(block: id, to: c.targets ?? []) } }
            case .compact:
                if let id = c.blocks.first, let plan = c.compaction {
                    Task { await self.compact(block: id, plan: plan, targets: c.targets ?? []) }
                }
            }
        }
    }

    func post<Body: Encodable, Answer: Decodable>(_ path: String, _ body: Body) async throws -> Answer {
        var req = HTTPClientRequest(url: "\(namenodeURL)/\(path)")
        req.method = .POST
        req.headers.add(name: "content-type", value: "application/json")
        req.body = .bytes(ByteBuffer(data: try JSONEncoder().encode(body)))
        let response = try await http.execute(req, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: Limits.controlBodyBytesMax)
        guard response.status == .ok else {
            let e = try? JSONDecoder().decode(ErrorBody.self, from: bytes)
            throw e?.error ?? HFSError(.unavailable, "namenode answered \(response.status.code)")
        }
        return try JSONDecoder().decode(Answer.self, from: bytes)
    }
}
