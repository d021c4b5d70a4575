import Cgroups
import Foundation
import Locking
import Testing

/// The id-to-path map over a directory tree shaped like a kubelet's cgroups. A directory's
/// inode number stands for the cgroup id, as it is one on cgroup v2; the tree is on tmpfs,
/// where `readdir` and `stat` give the same inode numbers.
@Suite struct CgroupPathsTests {
    final class Tree {
        let root: String
        init() throws {
            root = "/dev/shm/cgroup-paths-\(UUID().uuidString)"
            for path in Self.layout { try FileManager.default.createDirectory(atPath: root + path, withIntermediateDirectories: true) }
            // A file is not a cgroup.
            FileManager.default.createFile(atPath: root + "/system.slice/cgroup.procs", contents: Data())
        }
        deinit { try? FileManager.default.removeItem(atPath: root) }

        static let pod = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod3b1f5c2e_9d4a_4c1b_8f6e_2a7d9c0b1e44.slice"
        static let layout = [pod + "/cri-containerd-" + String(repeating: "a", count: 64) + ".scope", "/system.slice/ssh.service"]

        func id(_ path: String) throws -> UInt64 {
            UInt64(try #require(try FileManager.default.attributesOfItem(atPath: root + path)[.systemFileNumber] as? Int))
        }
    }

    final class FakeClock: Sendable {
        let now = Locked<UInt64>(1_000_000_000)
        func advance(seconds: UInt64) { now.withLock { $0 += seconds * 1_000_000_000 } }
    }

    @Test func everyCgroupIsNamedByOneWalk() throws {
        let tree = try Tree()
        let clock = FakeClock()
        let paths = CgroupPaths(mount: tree.root, clock: { clock.now.withLock { $0 } })
        let names = ["/", "/kubepods.slice", Tree.pod, Tree.layout[0], "/system.slice", "/system.slice/ssh.service"]
        let ids = try names.map { try tree.id($0 == "/" ? "" : $0) }
        let found = paths.paths(for: ids)
        #expect(ids.map { found[$0] } == names)
        #expect(paths.walks == 1)
        #expect(!paths.truncated)
        _ = paths.paths(for: ids)
        #expect(paths.walks == 1, "known ids need no walk")
    }

    @Test func anUnknownIdWalksAgainAtMostOncePerInterval() throws {
        let tree = try Tree()
        let clock = FakeClock()
        let paths = CgroupPaths(mount: tree.root, minimumRewalkNanoseconds: 10_000_000_000, clock: { clock.now.withLock { $0 } })
        let ssh = try tree.id("/system.slice/ssh.service")
        #expect(paths.paths(for: [ssh]) == [ssh: "/system.slice/ssh.service"])

        // A cgroup made after the walk: named once the interval has passed.
        try FileManager.default.createDirectory(atPath: tree.root + "/system.slice/cron.service", withIntermediateDirectories: false)
        let cron = try tree.id("/system.slice/cron.service")
        #expect(paths.paths(for: [ssh, cron]) == [ssh: "/system.slice/ssh.service"], "not before the interval")
        #expect(paths.walks == 1)
        clock.advance(seconds: 11)
        #expect(paths.paths(for: [ssh, cron]) == [ssh: "/system.slice/ssh.service", cron: "/system.slice/cron.service"])
        #expect(paths.walks == 2)

        // A cgroup removed: once walked again, its id names nothing.
        try FileManager.default.removeItem(atPath: tree.root + "/system.slice/cron.service")
        clock.advance(seconds: 11)
        #expect(paths.paths(for: [cron, 999_999_999]) == [:])
        #expect(paths.walks == 3)
        #expect(paths.paths(for: [cron]) == [:])
        #expect(paths.walks == 3, "a dead id does not make every refresh walk")
    }

    @Test func theWalkIsBounded() throws {
        let tree = try Tree()
        let few = CgroupPaths(mount: tree.root, maximumCgroups: 3, clock: { 0 })
        #expect(few.paths(for: [0]).isEmpty)
        #expect(few.truncated)
        let shallow = CgroupPaths(mount: tree.root, maximumDepth: 1, clock: { 0 })
        let found = shallow.paths(for: [try tree.id("/system.slice"), try tree.id("/system.slice/ssh.service")])
        #expect(found.values.sorted() == ["/system.slice"])
        #expect(shallow.truncated)
    }

    @Test func aMissingMountNamesNothing() {
        let paths = CgroupPaths(mount: "/nonexistent-cgroup-mount", clock: { 0 })
        #expect(paths.paths(for: [1]).isEmpty)
    }
}
