import Foundation
import HFSCore
import Testing

/// Everything that needs a running cluster: one cluster (namenode + 3 datanodes, replication 2,
/// 1 MiB blocks) is started for this suite and its nested suites, which run one test at a time.
/// Each test works under its own remote folder (`/rt`, `/ls`, …) and local folder, so the tests
/// do not depend on their order.
@Suite("hfs on a local cluster", .serialized, .hfsCluster, .timeLimit(.minutes(10)))
struct ClusterTests {}

// MARK: bytes in, same bytes out

extension ClusterTests {
    @Suite("put and get")
    struct RoundTrip {
        /// Empty, 1 byte, 100 KB, a file larger than block_size (3.5 MB, 1 MiB blocks), 5 MB.
        @Test("put then get returns the same bytes", arguments: [0, 1, 100_000, 3_500_000, 5_000_000])
        func roundTrip(size: Int) async throws {
            let c = try currentCluster()
            let dir = try c.localDir("rt-\(size)")
            let data = TestData.random(size, seed: UInt64(size) &+ 11)
            let src = dir.appendingPathComponent("in.bin"), out = dir.appendingPathComponent("out.bin")
            try TestData.write(data, to: src)
            try await c.ok(["mkdir", "-p", "/rt"])
            try await c.ok(["put", src.path, "/rt/f\(size)"])
            try await c.ok(["get", "/rt/f\(size)", out.path])
            let got = try #require(try? Data(contentsOf: out), "get wrote no \(out.path)")
            #expect(got.count == size)
            expectSameBytes(got, data, "put/get of \(size) bytes")
            let st = try await c.stat("/rt/f\(size)")
            #expect(st?.size == Int64(size))
        }

        /// Larger than both block_size and the small-file threshold (4 MiB), so it gets
        /// dedicated 1 MiB blocks: at least 3 of them.
        @Test("a file larger than block_size spans several blocks")
        func spansBlocks() async throws {
            let c = try currentCluster()
            let size = 4 * TestCluster.blockSizeBytes + 500_000
            let dir = try c.localDir("blocks")
            let data = TestData.random(size, seed: 41)
            try TestData.write(data, to: dir.appendingPathComponent("big.bin"))
            try await c.ok(["mkdir", "-p", "/blocks"])
            try await c.ok(["put", dir.appendingPathComponent("big.bin").path, "/blocks/big.bin"])
            let st = try #require(try await c.stat("/blocks/big.bin"))
            #expect(st.size == Int64(size))
            #expect(st.blocks.count >= 3, "a \(size)-byte file with 1 MiB blocks has \(st.blocks.count) blocks")
            #expect(Set(st.blocks.map(\.block)).count == st.blocks.count, "a block is listed twice")
            try await c.expectCat("/blocks/big.bin", data, "cat of a multi-block file")
        }

        /// `get` writes files of 64 MiB and more with O_DIRECT, an unaligned tail through the
        /// page cache; `--cache` takes the page cache for all of it. Same bytes either way.
        @Test("get of a 64 MiB file goes around the page cache (O_DIRECT), with --cache through it")
        func directGet() async throws {
            let c = try currentCluster()
            let size = Int(Limits.directWriteBytesMin) + 4_321
            let dir = try c.localDir("direct")
            let data = TestData.random(size, seed: 43)
            try await c.ok(["mkdir", "-p", "/direct"])
            try await c.put(data, as: "/direct/big.bin", in: dir, timeoutSeconds: 300)
            for cache in [false, true] {
                let out = dir.appendingPathComponent(cache ? "cached.bin" : "direct.bin")
                try await c.ok(["get"] + (cache ? ["--cache"] : []) + ["/direct/big.bin", out.path], timeoutSeconds: 300)
                // What the get left in the page cache, before reading the file back fills it.
                if !isTmpfs(dir.path), acceptsDirectIO(dir.path), let resident = residentFraction(out.path) {
                    if cache {
                        #expect(resident > 0.5, "get --cache left \(resident) of the file in the page cache")
                    } else {
                        #expect(resident < 0.05, "a direct get left \(resident) of the file in the page cache")
                    }
                }
                let got = try #require(try? Data(contentsOf: out), "get wrote no \(out.path)")
                expectSameBytes(got, data, "get\(cache ? " --cache" : "") of \(size) bytes")
            }
        }

