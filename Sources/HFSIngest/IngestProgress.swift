import Foundation

/// Progress of an ingest on stderr: on a terminal one live line (files/s, MB/s, done/total, ETA)
/// redrawn a few times a second; otherwise a plain line every few seconds. Thread-safe.
public final class IngestProgress: @unchecked Sendable {
    private let lock = NSLock()
    private let isTerminal: Bool
    private let quiet: Bool
    private let start = Date()
    private var lastPrint = Date()
    private var files = 0
    private var bytes: Int64 = 0
    private var lineShown = false
    /// Files to ingest when known up front (directories and lists; not archives).
    public var total: Int? {
        get { lock.withLock { _total } }
        set { lock.withLock { _total = newValue } }
    }
    private var _total: Int?

    /// `quiet`: no progress lines (messages about single files are still printed).
    public init(quiet: Bool = false) {
        isTerminal = isatty(STDERR_FILENO) == 1
        self.quiet = quiet
    }

    public func add(files n: Int, bytes b: Int64) {
        lock.withLock {
            files += n
            bytes += b
            let interval = isTerminal ? 0.2 : 5.0
            if !quiet, Date().timeIntervalSince(lastPrint) >= interval { draw() }
        }
    }

    /// A line about one file (an invalid image, a failure), printed above the live line.
    public func message(_ text: String) {
        lock.withLock {
            if lineShown { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)); lineShown = false }
            FileHandle.standardError.write(Data("hfs ingest: \(text)\n".utf8))
        }
    }

    public func finish() {
        lock.withLock {
            if lineShown { FileHandle.standardError.write(Data("\n".utf8)); lineShown = false }
        }
    }

    /// Call with the lock held.
    private func draw() {
        lastPrint = Date()
        let seconds = max(lastPrint.timeIntervalSince(start), 0.001)
        let rate = Double(files) / seconds
        var line = "ingest: \(files)"
        if let t = _total { line += "/\(t)" }
        line += String(format: " files, %.0f files/s, %.1f MB/s", rate, Double(bytes) / 1e6 / seconds)
        if let t = _total, rate > 0, t > files { line += String(format: ", ETA %.0f s", Double(t - files) / rate) }
        if isTerminal {
            FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8))
            lineShown = true
        } else {
            FileHandle.standardError.write(Data("\(line)\n".utf8))
        }
    }
}
