import Foundation
import HFSCore
import HFSTestSupport
import Testing

/// `hfs ingest` and `hfs dataset` against a real cluster, with fixtures and references made by
/// Python (Pillow for images and their sizes, hashlib for SHA-256, tarfile for shards,
/// webdataset to read an export back).
@Suite("ingest", .serialized, .hfsDaemons, .timeLimit(.minutes(10)))
struct IngestTests {
    /// Writes `count` JPEGs per class (sizes vary) plus PNGs under `root/<class>/`.
    static func makeImageTree(_ root: URL, classes: [String], perClass: Int, seed: Int) throws {
        try runPython("""
            import os, random, sys, numpy as np
            from PIL import Image
            root, classes, n, seed = sys.argv[1], sys.argv[2].split(","), int(sys.argv[3]), int(sys.argv[4])
            rnd = random.Random(seed); rs = np.random.RandomState(seed)
            for c in classes:
                os.makedirs(os.path.join(root, c), exist_ok=True)
                for i in range(n):
                    w, h = rnd.randint(32, 200), rnd.randint(32, 200)
                    a = (rs.rand(h, w, 3) * 255).astype("uint8")
                    if i % 5 == 4:
                        Image.fromarray(a).convert("RGBA").save(os.path.join(root, c, f"{i:04d}.png"))
                    else:
                        Image.fromarray(a).save(os.path.join(root, c, f"{i:04d}.jpg"), quality=80)
            """, arguments: [root.path, classes.joined(separator: ","), "\(perClass)", "\(seed)"])
    }

    /// The reference manifest of a local tree: relative path → [format, width, height, bytes, sha256].
    static func reference(_ root: URL) throws -> [String: [String]] {
        let out = try runPython("""
            import hashlib, json, os, sys
            from PIL import Image
            root = sys.argv[1]; ref = {}
            for d, _, fs in os.walk(root):
                for f in fs:
                    p = os.path.join(d, f); rel = os.path.relpath(p, root)
                    try:
                        with Image.open(p) as im: fmt, w, h = im.format.lower(), im.width, im.height
                    except Exception:
                        continue
                    data = open(p, "rb").read()
                    ref[rel] = [fmt, str(w), str(h), str(len(data)), hashlib.sha256(data).hexdigest()]
            print(json.dumps(ref))
            """, arguments: [root.path])
        return try JSONDecoder().decode([String: [String]].self, from: Data(out.utf8))
    }

    struct Summary: Decodable {
        var ingested: Int
        var already_present: Int
        var deduplicated: Int
        var invalid: Int
        var failed: Int
        var logical_bytes: Int64
        var saved_bytes: Int64
        struct Problem: Decodable { var path: String; var reason: String }
        var invalid_files: [Problem]
    }

    static func ingest(_ c: TestCluster, _ args: [String], expectStatus: Int32 = 0,
                       sourceLocation: SourceLocation = #_sourceLocation) async throws -> Summary {
        let r = try await c.run(["ingest"] + args + ["--json"], timeoutSeconds: 300)
        #expect(r.status == expectStatus, "hfs ingest \(args.joined(separator: " ")): \(r)", sourceLocation: sourceLocation)
        let line = try #require(r.stdoutText.split(separator: "\n").last, "no summary: \(r)", sourceLocation: sourceLocation)
        return try JSONDecoder().decode(Summary.self, from: Data(line.utf8))
    }

    static func manifest(_ c: TestCluster, _ dest: String) async throws -> [String: [String: Any]] {
        let text = try await c.ok(["dataset", "manifest", dest]).stdoutText
        var rows: [String: [String: Any]] = [:]
        for line in text.split(separator: "\n") {
            let row = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            rows[row["path"] as? String ?? ""] = row
        }
        return rows
    }