        @Test("a tree of 1,000 small files: put dir /dst/, get /dst/dir out/")
        func thousandFiles() async throws {
            let c = try currentCluster()
            let dir = try c.localDir("tree")
            let tree = dir.appendingPathComponent("tree"), out = dir.appendingPathComponent("out")
            try TestData.tree(at: tree, files: 1000, subdirs: 10, maxBytes: 4000, seed: 1000)
            try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
            try await c.ok(["mkdir", "-p", "/tree"])
            try await c.ok(["put", tree.path, "/tree/"], timeoutSeconds: 300)
            let listed = try await c.lsJSON(["/tree/tree/d03"])
            #expect(listed.count == 100, "ls --json /tree/tree/d03 lists \(listed.count) of 100")
            try await c.ok(["get", "/tree/tree", out.path + "/"], timeoutSeconds: 300)
            let bad = TestData.expectSameTree(tree, out.appendingPathComponent("tree"))
            #expect(bad == 0)
            #expect(TestData.files(under: out.appendingPathComponent("tree")).count == 1000)
        }

        /// Batches larger than a block (16 MiB batches, 1 MiB blocks here): every append fills its
        /// block, so the batches in flight keep finding theirs full. Each must land on another
        /// block, not give up (3 of 3 such puts failed with "no packed block could take a batch"
        /// when a writer whose block was full was handed the pool's other, equally full, ones).
        @Test("small files in batches larger than a block: every batch finds a block")
        func batchesLargerThanABlock() async throws {
            let c = try currentCluster()
            let dir = try c.localDir("fullblocks")
            let tree = dir.appendingPathComponent("tree"), out = dir.appendingPathComponent("out")
            try TestData.tree(at: tree, files: 240, subdirs: 4, minBytes: 250_000, maxBytes: 300_000, seed: 240)
            for k in 1...2 { try await c.ok(["put", tree.path, "/fullblocks-\(k)"], timeoutSeconds: 300) }
            try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
            try await c.ok(["get", "/fullblocks-2", out.path + "/"], timeoutSeconds: 300)
            #expect(TestData.expectSameTree(tree, out.appendingPathComponent("fullblocks-2")) == 0)
        }

        /// What a tree holds besides plain files: empty directories (at any depth) are created,
        /// a symbolic link to a file is put as that file, and a link to a directory, a FIFO, or a
        /// remote file where the tree has a directory fails the put with one line naming it,
        /// before anything is stored.
        @Test("put of a tree: empty directories kept, links to files followed, links to directories and FIFOs refused")
        func treeWithEmptyDirectoriesAndLinks() async throws {
            let c = try currentCluster()
            let dir = try c.localDir("shapes")
            let tree = dir.appendingPathComponent("tree")
            let fm = FileManager.default
            for d in ["a/b/empty", "a/full", "e/f/g"] {
                try fm.createDirectory(at: tree.appendingPathComponent(d), withIntermediateDirectories: true)
            }
            try TestData.write(Data("inside\n".utf8), to: tree.appendingPathComponent("a/full/x.txt"))
            try TestData.write(Data("top\n".utf8), to: tree.appendingPathComponent("t.txt"))
            try fm.createSymbolicLink(atPath: tree.appendingPathComponent("a/link.txt").path, withDestinationPath: "../t.txt")
            try await c.ok(["put", tree.path, "/shapes"])
            let listed = try await c.lsJSON(["-R", "/shapes"])
            let kinds = Dictionary(uniqueKeysWithValues: listed.compactMap { e in (e["path"] as? String).map { ($0, e["type"] as? String ?? "?") } })
            #expect(kinds == ["/shapes/a": "directory", "/shapes/a/b": "directory", "/shapes/a/b/empty": "directory",
                              "/shapes/a/full": "directory", "/shapes/a/full/x.txt": "file", "/shapes/a/link.txt": "file",
                              "/shapes/e": "directory", "/shapes/e/f": "directory", "/shapes/e/f/g": "directory",
                              "/shapes/t.txt": "file"], "\(kinds)")
            #expect(try await c.ok(["cat", "/shapes/a/link.txt"]).stdoutText == "top\n")

