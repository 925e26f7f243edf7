import ArgumentParser
import Foundation
import HFSCore

/// `hfs`: one binary for the daemons, the local cluster and every client command.
struct HFS: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hfs",
        abstract: "A distributed block store for image datasets.",
        discussion: """
        Clients find the namenode from --namenode HOST:PORT, else $HFS_NAMENODE, else --config FILE, \
        else $HFS_CONFIG, else ./cluster.yaml. Remote paths are absolute.
        """,
        subcommands: [
            Put.self, Get.self, Cat.self, Ls.self, Mkdir.self, Rm.self, Mv.self, Stat.self, Du.self,
            Ingest.self, Dataset.self, Compute.self, Report.self, Fsck.self, Admin.self, Cluster.self, NamenodeDaemon.self,
            DatanodeDaemon.self,
        ])
}

@main
enum Main {
    static func main() async {
        Posix.keepFreedMemory()
        do {
            var command = try HFS.parseAsRoot()
            if var async = command as? AsyncParsableCommand {
                try await async.run()
            } else {
                try command.run()
            }
        } catch {
            fail(error)
        }
    }

    /// Every failure ends here: one line `hfs: error: ...` on stderr and a non-zero status;
    /// help and explicit exit codes pass through.
    static func fail(_ error: any Error) -> Never {
        if let e = error as? HFSError { die(e.message) }
        if let code = error as? ExitCode { exit(code.rawValue) }
        let code = HFS.exitCode(for: error)
        if code == .success { HFS.exit(withError: error) }
        if error is CleanExit { HFS.exit(withError: error) }
        let message = HFS.message(for: error)
        if message.isEmpty { exit(code.rawValue) }
        let first = message.split(separator: "\n").first.map(String.init) ?? message
        let trimmed = first.hasPrefix("Error: ") ? String(first.dropFirst(7)) : first
        let hint = code == .validationFailure ? " (see hfs --help)" : ""
        FileHandle.standardError.write(Data("hfs: error: \(trimmed)\(hint)\n".utf8))
        exit(code == .success ? 1 : code.rawValue)
    }

    static func die(_ message: String) -> Never {
        let line = message.replacingOccurrences(of: "\n", with: " ")
        FileHandle.standardError.write(Data("hfs: error: \(line)\n".utf8))
        exit(1)
    }
}
