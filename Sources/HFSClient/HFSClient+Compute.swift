import AsyncHTTPClient
import Foundation
import HFSCore
import NIOCore
import NIOFoundationCompat

/// One result of a compute job: a feature value, a filter's output image, or an error.
public struct ComputeRow: Sendable {
    public var path: String
    /// The datanode that ran the hook (nil when no node could).
    public var node: String?
    public var result: JSONValue?
    public var output: [UInt8]?
    public var outputFormat: String?
    public var error: String?
}

/// What a job did, for its summary.
public struct ComputeStats: Sendable, Codable {
    public var files = 0
    public var failures = 0
    /// Files whose hook ran on a datanode that read them from its own disk.
    public var localFiles = 0
    /// Stored bytes the datanodes read.
    public var bytesRead: Int64 = 0
    /// Bytes the datanodes sent to the client (records and outputs).
    public var bytesSent: Int64 = 0
    public var tasks = 0
    public var retries = 0

    public var localFraction: Double { files - failures > 0 ? Double(localFiles) / Double(files - failures) : 0 }
}

public struct ComputeOptions: Sendable {
    public var hook: String
    public var params: [String: String]
    /// Tasks running at once on each datanode.
    public var tasksPerNode = Limits.computeTasksPerNodeDefault
    /// Files per task (one request).
    public var filesPerTask = 32
    public init(hook: String, params: [String: String]) { self.hook = hook; self.params = params }
}

extension HFSClient {
    /// Runs a hook over files where they live. Files are grouped by the block that holds them;
    /// each group (split into tasks of ``ComputeOptions/filesPerTask``) goes to the least busy
    /// datanode holding a replica, at most ``ComputeOptions/tasksPerNode`` tasks per node. A task
    /// that fails or times out, and a file a node could not read (missing or corrupt replica),
    /// is retried on another replica; a file no replica could serve gets an error row. Every file
    /// yields exactly one row, passed to `onRow` as results arrive.
    public func compute(_ files: [FileLocations], options: ComputeOptions,
                        onRow: @escaping @Sendable (ComputeRow) async throws -> Void) async throws -> ComputeStats {
        var stats = ComputeStats()
        stats.files = files.count
        struct Pending { var files: [FileLocations]; var tried: Set<String>; var refetched = false }
        var pending: [Pending] = []
        var byBlock: [Int64: [FileLocations]] = [:]
        var blockOrder: [Int64] = []
        for f in files {
            guard let first = f.extents.first else {
                stats.failures += 1
                try await onRow(ComputeRow(path: f.status.path, error: f.status.type == .directory ? "is a directory" : "empty file, not an image"))
                continue
            }
            if byBlock[first.extent.block] == nil { blockOrder.append(first.extent.block) }
            byBlock[first.extent.block, default: []].append(f)
        }
        for b in blockOrder {
            let group = byBlock[b]!
            for start in stride(from: 0, to: group.count, by: options.filesPerTask) {
                pending.append(Pending(files: Array(group[start..<min(start + options.filesPerTask, group.count)]), tried: []))
            }
        }
        /// Nodes that hold every extent of every file of the task.
        func candidates(_ p: Pending) -> [DatanodeInfo] {
            var nodes: [DatanodeInfo]? = nil
            for f in p.files {
                for e in f.extents {
                    let here = e.replicas.filter { !p.tried.contains($0.id) }
                    nodes = nodes.map { n in n.filter { x in here.contains { $0.id == x.id } } } ?? here
                }
            }
            return nodes ?? []
        }
        var load: [String: Int] = [:]
        try await withThrowingTaskGroup(of: (Pending, DatanodeInfo, TaskOutcome).self) { group in
            var running = 0
            while !pending.isEmpty || running > 0 {
                // Start every task that has a free node, least busy first.
                var waiting: [Pending] = []
                for p in pending {
                    let free = candidates(p).filter { load[$0.id, default: 0] < options.tasksPerNode }
                    guard let node = free.min(by: { load[$0.id, default: 0] < load[$1.id, default: 0] }) else {
                        if candidates(p).isEmpty {
                            // Every replica failed: a compaction may have moved the files since
                            // they were looked up. Those whose place changed get one more round.
                            var failed = p.files
                            if !p.tried.isEmpty && !p.refetched {
                                // One lookup per file: a file removed meanwhile only gets its error row.
                                var moved: [FileLocations] = []
                                for old in p.files where old.extents.count == 1 {
                                    guard let path = try? HFSPath(old.status.path), let new = try? await locations(path),
                                          new.extents.count == 1, new.extents[0].extent != old.extents[0].extent else { continue }
                                    moved.append(new)
                                }
                                if !moved.isEmpty {
                                    waiting.append(Pending(files: moved, tried: [], refetched: true))
                                    let movedPaths = Set(moved.map(\.status.path))
                                    failed = p.files.filter { !movedPaths.contains($0.status.path) }
                                }
                            }
                            for f in failed {
                                stats.failures += 1
                                try await onRow(ComputeRow(path: f.status.path, error: p.tried.isEmpty
                                    ? "no live datanode holds a replica" : "failed on every replica (\(p.tried.sorted().joined(separator: ", ")))"))
                            }
                        } else {
                            waiting.append(p)
                        }
                        continue
                    }
                    load[node.id, default: 0] += 1
                    running += 1
                    stats.tasks += 1
                    group.addTask { (p, node, await self.runTask(p.files, on: node, options: options, onRow: onRow)) }
                }
                pending = waiting
                guard running > 0, let (task, node, outcome) = try await group.next() else { continue }
                running -= 1
                load[node.id, default: 0] -= 1
                stats.bytesSent += outcome.bytesSent
                stats.bytesRead += outcome.bytesRead
                stats.localFiles += outcome.localFiles
                stats.failures += outcome.failures
                // Files without a final row go to another replica.
                let done = outcome.finished
                let retry = task.files.filter { !done.contains($0.status.path) }
                if !retry.isEmpty {
                    stats.retries += 1
                    pending.append(Pending(files: retry, tried: task.tried.union([node.id]), refetched: task.refetched))
                }
            }
        }
        return stats
    }