            try fm.createSymbolicLink(atPath: tree.appendingPathComponent("e/dirlink").path, withDestinationPath: "../a")
            let linked = try await c.run(["put", tree.path, "/shapes-2"])
            expectCleanError(linked, "put of a tree holding a link to a directory")
            #expect(linked.stderr.contains("e/dirlink"), "\(linked.stderr)")
            try fm.removeItem(at: tree.appendingPathComponent("e/dirlink"))
            #expect(mkfifo(tree.appendingPathComponent("a/fifo").path, 0o600) == 0)
            let fifo = try await c.run(["put", tree.path, "/shapes-2"])
            expectCleanError(fifo, "put of a tree holding a FIFO")
            #expect(fifo.stderr.contains("a/fifo"), "\(fifo.stderr)")
            #expect(try await c.run(["stat", "/shapes-2"]).status != 0, "a refused put stored something")

            // A remote file where the tree has a directory holding files: refused before any byte is sent.
            try fm.removeItem(at: tree.appendingPathComponent("a/fifo"))
            try await c.ok(["mkdir", "-p", "/shapes-3/tree/a"])
            try await c.ok(["put", "-", "/shapes-3/tree/a/full"], stdin: Data("in the way".utf8))
            let blocked = try await c.run(["put", tree.path, "/shapes-3/"])
            expectCleanError(blocked, "put of a tree where a remote file stands for one of its directories")
            #expect(blocked.stderr.contains("/shapes-3/tree/a/full"), "\(blocked.stderr)")
            #expect(try await c.run(["stat", "/shapes-3/tree/t.txt"]).status != 0, "a refused put stored t.txt")
        }

        /// A pipe on stdin is spooled in $TMPDIR (so that a block can be sent again after a
        /// pipeline failure); without a usable $TMPDIR the put still works, and says what it lost.
        @Test("put - from a pipe: stored whole; with no usable TMPDIR, one warning and still stored")
        func stdinPipe() async throws {
            let c = try currentCluster()
            let dir = try c.localDir("pipe")
            let data = TestData.random(6_000_000, seed: 79)   // past the small-file size: dedicated blocks
            try await c.ok(["mkdir", "-p", "/pipe"])
            for (name, tmp) in [("spooled", dir.path), ("unspooled", dir.appendingPathComponent("missing").path)] {
                let fifo = dir.appendingPathComponent("fifo-\(name)").path
                try #require(mkfifo(fifo, 0o600) == 0)
                let put = Task { try await c.run(["put", "-", "/pipe/\(name)"], stdinPath: fifo, env: ["TMPDIR": tmp]) }
                try await feedFIFO(fifo, data, seconds: 60)
                let r = try await put.value
                #expect(r.status == 0, "put - from a pipe (\(name)): \(r)")
                let warned = r.stderr.contains("hfs: warning: ") && r.stderr.contains("spool")
                #expect(warned == (name == "unspooled"), "stderr of the \(name) put: \(r.stderr)")
                try await c.expectCat("/pipe/\(name)", data)
            }
        }

        @Test("put - reads stdin; cat writes the file to stdout")
        func stdinAndCat() async throws {
            let c = try currentCluster()
            let data = TestData.random(300_000, seed: 77)
            try await c.ok(["mkdir", "-p", "/stdin"])
            try await c.ok(["put", "-", "/stdin/x"], stdin: data)
            try await c.expectCat("/stdin/x", data, "cat of a file put from stdin")
            let text = Data("hello, hfs\n".utf8)
            try await c.ok(["put", "-", "/stdin/hello.txt"], stdin: text)
            try await c.expectCat("/stdin/hello.txt", text)
        }
    }
}

// MARK: replicas

