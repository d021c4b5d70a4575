import Foundation
import HistFormat
import Testing
@testable import TraceFS

@Suite struct TraceFSTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/tracefs")

    func scratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tracefs-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func explicitPathMustBeATraceFSRoot() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(throws: TraceFSError(.notTraceFS(filesystem: Filesystem.name(of: dir.path)), path: dir.path)) { try TraceFS.locate(explicitPath: dir.path) }
        #expect(throws: TraceFSError(.notADirectory, path: "/etc/passwd")) { try TraceFS.locate(explicitPath: "/etc/passwd") }
        #expect(throws: TraceFSError(.system(errno: ENOENT), path: dir.path + "/missing")) {
            try TraceFS.locate(explicitPath: dir.path + "/missing")
        }
        let fixture = Self.fixtures.appendingPathComponent("02-synth-wakeup-lat-log2").path
        #expect(try TraceFS.locate(explicitPath: fixture).root == fixture)
    }

    @Test func tooLargeNamesTheBound() {
        #expect(TraceFSError(.tooLarge(limit: 1 << 20), path: "/dev/zero").description == "/dev/zero: larger than 1 MiB, the most the exporter reads of such a file")
    }

    @Test func autoDetectionFallsBackToProcMounts() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let mountPoint = dir.appendingPathComponent("trace fs")
        try FileManager.default.createDirectory(at: mountPoint.appendingPathComponent("events"), withIntermediateDirectories: true)
        let mounts = dir.appendingPathComponent("mounts")
        try "sysfs /sys sysfs rw 0 0\nnodev \(dir.path)/trace\\040fs tracefs rw,relatime 0 0\n".write(to: mounts, atomically: true, encoding: .utf8)
        let found = try TraceFS.locate(explicitPath: nil, candidates: [dir.path + "/nothing"], mounts: mounts.path)
        #expect(found.root == mountPoint.path)
    }

    @Test func nothingMountedIsAClearError() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let mounts = dir.appendingPathComponent("mounts")
        try "proc /proc proc rw 0 0\n".write(to: mounts, atomically: true, encoding: .utf8)
        do {
            _ = try TraceFS.locate(explicitPath: nil, candidates: [dir.path + "/a"], mounts: mounts.path)
            Issue.record("found a tracefs that is not there")
        } catch {
            #expect(error.description.contains("tracefs not found"))
            #expect(error.description.contains("mount -t tracefs"))
        }
    }

    @Test func readsFixtureTrees() throws {
        let fs = TraceFS(root: Self.fixtures.appendingPathComponent("40-instance-kmalloc").path)
        #expect(fs.instances() == [.named("foo")])
        let kmalloc = EventName(system: "kmem", event: "kmalloc")
        #expect(try fs.readHist(kmalloc, in: .topLevel).isEmpty)
        #expect(try !fs.readHist(kmalloc, in: .named("foo")).isEmpty)
        #expect(try fs.events(in: .named("foo")) == [kmalloc])
        let format = try fs.readFormat(kmalloc, in: .named("foo"))
        #expect(format.field(named: "call_site")?.isSigned == false)
        let features = fs.features()
        #expect(features.histTriggers && features.syntheticEvents && features.linearBuckets)
    }

    @Test func missingHistFileIsNotFound() throws {
        let fs = TraceFS(root: Self.fixtures.appendingPathComponent("no-hist-triggers").path)
        do {
            _ = try fs.readHist(EventName(system: "sched", event: "sched_switch"), in: .topLevel)
            Issue.record("read a hist file that does not exist")
        } catch {
            #expect(error.isNotFound)
            #expect(error.description.contains("ENOENT"))
        }
        #expect(!fs.features().histTriggers)
        #expect(!fs.features().syntheticEvents)
    }

    @Test func eventNames() {
        #expect(EventName("sched/sched_switch") == EventName(system: "sched", event: "sched_switch"))
        #expect(EventName("sched:sched_switch") == EventName(system: "sched", event: "sched_switch"))
        for bad in ["sched", "a/b/c", "/x", "x/", "../x/y", "a b/c"] { #expect(EventName(bad) == nil, "\(bad)") }
    }

    @Test func mountPathEscapes() {
        #expect(unescapeMountPath("/a\\040b\\011c") == "/a b\tc")
        #expect(unescapeMountPath("/plain") == "/plain")
    }

    /// The host's real tracefs (this machine's kernel has no hist triggers): reading it must
    /// say so rather than fail. Mounted at a scratch path when not mounted already.
    @Test func hostTraceFS() throws {
        let mounted = TraceFS.standardLocations.first { FileManager.default.fileExists(atPath: $0 + "/events") }
        var scratchMount: URL?
        if mounted == nil {
            let dir = try scratch()
            guard mount("nodev", dir.path, "tracefs", 0, nil) == 0 else {
                try? FileManager.default.removeItem(at: dir)
                #expect(getuid() != 0 || ProcessInfo.processInfo.environment["CI"] == nil, "cannot mount tracefs as root")
                return
            }
            scratchMount = dir
        }
        defer {
            if let scratchMount {
                umount(scratchMount.path)
                try? FileManager.default.removeItem(at: scratchMount)
            }
        }
        let fs = TraceFS(root: mounted ?? scratchMount!.path)
        #expect(try !fs.events(in: .topLevel).isEmpty)
        let features = fs.features()
        if !features.histTriggers {
            #expect(throws: TraceFSError.self) { try fs.readHist(EventName(system: "sched", event: "sched_switch"), in: .topLevel) }
        }
    }
}
