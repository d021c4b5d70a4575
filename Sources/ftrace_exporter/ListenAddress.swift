#if canImport(Glibc)
import Glibc
#endif

/// Parses Prometheus-style listen addresses: `:9747`, `0.0.0.0:9747`, `127.0.0.1:0`, `[::1]:9747`.
struct ListenAddress: Equatable, CustomStringConvertible {
    var host: String
    var port: UInt16

    init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        var host = String(text[..<colon])
        guard let port = UInt16(text[text.index(after: colon)...]) else { return nil }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host.contains(":") && !text.hasPrefix("[") { return nil }
        self.host = host
        self.port = port
    }

    var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Whether two listeners would compete for one socket: the same port (0 picks a free one)
    /// on the same host, or on a wildcard host that takes every address.
    func overlaps(_ other: ListenAddress) -> Bool {
        guard port == other.port, port != 0 else { return false }
        let wildcards: Set<String> = ["", "0.0.0.0", "::"]
        return host == other.host || wildcards.contains(host) || wildcards.contains(other.host)
    }
}

extension ListenAddress {
    /// The address with its host name resolved, as Go's `net.Listen` (and so every Prometheus
    /// exporter) does: the first IPv4 address of the name, else its first IPv6 one. Numeric
    /// hosts and the empty host are kept. The error is the resolver's own words.
    func resolved() -> Result<ListenAddress, ResolutionFailure> {
        if host.isEmpty || Self.isNumeric(host) { return .success(self) }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_ADDRCONFIG
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &list)
        guard status == 0, let first = list else {
            return .failure(ResolutionFailure(host: host, reason: String(cString: gai_strerror(status))))
        }
        defer { freeaddrinfo(list) }
        var candidates: [String] = []
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let e = entry {
            if let text = Self.numericHost(e.pointee) {
                if e.pointee.ai_family == AF_INET { return .success(ListenAddress(host: text, port: port)) }
                candidates.append(text)
            }
            entry = e.pointee.ai_next
        }
        guard let v6 = candidates.first else { return .failure(ResolutionFailure(host: host, reason: "no IPv4 or IPv6 address")) }
        return .success(ListenAddress(host: v6, port: port))
    }

    struct ResolutionFailure: Error, CustomStringConvertible {
        var host: String
        var reason: String
        var description: String { "cannot resolve '\(host)': \(reason)" }
    }

    static func isNumeric(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }

    static func numericHost(_ info: addrinfo) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        guard getnameinfo(info.ai_addr, info.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