    @Test("a folder of classes: labels from folders, attributes and hashes equal Pillow/hashlib, invalid files reported")
    func folder() async throws {
        let c = try currentCluster()
        let dir = try c.localDir("ingest-folder")
        let src = dir.appendingPathComponent("photos")
        try Self.makeImageTree(src, classes: ["cat", "dog", "bird"], perClass: 40, seed: 1)
        let ref = try Self.reference(src)
        // Invalid files of each kind.
        try runPython("""
            import os, sys, zlib
            from PIL import Image
            root = sys.argv[1]
            open(os.path.join(root, "cat", "empty.jpg"), "wb").close()
            open(os.path.join(root, "dog", "noise.jpg"), "wb").write(os.urandom(3000))
            jpg = open(os.path.join(root, "cat", "0000.jpg"), "rb").read()
            open(os.path.join(root, "cat", "cut.jpg"), "wb").write(jpg[: len(jpg) * 2 // 3])
            png = bytearray(open(os.path.join(root, "bird", "0004.png"), "rb").read())
            i = png.index(b"IDAT") + 20; png[i] ^= 0xFF
            open(os.path.join(root, "bird", "badcrc.png"), "wb").write(png)
            Image.new("RGB", (8, 8)).save(os.path.join(root, "dog", "anim.gif"))
            """, arguments: [src.path])
        let s = try await Self.ingest(c, [src.path, "/ds/photos", "--labels", "dirs"])
        #expect(s.ingested == ref.count && s.failed == 0 && s.already_present == 0)
        #expect(s.invalid == 5)
        let reasons = Dictionary(uniqueKeysWithValues: s.invalid_files.map { (URL(fileURLWithPath: $0.path).lastPathComponent, $0.reason) })
        #expect(reasons["empty.jpg"]?.contains("empty") == true, "\(reasons)")
        #expect(reasons["noise.jpg"]?.contains("not an image") == true, "\(reasons)")
        #expect(reasons["cut.jpg"]?.contains("truncated") == true, "\(reasons)")
        #expect(reasons["badcrc.png"]?.contains("CRC") == true, "\(reasons)")
        #expect(reasons["anim.gif"]?.contains("unsupported") == true, "\(reasons)")

        let rows = try await Self.manifest(c, "/ds/photos")
        #expect(rows.count == ref.count)
        for (rel, want) in ref {
            let row = try #require(rows["/ds/photos/\(rel)"], "no manifest row for \(rel)")
            #expect(row["format"] as? String == want[0], "\(rel)")
            #expect((row["width"] as? Int).map(String.init) == want[1] && (row["height"] as? Int).map(String.init) == want[2], "\(rel)")
            #expect((row["bytes"] as? Int).map(String.init) == want[3], "\(rel)")
            #expect(row["sha256"] as? String == want[4], "\(rel)")
            #expect(row["label"] as? String == String(rel.split(separator: "/")[0]), "\(rel)")
        }
        // Bytes come back as they went in.
        for rel in ref.keys.sorted().prefix(5) {
            try await c.expectCat("/ds/photos/\(rel)", try Data(contentsOf: src.appendingPathComponent(rel)), rel)
        }
        let show = try JSONSerialization.jsonObject(with: try await c.ok(["dataset", "show", "--json", "/ds/photos"]).stdout) as? [String: Any]
        #expect(int64(show?["images"]) == Int64(ref.count))
        #expect((show?["classes"] as? [String: Any])?.count == 3)
        #expect(try await c.ok(["dataset", "ls"]).stdoutText.contains("/ds/photos"))

        // A rerun uploads nothing and ends with the same dataset.
        let again = try await Self.ingest(c, [src.path, "/ds/photos", "--labels", "dirs"])
        #expect(again.ingested == 0 && again.already_present == ref.count && again.failed == 0)
        #expect(try await Self.manifest(c, "/ds/photos").count == ref.count)

        // --keep-invalid stores them, flagged.
        let kept = try await Self.ingest(c, [src.path, "/ds/kept", "--labels", "dirs", "--keep-invalid"])
        #expect(kept.ingested == ref.count + 5 && kept.invalid == 5)
        let keptRows = try await Self.manifest(c, "/ds/kept")
        #expect(keptRows["/ds/kept/cat/cut.jpg"]?["format"] == nil)
        let keptShow = try JSONSerialization.jsonObject(with: try await c.ok(["dataset", "show", "--json", "/ds/kept"]).stdout) as? [String: Any]
        #expect(int64(keptShow?["invalid"]) == 5)
    }

