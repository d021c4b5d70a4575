import Platform

/// The filesystem a directory is on, from its statfs magic (`linux/magic.h`): the kernel's
/// tracefs is written to; anything else is a tree of captured files, only read.
public enum Filesystem {
    static let tracefsMagic: UInt64 = 0x7472_6163

    static let names: [UInt64: String] = [
        tracefsMagic: "tracefs", 0x6462_6720: "debugfs", 0x6265_6572: "sysfs", 0x9FA0: "proc",
        0xEF53: "ext2/ext3/ext4", 0x5846_5342: "xfs", 0x9123_683E: "btrfs", 0x0102_1994: "tmpfs",
        0x794C_7630: "overlayfs", 0x6969: "nfs", 0x2FC1_2FC1: "zfs", 0x6573_5546: "fuse",
        0x8584_58F6: "ramfs",
    ]

    /// The filesystem's name, or its magic number when it is not one of the usual ones.
    public static func name(of path: String) -> String {
        guard let magic = filesystemMagic(path) else { return "an unknown filesystem (statfs failed)" }
        return names[magic] ?? "a filesystem with magic 0x\(String(magic, radix: 16))"
    }

    public static func isTraceFS(_ path: String) -> Bool { filesystemMagic(path) == tracefsMagic }
}
