// Linux and glibc calls that Swift's Glibc module leaves out.
#if defined(__linux__)
#include <malloc.h>
#include <sys/syscall.h>
#include <unistd.h>

// fallocate(2), mode 0: reserves [offset, offset + length) on disk (no zeros written, unlike
// posix_fallocate's fallback). 0, or -1 with errno set.
static inline int hfs_fallocate(int fd, long long offset, long long length) {
    return (int)syscall(SYS_fallocate, fd, 0, offset, length);
}
#endif
