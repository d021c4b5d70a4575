import Foundation

/// `htpasswd -nbBC cost user password`'s bcrypt hash (apache2-utils).
public func htpasswdHash(_ password: String, cost: Int = 5) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/htpasswd")
    process.arguments = ["-nbBC", "\(cost)", "user", password]
    let out = Pipe()
    process.standardOutput = out
    process.standardError = FileHandle.nullDevice
    try process.run()
    let line = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard process.terminationStatus == 0, let colon = line.firstIndex(of: ":") else {
        throw NSError(domain: "htpasswd", code: 1, userInfo: [NSLocalizedDescriptionKey: "htpasswd (apache2-utils) failed or is missing"])
    }
    return String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespacesAndNewlines)
}

/// A fresh directory holding copies of the test PKI's files (mode 0600) and `web.yml` with
/// `yaml` (mode `mode`); returns the path of web.yml.
public func writeWebConfig(_ yaml: String, mode: Int = 0o600) throws -> String {
    let pki = TestPKI.shared
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("web-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    for name in ["ca.crt", "server.crt", "server.key", "other-server.crt", "other-server.key", "stray.key", "client.crt", "client.key"] {
        let target = dir.appendingPathComponent(name).path
        try FileManager.default.copyItem(atPath: pki.path(name), toPath: target)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: target)
    }
    let file = dir.appendingPathComponent("web.yml").path
    try yaml.write(toFile: file, atomically: true, encoding: .utf8)
    try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: file)
    return file
}

/// A fresh temporary file holding `text`, with mode `mode`; returns its path.
public func writeTemporaryFile(_ text: String, mode: Int, prefix: String = "file") throws -> String {
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)").path
    try text.write(toFile: file, atomically: true, encoding: .utf8)
    try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: file)
    return file
}
