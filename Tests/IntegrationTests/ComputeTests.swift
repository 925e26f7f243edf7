import Foundation
import HFSCore
import HFSTestSupport
import Testing

/// `hfs compute` and `hfs get --transform` against a real cluster: hooks run on the datanodes
/// that hold the images; every input gives exactly one row or output.
@Suite("compute", .serialized, .hfsDaemons, .timeLimit(.minutes(10)))
struct ComputeTests {
    struct Row: Decodable {
        var path: String
        var hook: String
        var node: String?
        var result: JSONValue?
        var error: String?
    }
    struct Summary: Decodable {
        var files: Int
        var failures: Int
        var node_local_fraction: Double
        var bytes_read_on_datanodes: Int64
        var bytes_sent_to_client: Int64
    }

    /// Rows and the summary of `hfs compute run ... --json`.
    static func run(_ c: TestCluster, _ args: [String], expectStatus: Int32 = 0,
                    sourceLocation: SourceLocation = #_sourceLocation) async throws -> ([String: Row], Summary) {
        let r = try await c.run(["compute", "run"] + args + ["--json"], timeoutSeconds: 300)
        #expect(r.status == expectStatus, "hfs compute run \(args.joined(separator: " ")): \(r)", sourceLocation: sourceLocation)
        var rows: [String: Row] = [:]
        var summary: Summary?
        for line in r.lines {
            if line.hasPrefix("{\"summary\"") {
                struct Wrap: Decodable { var summary: Summary }
                summary = try JSONDecoder().decode(Wrap.self, from: Data(line.utf8)).summary
            } else {
                let row = try JSONDecoder().decode(Row.self, from: Data(line.utf8))
                #expect(rows[row.path] == nil, "two rows for \(row.path)", sourceLocation: sourceLocation)
                rows[row.path] = row
            }
        }
        return (rows, try #require(summary, "no summary line: \(r)", sourceLocation: sourceLocation))
    }

    /// A dataset of `perClass` JPEGs and a few PNGs/PPMs per class under /cd/<name>.
    static func dataset(_ c: TestCluster, _ name: String, perClass: Int) async throws -> URL {
        let dir = try c.localDir("compute-\(name)")
        let src = dir.appendingPathComponent(name)
        try IngestTests.makeImageTree(src, classes: ["a", "b", "c"], perClass: perClass, seed: 21)
        try runPython("""
            import sys, numpy as np
            from PIL import Image
            Image.fromarray((np.random.RandomState(2).rand(50, 70, 3) * 255).astype("uint8")).save(sys.argv[1])
            """, arguments: [src.appendingPathComponent("a/raw.ppm").path])
        try await c.ok(["ingest", src.path, "/cd/\(name)", "--labels", "dirs"], timeoutSeconds: 300)
        return src
    }

    @Test("a feature job: one row per image, results equal imagehash, locality 1.0, little sent to the client")
    func featureJob() async throws {
        let c = try currentCluster()
        try await waitForLive(c, 3)
        let src = try await Self.dataset(c, "feat", perClass: 100)
        let files = TestData.files(under: src)
        let (rows, summary) = try await Self.run(c, ["phash", "/cd/feat"])
        #expect(rows.count == files.count && summary.files == files.count && summary.failures == 0)
        #expect(summary.node_local_fraction == 1.0)
        #expect(summary.bytes_sent_to_client * 20 < summary.bytes_read_on_datanodes,
                "sent \(summary.bytes_sent_to_client) of \(summary.bytes_read_on_datanodes) read")
        let ref = try runPython("""
            import imagehash, json, os, sys
            from PIL import Image
            root = sys.argv[1]; out = {}
            for d, _, fs in os.walk(root):
                for f in fs:
                    p = os.path.join(d, f); out[os.path.relpath(p, root)] = str(imagehash.phash(Image.open(p)))
            print(json.dumps(out))
            """, arguments: [src.path])
        let want = try JSONDecoder().decode([String: String].self, from: Data(ref.utf8))
        var far = 0
        for (rel, hash) in want {
            guard case .string(let got)? = rows["/cd/feat/\(rel)"]?.result else { Issue.record("no phash for \(rel)"); continue }
            let d = (UInt64(got, radix: 16)! ^ UInt64(hash, radix: 16)!).nonzeroBitCount
            if d > 2 { far += 1 }
        }
        #expect(far == 0, "\(far) of \(want.count) hashes are more than 2 bits from imagehash")
        #expect(rows.values.allSatisfy { $0.node != nil && $0.hook == "phash" })
    }

