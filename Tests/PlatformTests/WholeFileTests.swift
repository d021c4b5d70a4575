import Foundation
import Platform
import Testing

@Suite struct WholeFileTests {
    func scratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("whole-file-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Every read has a bound: a file past it is refused after reading one byte more than the
    /// bound, an endless one (`/dev/zero`) included.
    @Test func readsStopAtTheirBound() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("f")
        for (size, limit) in [(4096, 4096), (4097, 4096), (100_000, 4096), (0, 10), (700, 511), (70_000, 1 << 20)] {
            try Data(repeating: 0x61, count: size).write(to: file)
            if size <= limit {
                #expect(try WholeFile.read(file.path, limit: limit).count == size)
                #expect(try WholeFile.readWithOwnership(file.path, limit: limit).bytes.count == size)
            } else {
                #expect(throws: FileReadError.tooLarge(limit: limit)) { try WholeFile.read(file.path, limit: limit) }
                #expect(throws: FileReadError.tooLarge(limit: limit)) { try WholeFile.readWithOwnership(file.path, limit: limit) }
            }
        }
        #expect(throws: FileReadError.tooLarge(limit: 1 << 20)) { try WholeFile.read("/dev/zero", limit: 1 << 20) }
        #expect(throws: FileReadError.system(errno: ENOENT)) { try WholeFile.read(dir.path + "/missing", limit: 10) }
    }

    /// Generated files report size 0 to stat; they are read to their end all the same.
    @Test func procfsFilesAreReadToTheirEnd() throws {
        let status = try WholeFile.read("/proc/self/status", sizeHint: 16, limit: 1 << 20)
        #expect(String(decoding: status, as: UTF8.self).contains("VmRSS:"))
        #expect(try WholeFile.readWithOwnership("/proc/self/status", limit: 1 << 20).isRegular)
    }

    /// The mode and owner are those of the descriptor read; a directory is reported, not read.
    @Test func ownershipComesWithTheBytes() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("secret")
        try Data("token\n".utf8).write(to: file)
        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: file.path)
        let read = try WholeFile.readWithOwnership(file.path, limit: 64)
        #expect(read.bytes == Array("token\n".utf8))
        #expect(read.mode & 0o777 == 0o640)
        #expect(read.owner == geteuid())
        let directory = try WholeFile.readWithOwnership(dir.path, limit: 64)
        #expect(!directory.isRegular && directory.bytes.isEmpty)
    }
}