extension ClusterTests {
    @Suite("replicas")
    struct Replicas {
        /// Per `stat --json`, every block has exactly `replication` replicas on distinct
        /// datanodes, and the block file is on disk in the data dir of exactly those datanodes.
        func expectPlacement(_ c: TestCluster, path: String, replication: Int,
                             sourceLocation: SourceLocation = #_sourceLocation) async throws {
            let st = try #require(try await c.stat(path, sourceLocation: sourceLocation), sourceLocation: sourceLocation)
            #expect(st.replication == replication, "\(path): replication", sourceLocation: sourceLocation)
            #expect(!st.blocks.isEmpty, "\(path): stat --json lists no blocks", sourceLocation: sourceLocation)
            let known = Set(c.datanodes.map(\.id))
            var onDisk: [String: Set<Int64>] = [:]
            for n in c.datanodes { onDisk[n.id] = c.blockIdsOnDisk(n) }
            for b in st.blocks {
                let ids = b.replicas.map(\.id)
                #expect(ids.count == replication && Set(ids).count == replication,
                        "\(path) block \(b.block): replicas \(ids), want \(replication) distinct", sourceLocation: sourceLocation)
                #expect(Set(ids).isSubset(of: known), "\(path) block \(b.block): unknown datanode in \(ids)", sourceLocation: sourceLocation)
                let holders = Set(c.datanodes.filter { onDisk[$0.id]?.contains(b.block) == true }.map(\.id))
                #expect(holders == Set(ids),
                        "\(path) block \(b.block): namenode says \(ids.sorted()), data dirs hold it on \(holders.sorted())",
                        sourceLocation: sourceLocation)
            }
        }

        @Test("every block has 2 replicas on distinct datanodes, as the datanodes' disks show")
        func replicationTwo() async throws {
            let c = try currentCluster()
            let dir = try c.localDir("rep")
            try TestData.write(TestData.random(4 * TestCluster.blockSizeBytes + 300_000, seed: 5), to: dir.appendingPathComponent("big"))
            try TestData.write(TestData.random(50_000, seed: 6), to: dir.appendingPathComponent("small"))
            try await c.ok(["mkdir", "-p", "/rep"])
            try await c.ok(["put", dir.appendingPathComponent("big").path, "/rep/big"])
            try await c.ok(["put", dir.appendingPathComponent("small").path, "/rep/small"])
            try await expectPlacement(c, path: "/rep/big", replication: 2)
            try await expectPlacement(c, path: "/rep/small", replication: 2)
        }

        @Test("put --replication 3 puts every block on all 3 datanodes")
        func replicationThree() async throws {
            let c = try currentCluster()
            let dir = try c.localDir("rep3")
            let big = TestData.random(4 * TestCluster.blockSizeBytes + 100_000, seed: 7)
            try TestData.write(big, to: dir.appendingPathComponent("big"))
            try TestData.write(TestData.random(20_000, seed: 8), to: dir.appendingPathComponent("small"))
            try await c.ok(["mkdir", "-p", "/rep3"])
            try await c.ok(["put", "--replication", "3", dir.appendingPathComponent("big").path, "/rep3/big"])
            try await c.ok(["put", "--replication", "3", dir.appendingPathComponent("small").path, "/rep3/small"])
            try await expectPlacement(c, path: "/rep3/big", replication: 3)
            try await expectPlacement(c, path: "/rep3/small", replication: 3)
            try await c.expectCat("/rep3/big", big)
        }
    }
}

// MARK: compression

extension ClusterTests {
    @Suite("codecs")
    struct Codecs {
        func putAndStat(_ c: TestCluster, _ data: Data, name: String, extraArgs: [String] = []) async throws -> StatJSON? {
            let dir = try c.localDir("codec-\(name)")
            let src = dir.appendingPathComponent(name)
            try TestData.write(data, to: src)
            try await c.ok(["mkdir", "-p", "/codec"])
            try await c.ok(["put"] + extraArgs + [src.path, "/codec/\(name)"])
            try await c.expectCat("/codec/\(name)", data)
            return try await c.stat("/codec/\(name)")
        }

        @Test("a PPM image is stored compressed (auto)")
        func ppmCompressed() async throws {
            let c = try currentCluster()
            let ppm = TestData.ppm()
            let st = try #require(try await putAndStat(c, ppm, name: "img.ppm"))
            #expect(st.size == Int64(ppm.count))
            #expect(st.storedSize < Int64(ppm.count) * 9 / 10, "PPM stored in \(st.storedSize) of \(ppm.count) bytes")
            #expect(st.codec == "auto", "stat reports the codec policy the file was written with")
        }

        /// Raw pixels with noise: lz4 over pixel deltas (lz4-delta) where plain lz4 saves little,
        /// for a packed (small) file and for a file of dedicated blocks alike. The same bytes not
        /// recognisable as a PPM go through plain lz4.
        @Test("a noisy PPM is stored with lz4-delta (auto and lz4), small and large", arguments: [(400, 400), (1400, 1100)])
        func noisyPPMStoredWithDeltas(width: Int, height: Int) async throws {
            let c = try currentCluster()
            let ppm = TestData.noisyPPM(width: width, height: height)
            let size = Int64(ppm.count)
            let auto = try #require(try await putAndStat(c, ppm, name: "noisy\(width).ppm"))
            let lz4 = try #require(try await putAndStat(c, ppm, name: "noisy\(width)-lz4.ppm", extraArgs: ["--codec", "lz4"]))
            var unknown = ppm
            unknown[1] = UInt8(ascii: "X")  // "PX": no longer a PPM
            let plain = try #require(try await putAndStat(c, unknown, name: "noisy\(width).bin", extraArgs: ["--codec", "lz4"]))
            #expect(auto.storedSize < size * 6 / 10, "auto: stored \(auto.storedSize) of \(size)")
            #expect(lz4.storedSize == auto.storedSize, "--codec lz4 on a PPM: stored \(lz4.storedSize), auto \(auto.storedSize)")
            #expect(plain.storedSize > size * 8 / 10, "plain lz4: stored \(plain.storedSize) of \(size)")
        }

