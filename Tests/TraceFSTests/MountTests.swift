import Foundation
import Testing
@testable import TraceFS

/// What only a real tracefs mount shows: the filesystem check that guards every write, and the
/// instance lock. The host's kernel is enough (hist triggers are not needed); where tracefs
/// cannot be mounted (no root, no CONFIG_TRACING) these tests say so and pass.
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

    @Test("a second lock on an instance is refused and names the holder; released, it can be taken again")
    func oneHolderPerInstance() throws {
        guard let mount = try TraceFSMount.make() else { return }
        defer { mount.remove() }
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

/// tracefs mounted on a fresh directory, for tests that need the kernel's filesystem.
struct TraceFSMount {
    let path: String

    /// nil, with the reason printed, where mounting is not possible here.
    static func make() throws -> TraceFSMount? {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tracefs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        if run(["/bin/mount", "-t", "tracefs", "nodev", dir.path]) != 0 {
            try? FileManager.default.removeItem(at: dir)
            print("tracefs cannot be mounted here (not root, or no CONFIG_TRACING): skipping what needs it")
            return nil
        }
        return TraceFSMount(path: dir.path)
    }

    func remove() {
        _ = Self.run(["/bin/umount", path])
        try? FileManager.default.removeItem(atPath: path)
    }

    static func run(_ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }
}
