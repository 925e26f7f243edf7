import ArgumentParser
import Foundation
import HFSClient
import HFSCore
import HFSIngest

struct Ingest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Ingest an image dataset from folders, tar shards or URL lists, without mounting anything.",
        discussion: """
        SOURCE is a directory tree (class/image.jpg), a .tar or .tar.gz archive (streamed, never \
        extracted; WebDataset samples keep their .cls/.txt/.json sidecars, .cls is the label), a \
        shard pattern such as 'shards/train-{0000..0099}.tar', or a text file (.txt, .list) of \
        local paths and http(s) URLs, one per line. SOURCE/<relative path> (or <path inside the \
        archive>, or host/path for a URL) is stored at DEST/<relative path>; several sources merge \
        under DEST, which becomes a dataset (hfs dataset ls).

        Every image is checked from its header (format, width, height, channels; truncated JPEGs \
        and PNGs with a bad CRC are invalid) and hashed (SHA-256). Invalid files are reported and \
        skipped (stored and flagged with --keep-invalid). A rerun skips files already committed \
        with the same content, so an interrupted ingest is finished by running it again. Exit \
        status 1 when some file failed (invalid images alone do not fail the run).
        """)

    @OptionGroup var client: ClientOptions
    @Option(name: .long, help: "dirs (the first folder is the class), none (default) or a CSV file of path,label.")
    var labels = "none"
    @Option(name: .long, help: "Only files matching these globs, comma separated (e.g. '*.jpg,*.png'; case-insensitive).")
    var include: String?
    @Option(name: .long, help: "Files read, checked and hashed at once (and URLs fetched at once).") var workers = 4
    @Option(name: .long, help: "auto (default: see hfs put --help), none, lz4 or zlib.") var codec: String?
    @Option(name: .long, help: "Replicas per block (default: the cluster's replication).") var replication: Int?
    @Flag(name: .long, help: "Store identical content once; every path refers to it.") var dedup = false
    @Flag(name: .long, help: "Store invalid images too, flagged with the reason.") var keepInvalid = false
    @Flag(name: .long, help: "Print the summary as JSON on stdout.") var json = false
    @Argument(help: "SOURCE... DEST") var paths: [String] = []

    func validate() throws {
        guard paths.count >= 2 else { throw ValidationError("ingest needs at least one SOURCE and a DEST") }
        try validateWriteOptions(codec: codec, replication: replication)
        guard (1...256).contains(workers) else { throw ValidationError("--workers must be in 1...256") }
    }

    func run() async throws {
        let dest = try remotePath(paths.last!)
        var options = IngestOptions()
        options.labels = try LabelSource.parse(labels)
        options.include = try include.map { try GlobFilter($0) }
        options.workers = workers
        options.keepInvalid = keepInvalid
        options.write = IngestWriteOptions(replication: replication, codec: codec.flatMap(CodecPolicy.init(rawValue:)), dedup: dedup)
        let summary = try await client.withClient { c in
            try await Ingester(client: c, options: options, progress: IngestProgress()).run(sources: Array(paths.dropLast()), dest: dest)
        }
        if json {
            out(try jsonLine(summary))
        } else {
            let rate = fixed(Double(summary.ingested + summary.alreadyPresent) / max(summary.seconds, 0.001), 0)
            out("ingested \(summary.ingested) files (\(Units.human(summary.logicalBytes)), stored \(Units.human(summary.storedBytes))) "
                + "in \(fixed(summary.seconds, 1)) s, \(rate) files/s; \(summary.alreadyPresent) already present, "
                + "\(summary.deduplicated) deduplicated (\(Units.human(summary.savedBytes)) saved), \(summary.invalid) invalid, \(summary.failed) failed")
        }
        if summary.failed > 0 {
            throw HFSError(.io, "\(summary.failed) file(s) failed (first: \(summary.failures[0].path): \(summary.failures[0].reason)); run the same ingest again to retry them")
        }
    }
}

struct Dataset: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Datasets written by hfs ingest: list, summarize, manifest, export.",
        subcommands: [DatasetLs.self, DatasetShow.self, DatasetManifest.self, DatasetExport.self])
}

