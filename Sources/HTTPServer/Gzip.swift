import CZlib

/// gzip compression for response bodies.
public enum Gzip {
    /// Compresses `bytes` into a complete gzip member (RFC 1952 framing, via zlib's
    /// deflateInit2 with windowBits 15+16). `level` is clamped to zlib's 0...9 (or -1, the default).
    public static func compress(_ bytes: [UInt8], level: Int32 = 6) -> [UInt8] {
        let level = level == Z_DEFAULT_COMPRESSION ? level : min(max(level, 0), 9)
        var stream = z_stream()
        let initialized = CZlib_deflateInit2(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY)
        // Only an allocation failure can get here with valid parameters.
        precondition(initialized == Z_OK, "zlib deflateInit2 failed (\(initialized))")
        defer { deflateEnd(&stream) }

        // deflateBound accounts for the gzip wrapper, so one pass normally suffices.
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(bytes.count))))
        var produced = 0
        var input = bytes
        input.withUnsafeMutableBufferPointer { inBuffer in
            stream.next_in = inBuffer.baseAddress
            stream.avail_in = uInt(inBuffer.count)
            while true {
                if produced == output.count {
                    output.append(contentsOf: repeatElement(0, count: max(output.count / 2, 64)))
                }
                let status: Int32 = output.withUnsafeMutableBufferPointer { outBuffer in
                    stream.next_out = outBuffer.baseAddress! + produced
                    stream.avail_out = uInt(outBuffer.count - produced)
                    let status = deflate(&stream, Z_FINISH)
                    produced = outBuffer.count - Int(stream.avail_out)
                    return status
                }
                if status == Z_STREAM_END { break }
                precondition(status == Z_OK || status == Z_BUF_ERROR, "zlib deflate failed (\(status))")
            }
        }
        output.removeSubrange(produced...)
        return output
    }
}

/// Whether an `Accept-Encoding` header value allows a gzip-coded response.
///
/// q-values are honoured: an explicit `gzip` (or `x-gzip`) entry decides, so `gzip;q=0` forbids
/// it; otherwise a `*` entry decides; otherwise, including when the header is absent, the answer
/// is no, as servers conventionally send identity to clients that did not ask.
public func acceptsGzip(_ acceptEncoding: String?) -> Bool {
    guard let acceptEncoding else { return false }
    var gzip: Double?
    var any: Double?
    for element in acceptEncoding.split(separator: ",") {
        let parts = element.split(separator: ";")
        guard let first = parts.first else { continue }
        let coding = asciiLowercased(String(trimmingOWS(first)))
        var quality = 1.0
        for parameter in parts.dropFirst() {
            let parameter = trimmingOWS(parameter)
            guard let equals = parameter.firstIndex(of: "=") else { continue }
            let name = asciiLowercased(String(trimmingOWS(parameter[..<equals])))
            if name == "q" {
                // A malformed q-value is treated as "not acceptable" rather than guessed at.
                quality = Double(String(trimmingOWS(parameter[parameter.index(after: equals)...]))) ?? 0
            }
        }
        switch coding {
        case "gzip", "x-gzip": if gzip == nil { gzip = quality }
        case "*": if any == nil { any = quality }
        default: break
        }
    }
    if let gzip { return gzip > 0 }
    if let any { return any > 0 }
    return false
}
