#if canImport(Glibc)
import CLinux
import Glibc
#endif

/// The statfs magic (`f_type`, `linux/magic.h`) of the filesystem `path` is on; nil when statfs
/// fails. statvfs does not report it.
public func filesystemMagic(_ path: String) -> UInt64? {
    var info = statfs()
    guard statfs(path, &info) == 0 else { return nil }
    return UInt64(UInt(bitPattern: Int(info.f_type)))
}
