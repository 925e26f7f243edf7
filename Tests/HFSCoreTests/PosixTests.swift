import Foundation
import HFSCore
import Testing

@Suite struct PosixTests {
    /// fallocate (KEEP_SIZE): the blocks are allocated, the size stays what it was, nothing is
    /// written.
    @Test func reserveTakesTheSpaceUpFront() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("hfs-reserve-\(UUID().uuidString)").path
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        try #require(fd >= 0)
        defer { close(fd); unlink(path) }
        let length: Int64 = 8 << 20
        guard Posix.reserve(fd, length: length) else {
            // Only a file system without fallocate may refuse (none here: /tmp is ext4 or tmpfs).
            #expect(errno == EOPNOTSUPP, "fallocate failed: \(String(cString: strerror(errno)))")
            return
        }
        var st = stat()
        #expect(fstat(fd, &st) == 0)
        #expect(st.st_size == 0)
        #expect(Int64(st.st_blocks) * 512 >= length)
    }

    @Test func reserveOfABadDescriptorFails() {
        #expect(!Posix.reserve(-1, length: 4096))
    }
}
