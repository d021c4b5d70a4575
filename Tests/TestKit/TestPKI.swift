import Foundation

/// Certificates made by openssl for the TLS tests, once per test process: a CA with a server
/// certificate for 127.0.0.1 and a client certificate, and a second, unrelated CA with its own
/// client certificate.
public final class TestPKI: Sendable {
    public static let shared: TestPKI = {
        do { return try TestPKI() } catch { fatalError("cannot make test certificates with openssl: \(error)") }
    }()

    public let dir: URL

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

    public func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
    public func bytes(_ name: String) -> [UInt8] { Array((try? Data(contentsOf: dir.appendingPathComponent(name))) ?? Data()) }

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