struct DatasetLs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List datasets with image counts and bytes.")
    @OptionGroup var client: ClientOptions
    @Flag(name: .long, help: "One JSON object per dataset.") var json = false

    func run() async throws {
        let all = try await client.withClient { try await $0.datasets() }
        for d in all {
            if json { out(try jsonLine(d)) } else {
                out("\(d.path)\t\(d.images) images\t\(d.classes.count) classes\t\(Units.human(d.logicalBytes))\tstored \(Units.human(d.storedBytes))")
            }
        }
    }
}

struct DatasetShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Image count, bytes, classes, formats and size distribution of a dataset (from metadata; no block is read).")
    @OptionGroup var client: ClientOptions
    @Flag(name: .long, help: "Print JSON.") var json = false
    @Argument(help: "DEST") var path: String

    func run() async throws {
        let p = try remotePath(path)
        let s = try await client.withClient { try await $0.datasetSummary(p) }
        if json { out(try jsonLine(s)); return }
        out("dataset \(s.path)")
        out("images   \(s.images) (+\(s.invalid) invalid, flagged)")
        out("bytes    \(Units.human(s.logicalBytes)) logical, \(Units.human(s.storedBytes)) stored per replica")
        out("formats  " + s.formats.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        out("classes  \(s.classes.count)" + (s.classes.isEmpty ? "" : ": " + s.classes.sorted { $0.key < $1.key }.prefix(50)
            .map { "\($0.key) \($0.value)" }.joined(separator: ", ") + (s.classes.count > 50 ? ", ..." : "")))
        for (name, d) in [("width", s.width), ("height", s.height)] {
            guard let d else { continue }
            out("\(name.padding(toLength: 8, withPad: " ", startingAt: 0)) min \(d.min), p25 \(d.p25), median \(d.median), p75 \(d.p75), max \(d.max), mean \(fixed(d.mean, 1))")
        }
    }
}

struct DatasetManifest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "manifest",
        abstract: "One row per image: path, label, format, width, height, bytes, sha256.")
    @OptionGroup var client: ClientOptions
    @Option(name: .long, help: "jsonl (default) or csv.") var format = "jsonl"
    @Argument(help: "DEST") var path: String

    func validate() throws {
        guard ["jsonl", "csv"].contains(format) else { throw ValidationError("--format must be jsonl or csv") }
    }

    func run() async throws {
        let p = try remotePath(path)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let stdout = FileHandle.standardOutput
        if format == "csv" { stdout.write(Data("path,label,format,width,height,bytes,sha256\n".utf8)) }
        try await client.withClient { c in
            var after: String?
            repeat {
                let page = try await c.manifest(p, after: after)
                var text = ""
                for r in page.rows {
                    if format == "csv" {
                        text += [r.path, r.label ?? "", r.format ?? "", r.width.map(String.init) ?? "", r.height.map(String.init) ?? "",
                                 "\(r.bytes)", r.sha256].map(csvField).joined(separator: ",") + "\n"
                    } else {
                        text += String(decoding: try encoder.encode(r), as: UTF8.self) + "\n"
                    }
                }
                stdout.write(Data(text.utf8))
                after = page.next
            } while after != nil
        }
    }

    private func csvField(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
            ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }
}

struct DatasetExport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a dataset as WebDataset tar shards (image + .cls + .json per sample) to a local folder.")
    @OptionGroup var client: ClientOptions
    @Option(name: .long, help: "Output folder for shard-000000.tar, ...") var webdataset: String
    @Option(name: .long, help: "Start a new shard once one holds this much (e.g. 256MiB).") var shardSize = "256MiB"
    @Flag(name: .long, help: "Shuffle samples (with --seed).") var shuffle = false
    @Option(name: .long, help: "Seed of the shuffle (default 0).") var seed: UInt64 = 0
    @Argument(help: "DEST") var path: String

    func run() async throws {
        let p = try remotePath(path)
        guard let bytes = Units.parseBytes(shardSize), bytes > 0 else { throw HFSError.invalid("--shard-size '\(shardSize)' is not a size such as 256MiB") }
        let r = try await client.withClient { c in
            try await WebDatasetExport(client: c, dataset: p, outDir: webdataset, shardBytes: bytes, shuffleSeed: shuffle ? seed : nil).run()
        }
        out("exported \(r.samples) samples to \(r.shards.count) shard(s) in \(webdataset) (\(Units.human(r.bytes)))")
    }
}

/// `value` with `digits` decimals.
func fixed(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }
