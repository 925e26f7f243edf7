import Foundation
import HFSCore
import Testing

// ls, stat, du, mv, rm, overwrite and cp -r semantics against the suite's cluster.
extension ClusterTests {
    @Suite("namespace")
    struct Namespace {
        /// /ls/a.bin (1234 B), /ls/b.bin (10 B), /ls/sub/c.bin (5 B).
        func makeLsTree(_ c: TestCluster) async throws {
            let dir = try c.localDir("ls")
            try TestData.write(TestData.random(1234, seed: 1), to: dir.appendingPathComponent("a.bin"))
            try TestData.write(TestData.random(10, seed: 2), to: dir.appendingPathComponent("b.bin"))
            try TestData.write(TestData.random(5, seed: 3), to: dir.appendingPathComponent("c.bin"))
            try await c.ok(["mkdir", "-p", "/ls/sub"])
            try await c.ok(["put", dir.appendingPathComponent("a.bin").path, dir.appendingPathComponent("b.bin").path, "/ls/"])
            try await c.ok(["put", dir.appendingPathComponent("c.bin").path, "/ls/sub/c.bin"])
        }

        /// The last path component of each listed line (a name or a path, last on its line).
        func names(_ r: CLIResult) -> Set<String> {
            Set(r.lines.filter { !$0.hasPrefix("Found ") }.compactMap { line in
                line.split(separator: " ").last.map { String($0.split(separator: "/").last ?? $0) }
            })
        }

        @Test("ls, ls -l, ls -R, ls --json")
        func ls() async throws {
            let c = try currentCluster()
            try await makeLsTree(c)

            let plain = try await c.ok(["ls", "/ls"])
            #expect(names(plain) == ["a.bin", "b.bin", "sub"], "ls /ls: \(plain.lines)")
            let top = try await c.ok(["ls"])
            #expect(names(top).contains("ls"), "ls with no path lists /: \(top.lines)")

            let long = try await c.ok(["ls", "-l", "/ls"]).lines
            let fileLine = #/^-[rwx-]{9} +2 /#, dirLine = #/^d[rwx-]{9} +- /#, date = #/\d{4}-\d{2}-\d{2} \d{2}:\d{2}/#
            let a = long.first { $0.hasSuffix("a.bin") }, sub = long.first { $0.hasSuffix("sub") }
            #expect(a?.contains(fileLine) == true, "ls -l file line: \(a ?? "missing") in \(long)")
            #expect(a?.contains(date) == true, "ls -l file line has no yyyy-MM-dd HH:mm: \(a ?? "missing")")
            #expect(a?.split(separator: " ").contains("1234") == true, "ls -l shows the size: \(a ?? "missing")")
            #expect(long.first { $0.hasSuffix("b.bin") }?.contains(fileLine) == true, "ls -l: \(long)")
            #expect(sub?.contains(dirLine) == true, "ls -l directory line: \(sub ?? "missing") in \(long)")

            let recursive = try await c.ok(["ls", "-R", "/ls"]).lines
            #expect(recursive.contains { $0.hasSuffix("c.bin") }, "ls -R /ls does not reach sub/c.bin: \(recursive)")
            #expect(recursive.contains { $0.hasSuffix("a.bin") })

            let json = try await c.lsJSON(["/ls"])
            #expect(json.count == 3, "ls --json /ls: \(json)")
            for obj in json {
                for key in ["path", "type", "size", "replication", "mtime"] {
                    #expect(obj[key] != nil, "ls --json entry without \(key): \(obj)")
                }
            }
            let aj = json.first { ($0["path"] as? String) == "/ls/a.bin" }
            #expect(aj != nil, "ls --json has no path /ls/a.bin: \(json)")
            #expect(aj?["type"] as? String == "file")
            #expect(int64(aj?["size"]) == 1234)
            #expect(int64(aj?["replication"]) == 2)
            let now = Date().timeIntervalSince1970
            let mtime = (aj?["mtime"] as? Double) ?? int64(aj?["mtime"]).map(Double.init) ?? 0
            #expect(abs(mtime - now) < 86_400, "mtime \(mtime) is not seconds since 1970 near now")
            #expect(json.first { ($0["path"] as? String) == "/ls/sub" }?["type"] as? String == "directory")

            expectCleanError(try await c.run(["ls", "/ls/nope"]), "ls of a missing path")
        }

