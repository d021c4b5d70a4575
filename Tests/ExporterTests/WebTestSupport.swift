import Foundation

/// Certificates made by openssl for the TLS tests, once per test process: a CA with a server
/// certificate for 127.0.0.1 and a client certificate, and a second, unrelated CA with its own
/// client certificate.
final class TestPKI: Sendable {
    static let shared: TestPKI = {
        do { return try TestPKI() } catch { fatalError("cannot make test certificates with openssl: \(error)") }
    }()

    let dir: URL

    private init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("pki-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try makeCA("ca", "ftrace_exporter test CA")
        try makeCA("other-ca", "unrelated test CA")
        try makeLeaf("server", ca: "ca", subject: "127.0.0.1",
                     extensions: "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth")
        try makeLeaf("other-server", ca: "other-ca", subject: "127.0.0.1",
                     extensions: "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth")
        try makeLeaf("client", ca: "ca", subject: "scraper",
                     extensions: "subjectAltName=DNS:scraper.example,URI:spiffe://test/scraper,IP:10.0.0.7\nextendedKeyUsage=clientAuth")
        try makeLeaf("other-client", ca: "other-ca", subject: "scraper",
                     extensions: "subjectAltName=DNS:scraper.example,URI:spiffe://test/scraper\nextendedKeyUsage=clientAuth")
        try makeLeaf("server-purpose-client", ca: "ca", subject: "not-a-client",
                     extensions: "subjectAltName=DNS:scraper.example\nextendedKeyUsage=serverAuth")
        try openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-out", path("stray.key")])
    }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
    func bytes(_ name: String) -> [UInt8] { Array((try? Data(contentsOf: dir.appendingPathComponent(name))) ?? Data()) }

    private func makeCA(_ name: String, _ subject: String) throws {
        try openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                     "-keyout", path("\(name).key"), "-out", path("\(name).crt"), "-subj", "/CN=\(subject)", "-days", "3",
                     "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
    }

    private func makeLeaf(_ name: String, ca: String, subject: String, extensions: String) throws {
        try openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                     "-keyout", path("\(name).key"), "-out", path("\(name).csr"), "-subj", "/CN=\(subject)"])
        try (extensions + "\nbasicConstraints=CA:FALSE\n").write(toFile: path("\(name).ext"), atomically: true, encoding: .utf8)
        try openssl(["x509", "-req", "-in", path("\(name).csr"), "-CA", path("\(ca).crt"), "-CAkey", path("\(ca).key"),
                     "-CAcreateserial", "-out", path("\(name).crt"), "-days", "3", "-extfile", path("\(name).ext")])
    }

    private func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        let errors = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        if process.terminationStatus != 0 {
            throw NSError(domain: "openssl", code: Int(process.terminationStatus), userInfo: [NSLocalizedDescriptionKey: "openssl \(arguments.joined(separator: " ")): \(text)"])
        }
    }
}

/// What curl made of one request.
struct CurlResult {
    var exitCode: Int32
    var httpCode: Int
    var headers: String
    var body: String
    var stderr: String
    var ok: Bool { exitCode == 0 && httpCode == 200 }
}

/// curl with `arguments` (the URL among them): response headers, body and status.
func curlTLS(_ arguments: [String]) throws -> CurlResult {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("curl-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let headerFile = dir.appendingPathComponent("headers").path
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
    process.arguments = ["-sS", "--max-time", "10", "-D", headerFile, "-w", "\n%{http_code}"] + arguments
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    let errText = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    var text = String(decoding: data, as: UTF8.self)
    var code = 0
    if let newline = text.lastIndex(of: "\n") {
        code = Int(text[text.index(after: newline)...]) ?? 0
        text = String(text[..<newline])
    }
    let headers = (try? String(contentsOfFile: headerFile, encoding: .utf8)) ?? ""
    return CurlResult(exitCode: process.terminationStatus, httpCode: code, headers: headers, body: text, stderr: errText)
}

/// `htpasswd -nbBC cost user password`'s bcrypt hash (apache2-utils).
func htpasswdHash(_ password: String, cost: Int = 5) throws -> String {
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
func writeWebConfig(_ yaml: String, mode: Int = 0o600) throws -> String {
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
