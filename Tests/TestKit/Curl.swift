import Foundation

/// What curl made of one request.
public struct CurlResult {
    public var exitCode: Int32
    public var httpCode: Int
    public var headers: String
    public var body: String
    public var stderr: String
    public var ok: Bool { exitCode == 0 && httpCode == 200 }
}

/// curl with `arguments` (the URL among them): the last response's headers, the body and the
/// status (from `-w`). A request that takes longer than `maxTime` seconds fails (exit code 28).
public func curl(_ arguments: [String], maxTime: Double = 10) throws -> CurlResult {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("curl-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let headerFile = dir.appendingPathComponent("headers").path
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
    process.arguments = ["-sS", "--max-time", "\(maxTime)", "-D", headerFile, "-w", "\n%{http_code}"] + arguments
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