    struct TaskOutcome: Sendable {
        var finished: Set<String> = []
        var bytesSent: Int64 = 0
        var bytesRead: Int64 = 0
        var localFiles = 0
        var failures = 0
    }

    /// One request to one datanode. Rows of files it served are passed on; files it could not read
    /// (or all of them, when the request itself failed) are left out of `finished` for a retry.
    func runTask(_ files: [FileLocations], on node: DatanodeInfo, options: ComputeOptions,
                 onRow: @Sendable (ComputeRow) async throws -> Void) async -> TaskOutcome {
        var outcome = TaskOutcome()
        let request = ComputeRequest(hook: options.hook, params: options.params, files: files.map {
            ComputeFile(path: $0.status.path, size: $0.status.size, extents: $0.extents.map(\.extent))
        })
        do {
            var req = HTTPClientRequest(url: "http://\(node.address)/api/v1/compute")
            req.method = .POST
            req.headers.add(name: "content-type", value: "application/json")
            req.body = .bytes(ByteBuffer(data: try JSONEncoder().encode(request)))
            let response = try await dataHTTP.execute(req, timeout: .seconds(Limits.computeTaskTimeoutSeconds))
            guard response.status == .ok else {
                let bytes = try await response.body.collect(upTo: 1 << 20)
                let e = Self.remoteError(bytes, status: Int(response.status.code), from: "datanode \(node.id)")
                // A refused job (unknown hook, bad parameter) fails the same everywhere.
                if e.code == .invalidArgument || e.code == .config {
                    for f in files { outcome.finished.insert(f.status.path); outcome.failures += 1
                        try await onRow(ComputeRow(path: f.status.path, node: node.id, error: e.message)) }
                }
                return outcome
            }
            var buffer = ByteBuffer()
            for try await chunk in response.body {
                outcome.bytesSent += Int64(chunk.readableBytes)
                var chunk = chunk
                buffer.writeBuffer(&chunk)
                while let record = try Self.nextRecord(&buffer) {
                    let (header, output) = record
                    outcome.bytesRead += header.bytesRead
                    if header.error != nil && !header.local { continue }  // could not read it here: another replica
                    outcome.finished.insert(header.path)
                    if header.error != nil { outcome.failures += 1 } else if header.local { outcome.localFiles += 1 }
                    try await onRow(ComputeRow(path: header.path, node: node.id, result: header.result,
                                               output: header.outputFormat == nil ? nil : output,
                                               outputFormat: header.outputFormat, error: header.error))
                }
            }
        } catch {
            // Transport failure or timeout: whatever has no row yet is retried elsewhere.
        }
        return outcome
    }

    /// Takes one complete record off the front of `buffer`, or nil when more bytes are needed.
    static func nextRecord(_ buffer: inout ByteBuffer) throws -> (ComputeRecord, [UInt8])? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return nil }
        let headerEnd = 4 + Int(length)
        guard buffer.readableBytes >= headerEnd,
              let headerBytes = buffer.getSlice(at: buffer.readerIndex + 4, length: Int(length)) else { return nil }
        let header = try JSONDecoder().decode(ComputeRecord.self, from: headerBytes)
        guard header.outputBytes >= 0, buffer.readableBytes >= headerEnd + header.outputBytes else { return nil }
        buffer.moveReaderIndex(forwardBy: headerEnd)
        let output = buffer.readBytes(length: header.outputBytes) ?? []
        buffer.discardReadBytes()
        return (header, output)
    }
}