    @Test("WebDataset shards by pattern (.tar and .tar.gz): .cls labels, sidecars kept; export reads back with webdataset")
    func shardsAndExport() async throws {
        let c = try currentCluster()
        let dir = try c.localDir("ingest-shards")
        try runPython("""
            import io, json, os, sys, tarfile, numpy as np
            from PIL import Image
            d = sys.argv[1]; rs = np.random.RandomState(5)
            for s in range(3):
                name = os.path.join(d, f"train-{s:04d}.tar" + (".gz" if s == 2 else ""))
                with tarfile.open(name, "w:gz" if s == 2 else "w", format=tarfile.GNU_FORMAT) as t:
                    for i in range(20):
                        key = f"s{s}/{i:05d}"
                        buf = io.BytesIO(); Image.fromarray((rs.rand(40, 60, 3) * 255).astype("uint8")).save(buf, "JPEG")
                        for ext, data in (("jpg", buf.getvalue()), ("cls", str(i % 4).encode()), ("json", json.dumps({"i": i}).encode())):
                            info = tarfile.TarInfo(f"{key}.{ext}"); info.size = len(data); t.addfile(info, io.BytesIO(data))
            """, arguments: [dir.path])
        // The pattern names .tar files; the gzip one is given on its own.
        let s = try await Self.ingest(c, [dir.path + "/train-{0000..0001}.tar", dir.path + "/train-0002.tar.gz", "/ds/wds"])
        #expect(s.ingested == 180 && s.invalid == 0 && s.failed == 0, "60 images with 2 sidecars each")
        let rows = try await Self.manifest(c, "/ds/wds")
        #expect(rows.count == 60)
        #expect(rows["/ds/wds/s2/00005.jpg"]?["label"] as? String == "1")
        try await c.expectCat("/ds/wds/s1/00003.json", Data(#"{"i": 3}"#.utf8))

        let out = dir.appendingPathComponent("export")
        try await c.ok(["dataset", "export", "/ds/wds", "--webdataset", out.path, "--shard-size", "100KiB", "--shuffle", "--seed", "7"])
        let read = try runPython("""
            import glob, json, sys, webdataset as wds
            shards = sorted(glob.glob(sys.argv[1] + "/shard-*.tar"))
            n, labels = 0, {}
            for sample in wds.WebDataset(shards, shardshuffle=False):
                meta = json.loads(sample["json"])
                assert sample["cls"].decode() == meta["label"], (sample["__key__"], meta)
                assert len(sample["jpg"]) == meta["bytes"]
                import hashlib; assert hashlib.sha256(sample["jpg"]).hexdigest() == meta["sha256"]
                n += 1
            print(len(shards), n)
            """, arguments: [out.path])
        let parts = read.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        #expect(parts.count == 2 && parts[0] > 1 && parts[1] == 60, "webdataset read \(read)")
    }

    @Test("a URL list served on 127.0.0.1, labels from a CSV, dedup of identical content")
    func urlsCSVAndDedup() async throws {
        let c = try currentCluster()
        let dir = try c.localDir("ingest-urls")
        let web = dir.appendingPathComponent("web")
        try Self.makeImageTree(web, classes: ["a", "b"], perClass: 10, seed: 9)
        let port = try freeLoopbackPorts(1)[0]
        let server = try ChildProcess(executable: "/usr/bin/env", arguments: ["python3", "-m", "http.server", "\(port)", "--bind", "127.0.0.1"],
                                      environment: ProcessInfo.processInfo.environment, cwd: web.path, stdin: nil,
                                      stdout: dir.appendingPathComponent("http.log").path, stderr: dir.appendingPathComponent("http.log").path)
        defer { server.terminate(graceSeconds: 2) }
        let names = (try FileManager.default.subpathsOfDirectory(atPath: web.path)).filter { $0.contains(".") }.sorted()
        let list = names.map { "http://127.0.0.1:\(port)/\($0)" } + ["# a comment", "", "http://127.0.0.1:\(port)/missing.jpg"]
        try list.joined(separator: "\n").write(to: dir.appendingPathComponent("urls.txt"), atomically: true, encoding: .utf8)
        let csv = "path,label\n" + names.map { "127.0.0.1/\($0),\($0.hasPrefix("a/") ? "alpha" : "beta")" }.joined(separator: "\n")
        try csv.write(to: dir.appendingPathComponent("labels.csv"), atomically: true, encoding: .utf8)
        try await waitFor("the HTTP server", seconds: 10) {
            (try? runPython("import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2).read()",
                            arguments: ["http://127.0.0.1:\(port)/\(names[0])"])) != nil
        }
        let s = try await Self.ingest(c, [dir.appendingPathComponent("urls.txt").path, "/ds/web", "--labels",
                                          dir.appendingPathComponent("labels.csv").path], expectStatus: 1)
        #expect(s.ingested == names.count && s.failed == 1, "the missing URL is the one failure")
        let rows = try await Self.manifest(c, "/ds/web")
        #expect(rows["/ds/web/127.0.0.1/a/0000.jpg"]?["label"] as? String == "alpha")
        #expect(rows["/ds/web/127.0.0.1/b/0001.jpg"]?["label"] as? String == "beta")

        // The same images again with --dedup: nothing stored twice, every path readable.
        let d = try await Self.ingest(c, [web.path, "/ds/dedup", "--dedup"])
        #expect(d.ingested == names.count && d.deduplicated == names.count && d.saved_bytes == d.logical_bytes)
        try await c.ok(["rm", "-r", "/ds/web"])
        for n in names.prefix(4) {
            try await c.expectCat("/ds/dedup/\(n)", try Data(contentsOf: web.appendingPathComponent(n)), "deduplicated \(n) after rm of the original")
        }
    }

    @Test("kill -9 of the CLI halfway, then a rerun: nothing missing, nothing twice, same bytes; a datanode dies during the rerun")
    func interrupted() async throws {
        let c = try currentCluster()
        let dir = try c.localDir("ingest-kill")
        let src = dir.appendingPathComponent("src")
        try Self.makeImageTree(src, classes: (0..<6).map { "c\($0)" }, perClass: 500, seed: 3)
        let ref = try Self.reference(src)
        // Kill the CLI after a delay; when it finished first (or had committed nothing yet), start
        // again on a fresh destination with another delay, so that the kill lands mid-ingest.
        var partial = 0
        var dest = ""
        for (attempt, delayMs) in [100, 200, 300, 450, 650, 900, 1300, 1900, 2800, 4000].enumerated() {
            dest = "/ds/kill\(attempt)"
            let log = dir.appendingPathComponent("cli\(attempt).log").path
            let cli = try ChildProcess(executable: c.hfs.url.path, arguments: ["ingest", src.path, dest, "--labels", "dirs", "--workers", "1"],
                                       environment: HFSExecutable.environment(["HFS_CONFIG": c.configPath]), cwd: c.root.path,
                                       stdin: nil, stdout: log, stderr: log)
            try await Task.sleep(for: .milliseconds(delayMs))
            kill(cli.pid, SIGKILL)
            _ = await cli.waitForExit(timeoutSeconds: 10)
            let r = try await c.run(["dataset", "manifest", dest])
            partial = r.status == 0 ? r.lines.count : 0
            if partial > 0 && partial < ref.count { break }
        }
        #expect(partial > 0 && partial < ref.count, "no attempt killed the CLI mid-ingest (\(partial) of \(ref.count)); the test proves nothing")

        // The rerun, with a datanode killed as it starts: it finishes on the survivors.
        c.kill9(c.datanodes[2].id)
        let s = try await Self.ingest(c, [src.path, dest, "--labels", "dirs"])
        // A commit in flight when the CLI died may land after `partial` was counted.
        #expect(s.already_present >= partial && s.already_present + s.ingested == ref.count && s.failed == 0,
                "partial \(partial): \(s.already_present) present + \(s.ingested) ingested of \(ref.count)")
        let rows = try await Self.manifest(c, dest)
        #expect(rows.count == ref.count)
        for (rel, want) in ref { #expect(rows["\(dest)/\(rel)"]?["sha256"] as? String == want[4], "\(rel)") }
        for rel in ref.keys.sorted().prefix(3) {
            try await c.expectCat("\(dest)/\(rel)", try Data(contentsOf: src.appendingPathComponent(rel)), rel)
        }
        try c.restart(c.datanodes[2].id)
        try await waitForLive(c, 3)
    }
}
