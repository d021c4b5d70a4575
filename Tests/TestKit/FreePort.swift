#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A TCP port on 127.0.0.1 that was free a moment ago: for programs (Prometheus, a daemon started
/// through a shell) that cannot report the port the kernel chose for them, and for tests that
/// listen on one port again and again. It lies below the kernel's ephemeral range, where neither
/// a port-0 bind nor an outgoing connection of another test can take it while it is briefly free,
/// and it is never handed out twice in a process, so another test cannot be given it then either.
public func freePort() -> Int {
    let ephemeralStart = ephemeralRangeStart()
    let low = 10_000
    let high = max(low + 1000, ephemeralStart)
    for _ in 0..<200 {
        let candidate = Int.random(in: low..<high)
        if canBind(candidate) && handedOut.claim(candidate) { return candidate }
    }
    return kernelChosenPort()
}

/// The ports `freePort` has returned in this process.
final class HandedOutPorts: @unchecked Sendable {
    private var ports: Set<Int> = []
    private var mutex = pthread_mutex_t()

    init() { pthread_mutex_init(&mutex, nil) }

    func claim(_ port: Int) -> Bool {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return ports.insert(port).inserted
    }
}

let handedOut = HandedOutPorts()

func ephemeralRangeStart() -> Int {
    let fd = open("/proc/sys/net/ipv4/ip_local_port_range", O_RDONLY)
    guard fd >= 0 else { return 32768 }
    defer { close(fd) }
    var buffer = [UInt8](repeating: 0, count: 64)
    let n = read(fd, &buffer, buffer.count)
    guard n > 0 else { return 32768 }
    let text = String(decoding: buffer[..<n], as: UTF8.self)
    return Int(text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).first ?? "") ?? 32768
}

func canBind(_ port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var addr = loopback(port: port)
    return withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    } == 0
}

func kernelChosenPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = loopback(port: 0)
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
    _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
    return Int(UInt16(bigEndian: addr.sin_port))
}

func loopback(port: Int) -> sockaddr_in {
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = UInt16(port).bigEndian
    return addr
}
