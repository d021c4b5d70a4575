#ifndef CLINUX_SHIM_H
#define CLINUX_SHIM_H

/*
 * statfs(2), whose f_type names the filesystem (TRACEFS_MAGIC): Swift's Glibc module has
 * statvfs, which does not.
 */
#include <sys/vfs.h>

#endif
