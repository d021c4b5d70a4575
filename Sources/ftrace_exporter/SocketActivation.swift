#if canImport(Glibc)
import Glibc
#endif

/// The listening sockets systemd hands a socket-activated service (`sd_listen_fds(3)`):
/// `LISTEN_FDS` descriptors from 3 on, meant for the process `LISTEN_PID` names.
enum SocketActivation {
    struct Listener {
        var descriptor: Int32
        /// Numeric, as the socket is bound: `0.0.0.0`, `::`, `127.0.0.1`.
        var host: String
        var port: UInt16
    }

    struct Problem: Error, CustomStringConvertible {
        var description: String
    }

    static let firstDescriptor: Int32 = 3
    /// More than this is not a unit of ours.
    static let mostDescriptors = 16

    /// The sockets, each checked to be a listening TCP socket; the variables are then unset so
    /// that nothing this process starts takes them for its own. An error names what is wrong.
    static func listeners() -> Result<[Listener], Problem> {
        defer {
            for name in ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"] { unsetenv(name) }
        }
        guard let pidText = getenv("LISTEN_PID").map({ String(cString: $0) }),
              let countText = getenv("LISTEN_FDS").map({ String(cString: $0) })
        else {
            return .failure(Problem(description: "no sockets were passed (LISTEN_PID and LISTEN_FDS are not set): start the exporter from its .socket unit, or without --web.systemd-socket"))
        }
        guard let pid = Int32(pidText), pid == getpid() else {
            return .failure(Problem(description: "LISTEN_PID is \(pidText), not this process (\(getpid())): the sockets were meant for another process"))
        }
        guard let count = Int32(countText), count >= 1, count <= mostDescriptors else {
            return .failure(Problem(description: "LISTEN_FDS must be a number from 1 to \(mostDescriptors) (got '\(countText)')"))
        }
        var listeners: [Listener] = []
        for descriptor in firstDescriptor..<(firstDescriptor + count) {
            switch listener(descriptor) {
            case .success(let listener): listeners.append(listener)
            case .failure(let problem): return .failure(Problem(description: "descriptor \(descriptor): \(problem)"))
            }
        }
        return .success(listeners)
    }

    private static func listener(_ descriptor: Int32) -> Result<Listener, Problem> {
        let flags = fcntl(descriptor, F_GETFD)
        guard flags >= 0 else { return .failure(Problem(description: "not open (\(String(cString: strerror(errno))))")) }
        _ = fcntl(descriptor, F_SETFD, flags | FD_CLOEXEC)
        func option(_ name: Int32) -> Int32? {
            var value: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            return getsockopt(descriptor, SOL_SOCKET, name, &value, &length) == 0 ? value : nil
        }
        guard option(SO_TYPE) == Int32(SOCK_STREAM.rawValue) else { return .failure(Problem(description: "not a stream socket (ListenStream= in the .socket unit)")) }
        guard option(SO_ACCEPTCONN) == 1 else { return .failure(Problem(description: "not listening")) }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard named == 0 else { return .failure(Problem(description: "getsockname: \(String(cString: strerror(errno)))")) }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        switch Int32(storage.ss_family) {
        case AF_INET:
            var address = withUnsafeBytes(of: storage) { $0.load(as: sockaddr_in.self) }
            inet_ntop(AF_INET, &address.sin_addr, &text, socklen_t(text.count))
            return .success(Listener(descriptor: descriptor, host: String(cString: text), port: UInt16(bigEndian: address.sin_port)))
        case AF_INET6:
            var address = withUnsafeBytes(of: storage) { $0.load(as: sockaddr_in6.self) }
            inet_ntop(AF_INET6, &address.sin6_addr, &text, socklen_t(text.count))
            return .success(Listener(descriptor: descriptor, host: String(cString: text), port: UInt16(bigEndian: address.sin6_port)))
        default:
            return .failure(Problem(description: "not an IPv4 or IPv6 socket (a Unix socket cannot serve Prometheus)"))
        }
    }
}
