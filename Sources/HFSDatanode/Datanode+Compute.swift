import Foundation
import HFSCore
import HFSFormat
import HFSImaging
import HFSServer
import Hummingbird
import NIOCore
import NIOPosix

/// Compute near the data: `POST /api/v1/compute` runs a hook on files whose blocks this datanode
/// holds. It reads their frames from its own disk (verifying every checksum), runs the hook on a
/// thread pool of its own (so disk I/O is never starved), and streams back one record per file:
/// the feature value, or the filter's output image, or the reason for an error. A bad file is an
/// error record for that file; it never fails the request or the node.
extension Datanode {
    func compute(_ request: Request) async throws -> Response {
        let body = try await request.body.collect(upTo: Limits.controlBodyBytesMax)
        let job = try JSONDecoder().decode(ComputeRequest.self, from: body)
        guard job.files.count <= Limits.computeFilesPerTaskMax else {
            throw HFSError.invalid("at most \(Limits.computeFilesPerTaskMax) files per compute task")
        }
        let external = config.hooks.first { $0.name == job.hook }
        if external == nil {
            do { try Hooks.validate(job.hook, params: job.params) } catch { throw HFSError.invalid(Self.oneLine(error)) }
        } else if !job.params.isEmpty {
            throw HFSError.invalid("hook \(job.hook) is declared in cluster.yaml and takes no parameters")
        }
        return Response(status: .ok, headers: [.contentType: "application/x-hfs-compute"], body: ResponseBody { writer in
            for file in job.files {
                let record = try await self.computePool.runIfActive {
                    self.computeOne(file, hook: job.hook, params: job.params, external: external)
                }
                if let bad = record.corruptBlock {
                    // As a reader would: the namenode stops offering this copy and replaces it.
                    let _: OK? = try? await self.post("blocks/bad", BadReplicaRequest(block: bad, datanode: self.me.id,
                                                                                         reason: record.header.error ?? "checksum mismatch"))
                }
                let header = try JSONEncoder().encode(record.header)
                var out = ByteBuffer()
                out.writeInteger(UInt32(header.count))
                out.writeBytes(header)
                out.writeBytes(record.output)
                try await writer.write(out)
            }
            try await writer.finish(nil)
        })
    }

    /// Reads, verifies and decodes one file from local block files, then runs the hook.
    func computeOne(_ file: ComputeFile, hook: String, params: [String: String],
                    external: ClusterConfig.ExternalHook?) -> (header: ComputeRecord, output: [UInt8], corruptBlock: Int64?) {
        var record = ComputeRecord(path: file.path, result: nil, outputFormat: nil, outputBytes: 0, error: nil, bytesRead: 0, local: true)
        let bytes: [UInt8]
        do {
            bytes = try readLocal(file)
            record.bytesRead = file.extents.reduce(0) { $0 + $1.storedLength }
        } catch {
            record.error = Self.oneLine(error)
            record.local = false
            return (record, [], (error as? CorruptReplica)?.block)
        }
        do {
            let output: HookOutput
            if let external {
                output = try ExternalHookRunner.run(external, input: bytes)
            } else {
                output = try Hooks.run(hook, params: params, input: bytes)
            }
            switch output {
            case .value(let v):
                record.result = v
                return (record, [], nil)
            case .image(let out, let format):
                record.outputFormat = format.rawValue
                record.outputBytes = out.count
                return (record, out, nil)
            }
        } catch {
            record.error = Self.oneLine(error)
            return (record, [], nil)
        }
    }