        @Test("stat and stat --json")
        func stat() async throws {
            let c = try currentCluster()
            let dir = try c.localDir("stat")
            let data = TestData.random(100_000, seed: 12)
            try TestData.write(data, to: dir.appendingPathComponent("f"))
            try await c.ok(["mkdir", "-p", "/st"])
            try await c.ok(["put", dir.appendingPathComponent("f").path, "/st/f"])
            let st = try #require(try await c.stat("/st/f"))
            #expect(st.size == 100_000)
            #expect(st.replication == 2)
            #expect(st.codec != nil)
            #expect(st.storedSize >= 100_000 && st.storedSize <= 101_000, "random bytes stored in \(st.storedSize)")
            #expect(!st.blocks.isEmpty)
            let text = try await c.ok(["stat", "/st/f"])
            #expect(text.stdoutText.contains("100000"), "stat shows the size: \(text.stdoutText)")
            try await c.ok(["stat", "/st"])
            expectCleanError(try await c.run(["stat", "/st/nope"]), "stat of a missing path")
        }

        @Test("du -s: logical and stored bytes")
        func du() async throws {
            let c = try currentCluster()
            let dir = try c.localDir("du")
            let a = TestData.random(100_000, seed: 21), ppm = TestData.ppm(), small = TestData.random(10, seed: 22)
            try TestData.write(a, to: dir.appendingPathComponent("a"))
            try TestData.write(ppm, to: dir.appendingPathComponent("img.ppm"))
            try TestData.write(small, to: dir.appendingPathComponent("c"))
            try await c.ok(["mkdir", "-p", "/du/sub"])
            try await c.ok(["put", dir.appendingPathComponent("a").path, dir.appendingPathComponent("img.ppm").path, "/du/"])
            try await c.ok(["put", dir.appendingPathComponent("c").path, "/du/sub/c"])
            let logical = Int64(a.count + ppm.count + small.count)

            let text = try await c.ok(["du", "-s", "/du"])
            let tokens = text.stdoutText.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).map(String.init)
            #expect(tokens.contains(String(logical)), "du -s /du does not show \(logical) logical bytes: \(text.stdoutText)")
            #expect(tokens.last?.hasSuffix("/du") == true, "du -s /du ends with the path: \(text.stdoutText)")

            let json = try await c.run(["du", "-s", "--json", "/du"])
            if json.status == 0 {
                let du = try JSONDecoder().decode(DuResponse.self, from: json.stdout)
                #expect(du.logicalBytes == logical)
                #expect(du.files == 3)
                #expect(du.storedBytes > 0 && du.storedBytes < logical, "the PPM compresses: stored \(du.storedBytes) of \(logical)")
                #expect(du.rawBytes == 2 * du.storedBytes, "replication 2: raw \(du.rawBytes), stored \(du.storedBytes)")
            } else {
                // No --json for du: the text must show a stored total below the logical one.
                let numbers = tokens.compactMap { Int64($0) }
                #expect(numbers.contains { $0 > 0 && $0 < logical }, "du -s shows no stored bytes below \(logical): \(text.stdoutText)")
            }
        }

        @Test("mv of a directory of 200 files, mv of a file")
        func mv() async throws {
            let c = try currentCluster()
            let dir = try c.localDir("mv")
            let src = dir.appendingPathComponent("src"), out = dir.appendingPathComponent("out")
            try TestData.tree(at: src, files: 200, subdirs: 0, maxBytes: 2000, seed: 200)
            try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
            try await c.ok(["mkdir", "-p", "/mv"])
            try await c.ok(["put", src.path, "/mv/src"])
            #expect(try await c.lsJSON(["/mv/src"]).count == 200)
            try await c.ok(["mv", "/mv/src", "/mv/dst"])
            #expect(try await c.lsJSON(["/mv/dst"]).count == 200)
            expectCleanError(try await c.run(["ls", "/mv/src"]), "ls of the old name after mv")
            try await c.ok(["get", "/mv/dst", out.path])
            #expect(TestData.expectSameTree(src, out.appendingPathComponent("dst")) == 0)

            let f = TestData.random(3000, seed: 201)
            try await c.ok(["put", "-", "/mv/f1"], stdin: f)
            try await c.ok(["mv", "/mv/f1", "/mv/f2"])
            try await c.expectCat("/mv/f2", f)
            expectCleanError(try await c.run(["cat", "/mv/f1"]), "cat of a moved file's old name")
        }

