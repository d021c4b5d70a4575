#ifndef CLINUX_SHIM_H
#define CLINUX_SHIM_H

/*
 * Linux and glibc headers Swift's Glibc module leaves out: statfs(2), whose f_type names the
 * filesystem (TRACEFS_MAGIC), which statvfs does not; mallinfo2(3) and mallopt(3), for what the
 * allocator holds.
 */
#include <sys/vfs.h>
#include <malloc.h>

#endif
