// Linux and glibc calls that Swift's Glibc module leaves out.
#include <features.h>
#if defined(__GLIBC__)
#include <malloc.h>
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

// fallocate(2) with FALLOC_FL_KEEP_SIZE: reserves [offset, offset + length) on disk without
// changing the file's size (and without writing zeros, unlike posix_fallocate's fallback).
// 0, or -1 with errno set.
static inline int hfs_fallocate_keep_size(int fd, long long offset, long long length) {
#if defined(__LP64__)
    return (int)syscall(SYS_fallocate, fd, 1 /* FALLOC_FL_KEEP_SIZE */, offset, length);
#else
    errno = ENOSYS;  // 64-bit offsets would need splitting into register pairs here
    return -1;
#endif
}
#endif
