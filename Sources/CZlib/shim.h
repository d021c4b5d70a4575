#ifndef CZLIB_SHIM_H
#define CZLIB_SHIM_H

#include <zlib.h>

/*
 * deflateInit2() is a function-like macro that passes ZLIB_VERSION and
 * sizeof(z_stream) to deflateInit2_(); Swift imports neither function-like
 * macros nor string macros as C strings, so this wrapper keeps the version
 * and structure-size check zlib relies on.
 */
static inline int CZlib_deflateInit2(z_streamp strm, int level, int method,
                                     int windowBits, int memLevel, int strategy) {
    return deflateInit2(strm, level, method, windowBits, memLevel, strategy);
}

#endif