    /// The logical bytes of a file whose every extent is in a block on this node's disk.
    func readLocal(_ file: ComputeFile) throws -> [UInt8] {
        guard file.size >= 0, file.size <= Limits.computeFileBytesMax else {
            throw HFSError.invalid("\(file.path) is \(file.size) bytes; compute hooks take files up to \(Limits.computeFileBytesMax)")
        }
        var out = ByteBuffer()
        out.reserveCapacity(Int(file.size))
        var reader = FrameReader(logicalBytesMax: file.size)
        // Stored bytes are the logical ones plus a header per frame and at most a codec's bound
        // (lz4: +0.4%): twice the file, and a header for each frame the largest file could have
        // and one per extent, is far more than any real file needs.
        let framesMax = Limits.computeFileBytesMax / Int64(Limits.frameLogicalBytesMax) + Int64(file.extents.count)
        var storedLeft = 2 * file.size + Int64(FrameHeader.size) * framesMax
        for e in file.extents {
            guard let length = store.length(e.block), Limits.range(offset: e.offset, length: e.storedLength, fitsIn: length) else {
                throw HFSError(.notFound, "\(me.id) does not hold block \(e.block) of \(file.path)")
            }
            storedLeft -= e.storedLength
            guard storedLeft >= 0 else {
                throw HFSError.invalid("\(file.path): its extents hold far more stored bytes than its \(file.size) bytes need")
            }
            let fd = open(store.path(e.block), O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw HFSError(.io, "\(me.id): open block \(e.block): \(String(cString: strerror(errno)))") }
            defer { close(fd) }
            var chunk = ByteBuffer()
            chunk.reserveCapacity(Int(e.storedLength))
            var err: Int32 = 0
            let n = chunk.writeWithUnsafeMutableBytes(minimumWritableBytes: Int(e.storedLength)) { buf in
                let r = Posix.readAll(fd, UnsafeMutableRawBufferPointer(rebasing: buf[0..<Int(e.storedLength)]), at: e.offset)
                err = r.errno
                return r.count
            }
            guard err == 0 else { throw HFSError(.io, "\(me.id): read block \(e.block): \(String(cString: strerror(err)))") }
            guard n == Int(e.storedLength) else { throw HFSError(.io, "\(me.id): block \(e.block) is shorter than its extent of \(file.path)") }
            do { try reader.consume(chunk, into: &out) } catch {
                throw CorruptReplica(block: e.block, message: "block \(e.block) of \(file.path) on \(me.id): \(Self.oneLine(error))")
            }
        }
        try reader.finish()
        guard out.readableBytes == Int(file.size) else {
            throw HFSError(.corrupt, "\(file.path): read \(out.readableBytes) bytes on \(me.id), the file has \(file.size)")
        }
        return Array(buffer: out)
    }

    /// A frame of a local block failed its checksum.
    struct CorruptReplica: Error, CustomStringConvertible {
        var block: Int64
        var message: String
        var description: String { message }
    }

    static func oneLine(_ error: any Error) -> String {
        if let e = error as? HFSError { return e.message }
        return "\(error)".replacingOccurrences(of: "\n", with: " ")
    }
}

/// Runs an operator-declared hook: `/bin/sh -c COMMAND` with the image on stdin; stdout is the
/// result (JSON for a feature, an image for a filter). Foundation starts it as the leader of a
/// process group of its own, so past its timeout the whole group is killed, whatever the command
/// started; a non-zero exit is an error carrying the first line of stderr.
enum ExternalHookRunner {
    static func run(_ hook: ClusterConfig.ExternalHook, input: [UInt8]) throws -> HookOutput {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", hook.command]
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        p.standardInput = stdin
        p.standardOutput = stdout
        p.standardError = stderr
        try p.run()
        let writer = Thread {
            try? stdin.fileHandleForWriting.write(contentsOf: input)
            try? stdin.fileHandleForWriting.close()
        }
        writer.start()
        let timedOut = ManagedAtomicFlag()
        let timer = DispatchWorkItem { timedOut.set(); kill(-p.processIdentifier, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + hook.timeoutSeconds, execute: timer)
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        let err = stderr.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        timer.cancel()
        if timedOut.isSet {
            throw HFSError(.unavailable, "hook \(hook.name) took longer than \(hook.timeoutSeconds) s and was killed")
        }
        guard p.terminationStatus == 0 else {
            let first = String(decoding: err, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
            throw HFSError(.io, "hook \(hook.name) exited with status \(p.terminationStatus)" + (first.isEmpty ? "" : ": \(first)"))
        }
        if hook.kind == "filter" {
            let bytes = [UInt8](out)
            let format = try bytes.withUnsafeBytes { try Imaging.probe($0).format }
            return .image(bytes, format)
        }
        do { return .value(try JSONDecoder().decode(JSONValue.self, from: out)) } catch {
            throw HFSError(.io, "hook \(hook.name) printed something that is not JSON")
        }
    }
}

/// A flag set once from another thread.
final class ManagedAtomicFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}
