import Foundation
import HFSCore
import Testing

@Suite struct PosixTests {
    /// fallocate: the space is taken (blocks allocated, size set), without a byte written.
    @Test func reserveTakesTheSpaceUpFront() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("hfs-reserve-\(UUID().uuidString)").path
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        try #require(fd >= 0)
        defer { close(fd); unlink(path) }
        let length: Int64 = 8 << 20
        #expect(Posix.reserve(fd, length: length))
        var st = stat()
        #expect(fstat(fd, &st) == 0)
        #expect(Int64(st.st_size) == length)
        #expect(Int64(st.st_blocks) * 512 >= length)
        // Reads back as zeros.
        var head = [UInt8](repeating: 1, count: 4096)
        #expect(head.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, 4096, 0) } == 4096)
        #expect(head.allSatisfy { $0 == 0 })
    }

    @Test func reserveOfABadDescriptorFails() {
        #expect(!Posix.reserve(-1, length: 4096))
    }
}