        @Test("a JPEG is stored as it is (auto): stored size within 1% above its size")
        func jpegAsIs() async throws {
            let c = try currentCluster()
            let jpeg = TestData.jpegLike(200_000)
            let st = try #require(try await putAndStat(c, jpeg, name: "photo.jpg"))
            let size = Int64(jpeg.count)
            #expect(st.size == size)
            #expect(st.storedSize >= size && st.storedSize <= size + size / 100,
                    "JPEG of \(size) bytes stored in \(st.storedSize) (compressed, or padded by more than 1%)")
        }

        @Test("--codec none stores as is; --codec zlib compresses")
        func explicitCodecs() async throws {
            let c = try currentCluster()
            let ppm = TestData.ppm(width: 320, height: 240)
            let size = Int64(ppm.count)
            let none = try #require(try await putAndStat(c, ppm, name: "none.ppm", extraArgs: ["--codec", "none"]))
            #expect(none.storedSize >= size, "--codec none: stored \(none.storedSize) of \(size)")
            #expect(none.codec == "none")
            let zlib = try #require(try await putAndStat(c, ppm, name: "zlib.ppm", extraArgs: ["--codec", "zlib"]))
            #expect(zlib.storedSize < size / 2, "--codec zlib: stored \(zlib.storedSize) of \(size)")
            #expect(zlib.codec == "zlib")
        }

        @Test("random data is not inflated by more than 1%")
        func randomNotInflated() async throws {
            let c = try currentCluster()
            let data = TestData.random(2_500_000, seed: 99)
            let st = try #require(try await putAndStat(c, data, name: "random.bin"))
            let size = Int64(data.count)
            #expect(st.storedSize >= size && st.storedSize <= size + size / 100, "stored \(st.storedSize) of \(size)")
        }
    }
}

/// Whether `path` lies on a tmpfs (where O_DIRECT may be refused and every page is resident).
func isTmpfs(_ path: String) -> Bool {
    // The mount with the longest mount point that contains `path`, from /proc/self/mounts.
    let mounts = (try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8)) ?? ""
    let real = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
    var best = (point: "", type: "")
    for line in mounts.split(separator: "\n") {
        let f = line.split(separator: " ")
        guard f.count >= 3 else { continue }
        let point = String(f[1])
        let within = point == "/" || real == point || real.hasPrefix(point + "/")
        if within && point.count >= best.point.count { best = (point, String(f[2])) }
    }
    return best.type == "tmpfs"
}

/// The fraction of `path`'s pages in the page cache (mincore of a mapping that touches nothing),
/// or nil when it cannot be told.
func residentFraction(_ path: String) -> Double? {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0, st.st_size > 0 else { return nil }
    let length = Int(st.st_size)
    guard let map = mmap(nil, length, PROT_READ, MAP_SHARED, fd, 0), map != MAP_FAILED else { return nil }
    defer { munmap(map, length) }
    let page = Int(sysconf(Int32(_SC_PAGESIZE)))
    var vec = [UInt8](repeating: 0, count: (length + page - 1) / page)
    guard mincore(map, length, &vec) == 0 else { return nil }
    return Double(vec.filter { $0 & 1 != 0 }.count) / Double(vec.count)
}

/// Whether a file in `dir` can be opened with O_DIRECT.
func acceptsDirectIO(_ dir: String) -> Bool {
    guard Posix.oDirect != 0 else { return false }
    let probe = dir + "/.direct-probe"
    let fd = open(probe, O_WRONLY | O_CREAT | Posix.oDirect, 0o600)
    defer { unlink(probe) }
    guard fd >= 0 else { return false }
    close(fd)
    return true
}