        @Test("rm of a file; rm of a non-empty directory needs -r")
        func rm() async throws {
            let c = try currentCluster()
            try await c.ok(["mkdir", "-p", "/rm/d"])
            for name in ["/rm/d/a", "/rm/d/b", "/rm/file"] {
                try await c.ok(["put", "-", name], stdin: TestData.random(500, seed: 31))
            }
            try await c.ok(["rm", "/rm/file"])
            expectCleanError(try await c.run(["stat", "/rm/file"]), "stat of a removed file")
            expectCleanError(try await c.run(["rm", "/rm/d"]), "rm of a non-empty directory without -r")
            #expect(try await c.lsJSON(["/rm/d"]).count == 2, "a failed rm removed something")
            try await c.ok(["rm", "-r", "/rm/d"])
            expectCleanError(try await c.run(["ls", "/rm/d"]), "ls after rm -r")
            expectCleanError(try await c.run(["rm", "/rm/nope"]), "rm of a missing path")
        }

        @Test("put over an existing file needs -f")
        func overwrite() async throws {
            let c = try currentCluster()
            let first = TestData.random(1000, seed: 41), second = TestData.random(2500, seed: 42)
            try await c.ok(["mkdir", "-p", "/ow"])
            try await c.ok(["put", "-", "/ow/x"], stdin: first)
            expectCleanError(try await c.run(["put", "-", "/ow/x"], stdin: second), "put over an existing file without -f")
            try await c.expectCat("/ow/x", first, "a refused put must not change the file")
            try await c.ok(["put", "-f", "-", "/ow/x"], stdin: second)
            try await c.expectCat("/ow/x", second, "put -f replaces the file")
            #expect(try await c.stat("/ow/x")?.size == 2500)
        }

        @Test("put and get follow cp -r: into an existing directory, or to a new name")
        func cpSemantics() async throws {
            let c = try currentCluster()
            let dir = try c.localDir("cp")
            let src = dir.appendingPathComponent("src")
            let f1 = Data("one\n".utf8), f2 = Data("two\n".utf8)
            try TestData.write(f1, to: src.appendingPathComponent("f1.txt"))
            try TestData.write(f2, to: src.appendingPathComponent("sub/f2.txt"))
            try await c.ok(["mkdir", "-p", "/cp/existing"])

            try await c.ok(["put", src.path, "/cp/existing"])
            try await c.expectCat("/cp/existing/src/f1.txt", f1)
            try await c.expectCat("/cp/existing/src/sub/f2.txt", f2)

            try await c.ok(["put", src.path, "/cp/newname"])
            try await c.expectCat("/cp/newname/f1.txt", f1)
            try await c.expectCat("/cp/newname/sub/f2.txt", f2)
            expectCleanError(try await c.run(["stat", "/cp/newname/src"]), "put to a new name nested the source")

            try await c.ok(["put", src.appendingPathComponent("f1.txt").path, "/cp/existing"])
            try await c.expectCat("/cp/existing/f1.txt", f1, "a file put into a directory keeps its name")

            let into = dir.appendingPathComponent("into"), fresh = dir.appendingPathComponent("fresh")
            try FileManager.default.createDirectory(at: into, withIntermediateDirectories: true)
            try await c.ok(["get", "/cp/newname", into.path])
            #expect(TestData.expectSameTree(src, into.appendingPathComponent("newname")) == 0)
            try await c.ok(["get", "/cp/newname", fresh.path])
            #expect(TestData.expectSameTree(src, fresh) == 0)
            try await c.ok(["get", "/cp/newname/f1.txt", into.path])
            expectSameBytes(try? Data(contentsOf: into.appendingPathComponent("f1.txt")), f1, "a file got into a directory keeps its name")
        }
    }
}
