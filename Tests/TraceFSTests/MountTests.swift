import Foundation
import Testing
import TestKit
@testable import TraceFS

/// What only a real tracefs mount shows: the filesystem check that guards every write, and the
/// instance lock. The host's kernel is enough (hist triggers are not needed); where tracefs
/// cannot be mounted (no root, no CONFIG_TRACING) the test that needs it is skipped.
@Suite(.serialized) struct MountTests {
    @Test("a tree of captured files is read but never written: every write is refused and the file is unchanged")
    func capturedTreeIsNeverWritten() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("captured-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let event = dir.appendingPathComponent("events/sched/sched_switch")
        try FileManager.default.createDirectory(at: event, withIntermediateDirectories: true)
        let trigger = event.appendingPathComponent("trigger")
        try Data("# Available triggers:\n".utf8).write(to: trigger)

        let fs = try TraceFS.locate(explicitPath: dir.path)
        let refusal = try #require(fs.writeRefusal)
        #expect(refusal.contains("not a tracefs mount") && refusal.contains("never writes"), "\(refusal)")
        #expect(throws: TraceFSError(.notAMount(filesystem: Filesystem.name(of: dir.path)), path: dir.path)) {
            try fs.append("events/sched/sched_switch/trigger", "hist:keys=cpu")
        }
        #expect(throws: TraceFSError.self) { try fs.makeDirectory("instances/x") }
        #expect(throws: TraceFSError.self) { try fs.truncate("events/sched/sched_switch/trigger") }
        #expect(String(decoding: try Data(contentsOf: trigger), as: UTF8.self) == "# Available triggers:\n")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("instances/x").path))
    }

    @Test("a second lock on an instance is refused and names the holder; released, it can be taken again",
          .enabled(if: ScratchTraceFS.canMount, "tracefs cannot be mounted here (not root, or no CONFIG_TRACING)"))
    func oneHolderPerInstance() throws {
        let mount = try ScratchTraceFS(ownMount: true)
        defer { mount.release() }
        let fs = try TraceFS.locate(explicitPath: mount.path)
        #expect(fs.writeRefusal == nil, "a tracefs mount is written to")

        let name = "lock-test-\(getpid())"
        var first: InstanceLock? = try InstanceLock.acquire(in: fs, instance: .named(name))
        #expect(FileManager.default.fileExists(atPath: mount.path + "/instances/\(name)"), "the instance is made to hold the lock")
        do {
            _ = try InstanceLock.acquire(in: fs, instance: .named(name))
            Issue.record("a second lock on the same instance was granted")
        } catch {
            guard case .held(let pid, let command) = error.kind else { Issue.record("\(error)"); return }
            #expect(pid == getpid())
            #expect(command?.isEmpty == false)
            #expect(error.description.contains("process \(getpid())") && error.description.contains("its own instance"), "\(error)")
        }
        // Another instance and the top level are other locks.
        let other = try InstanceLock.acquire(in: fs, instance: .named(name + "-other"))
        let top = try InstanceLock.acquire(in: fs, instance: .topLevel)
        withExtendedLifetime((other, top)) {}
        _ = first
        first = nil
        // Other tests in this process start programs, and a child holds a copy of every
        // descriptor, the lock's too, between its fork and its exec: allow that moment.
        var again: InstanceLock?
        for _ in 0..<100 where again == nil {
            again = try? InstanceLock.acquire(in: fs, instance: .named(name))
            if again == nil { usleep(10_000) }
        }
        #expect(again != nil, "released, the lock can be taken again")
        try fs.removeDirectory("instances/\(name)")
        try fs.removeDirectory("instances/\(name)-other")
    }

    @Test("/proc/locks: the holder of a flock on a file, waiters and other kinds left out")
    func lockTable() {
        let table = """
            1: POSIX  ADVISORY  WRITE 31508 fe:00:5350045 0 EOF
            2: FLOCK  ADVISORY  WRITE 1879 00:0d:1240346 0 EOF
            2: -> FLOCK  ADVISORY  WRITE 1900 00:0d:1240346 0 EOF
            3: FLOCK  ADVISORY  WRITE 77 00:0e:1240346 0 EOF
            """
        #expect(FileLockTable.flockHolder(of: FileIdentity(major: 0, minor: 0x0d, inode: 1240346), table: table) == 1879)
        #expect(FileLockTable.flockHolder(of: FileIdentity(major: 0, minor: 0x0e, inode: 1240346), table: table) == 77)
        #expect(FileLockTable.flockHolder(of: FileIdentity(major: 0xfe, minor: 0, inode: 5350045), table: table) == nil)
    }
}