    @Test("a filter job writes outputs like cp -r, keeping names and formats; collisions are refused")
    func filterJob() async throws {
        let c = try currentCluster()
        _ = try await Self.dataset(c, "filt", perClass: 10)
        let r = try await c.run(["compute", "run", "thumbnail", "/cd/filt", "--param", "size=24", "--out", "/thumbs"], timeoutSeconds: 300)
        #expect(r.status == 0, "\(r)")
        let listed = try await c.lsJSON(["-R", "/thumbs/filt"]).filter { ($0["type"] as? String) == "file" }.compactMap { $0["path"] as? String }
        #expect(listed.count == 31)
        #expect(listed.contains("/thumbs/filt/a/0000.jpg") && listed.contains("/thumbs/filt/a/0004.png"))
        #expect(listed.contains("/thumbs/filt/a/raw.png"), "a PPM becomes PNG and takes its extension: \(listed.filter { $0.contains("raw") })")
        let manifest = try await IngestTests.manifest(c, "/thumbs/filt")
        for (path, row) in manifest {
            let w = row["width"] as? Int ?? 0, h = row["height"] as? Int ?? 0
            #expect(max(w, h) <= 24 && max(w, h) >= 1, "\(path) is \(w)x\(h)")
            #expect(row["format"] as? String == (path.hasSuffix(".jpg") ? "jpeg" : "png"), "\(path)")
        }
        // Running it again would overwrite: refused, nothing changed.
        let again = try await c.run(["compute", "run", "grayscale", "/cd/filt/a", "--out", "/thumbs/filt"], timeoutSeconds: 300)
        #expect(again.status != 0)
        // Forcing PNG maps a/0004.png and a/0004.jpg... onto one name only if both exist; here: x.jpg and x.png.
        try await c.ok(["put", "-", "/clash/x.jpg"], stdin: try Data(contentsOf: Self.anyJPEG(c)))
        try await c.ok(["put", "-", "/clash/x.png"], stdin: try runPythonBytes("import io,sys; from PIL import Image; b=io.BytesIO(); Image.new('RGB',(8,8)).save(b,'PNG'); sys.stdout.buffer.write(b.getvalue())"))
        let clash = try await c.run(["compute", "run", "grayscale", "/clash", "--param", "format=png", "--out", "/clash-out"])
        #expect(clash.status != 0 && clash.stderr.contains("would both be written"), "\(clash)")
    }

    /// A JPEG the filter test wrote into its local folder.
    static func anyJPEG(_ c: TestCluster) -> URL {
        c.root.appendingPathComponent("local/compute-filt/filt/a/0000.jpg")
    }

    @Test("corrupt replicas are retried elsewhere; non-images and undecodable files give error rows; a datanode killed mid-job")
    func faults() async throws {
        let c = try currentCluster()
        try await waitForLive(c, 3)
        _ = try await Self.dataset(c, "fault", perClass: 60)
        try await c.ok(["put", "-", "/cd/fault/notes.txt"], stdin: Data("not an image\n".utf8))
        try await c.ok(["put", "-", "/cd/fault/empty.jpg"], stdin: Data())
        // Bit rot on one node's copy of every block: the job reads the other replica.
        let victim = c.datanodes[0]
        for block in c.blockIdsOnDisk(victim) {
            let url = c.dataDir(victim).appendingPathComponent("blocks/blk_\(block)")
            var bytes = try Data(contentsOf: url)
            for i in stride(from: 100, to: bytes.count, by: 256) { bytes[i] ^= 0xFF }
            try bytes.write(to: url)
        }
        let (rows, summary) = try await Self.run(c, ["dhash", "/cd/fault"], expectStatus: 1)
        let images = summary.files - 2
        #expect(rows.count == summary.files)
        #expect(summary.failures == 2, "only the two non-images fail: \(rows.values.filter { $0.error != nil }.map { "\($0.path): \($0.error!)" })")
        #expect(rows["/cd/fault/notes.txt"]?.error != nil && rows["/cd/fault/empty.jpg"]?.error != nil)
        #expect(rows.values.filter { $0.result != nil }.count == images)
        // No result came from a corrupt replica. A task may still run on the victim and succeed:
        // a replica the job reported bad can be repaired in place while the job runs. So the
        // check is on the values: once repairs are done, the same job gives the same ones.
        try await waitFor("fsck healthy after the repairs", seconds: 60) { try await c.fsck().1 == 0 }
        let (clean, _) = try await Self.run(c, ["dhash", "/cd/fault"], expectStatus: 1)
        for (path, row) in rows where row.result != nil {
            #expect(row.result == clean[path]?.result, "\(path) from \(row.node ?? "?") (\(victim.id) had every block corrupted)")
        }

        // A datanode killed while a job runs (on fresh data: every file has a good copy on each
        // of its nodes): every file still gets exactly one row, from a survivor.
        _ = try await Self.dataset(c, "fault2", perClass: 60)
        let job = Task { try await Self.run(c, ["hog", "/cd/fault2", "--tasks-per-node", "1"]) }
        try await Task.sleep(for: .milliseconds(300))
        c.kill9(c.datanodes[1].id)
        let (rows2, summary2) = try await job.value
        #expect(rows2.count == summary2.files && summary2.files == 181)
        #expect(summary2.failures == 0, "\(rows2.values.filter { $0.error != nil }.map { "\($0.path): \($0.error!)" }.prefix(5))")
        try c.restart(c.datanodes[1].id)
        try await waitForLive(c, 3)
    }

    @Test("on-read thumbnail; declared external hooks run, time out cleanly; undeclared ones are refused")
    func transformAndExternalHooks() async throws {
        let c = try currentCluster()
        try await waitForLive(c, 3)
        let src = try await Self.dataset(c, "ext", perClass: 5)
        let out = c.root.appendingPathComponent("local/thumb.jpg")
        try await c.ok(["get", "/cd/ext/a/0001.jpg", out.path, "--transform", "thumbnail:16"])
        let size = try runPython("import sys; from PIL import Image; im = Image.open(sys.argv[1]); print(im.format, max(im.size))", arguments: [out.path])
        #expect(size.trimmingCharacters(in: .whitespacesAndNewlines) == "JPEG 16")
        let bad = try await c.run(["get", "/cd/ext/a/0001.jpg", out.path, "--transform", "phash"])
        expectCleanError(bad, "a feature hook as --transform")

        let (rows, summary) = try await Self.run(c, ["byte-count", "/cd/ext/a"])
        #expect(summary.failures == 0 && rows.count == summary.files)
        let first = try Data(contentsOf: src.appendingPathComponent("a/0001.jpg"))
        #expect(rows["/cd/ext/a/0001.jpg"]?.result == .number(Double(first.count)))
        let (slow, _) = try await Self.run(c, ["too-slow", "/cd/ext/b/0001.jpg"], expectStatus: 1)
        #expect(slow["/cd/ext/b/0001.jpg"]?.error?.contains("killed") == true, "\(String(describing: slow.first?.value.error))")
        try await c.ok(["compute", "run", "same-image", "/cd/ext/c", "--out", "/ext-out"])
        try await c.expectCat("/ext-out/c/0001.jpg", try Data(contentsOf: src.appendingPathComponent("c/0001.jpg")))
        let refused = try await c.run(["compute", "run", "rm-rf", "/cd/ext"])
        expectCleanError(refused, "an undeclared hook")
        #expect(refused.stderr.contains("no hook named"))
        let listed = try await c.ok(["compute", "hooks"]).stdoutText
        #expect(listed.contains("phash (feature)") && listed.contains("byte-count (feature, external)"))
    }
}

/// stdout of a Python script, as bytes.
func runPythonBytes(_ script: String) throws -> Data {
    let out = FileManager.default.temporaryDirectory.appendingPathComponent("py-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: out) }
    try runPython(script.replacingOccurrences(of: "sys.stdout.buffer.write(", with: "open(sys.argv[1], 'wb').write("), arguments: [out.path])
    return try Data(contentsOf: out)
}
