import CMicroHTTPD
import Locking

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Bytes that never move, so libmicrohttpd can send straight from them. Every MHD_Response
/// made over them holds a retain that MHD drops (through the free callback) when its own
/// reference count reaches zero, so the bytes outlive any connection still sending them even
/// after the `SharedBody` is gone.
///
/// From `fileBackedMinimum` bytes on they live in an anonymous memory file mapped into the
/// process: responses are then made over a descriptor of that file, which lets libmicrohttpd
/// send them with sendfile(2) instead of copying them through the socket per request (over TLS
/// it reads them from the file). The mapping and every descriptor share the same pages.
final class ByteStorage: @unchecked Sendable {
    static let fileBackedMinimum = 64 << 10

    let base: UnsafeMutableRawPointer
    let count: Int
    /// The memory file holding the bytes, or -1 when they are on the heap.
    let fileDescriptor: Int32

    init(_ bytes: [UInt8]) {
        count = bytes.count
        if bytes.count >= Self.fileBackedMinimum, let (fd, mapped) = Self.mapMemoryFile(size: bytes.count) {
            fileDescriptor = fd
            base = mapped
        } else {
            fileDescriptor = -1
            base = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 16)
        }
        bytes.withUnsafeBytes { source in
            if let from = source.baseAddress, !source.isEmpty {
                base.copyMemory(from: from, byteCount: source.count)
            }
        }
    }

    deinit {
        if fileDescriptor >= 0 {
            munmap(base, count)
            close(fileDescriptor)
        } else {
            base.deallocate()
        }
    }

    var isFileBacked: Bool { fileDescriptor >= 0 }

    /// A memory file of `size` bytes mapped shared, or nil (then the heap is used).
    private static func mapMemoryFile(size: Int) -> (Int32, UnsafeMutableRawPointer)? {
        let fd = CMicroHTTPD_memory_file("ftrace_exporter-body")
        guard fd >= 0 else { return nil }
        guard ftruncate(fd, off_t(size)) == 0,
            let mapped = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), mapped != MAP_FAILED
        else {
            close(fd)
            return nil
        }
        return (fd, mapped)
    }
}

/// Bytes prepared once and served to many requests without copying.
///
/// Inside is a cached, reference-counted `MHD_Response` over the bytes: every request that
/// returns this body re-queues the same response object, and libmicrohttpd sends from the same
/// memory. The cached response is destroyed when this object is deinitialised; connections still
/// sending it keep it (and the bytes) alive until they finish.
///
/// Header fields belong to the MHD_Response, so one response is cached per distinct header list
/// (a few at most); a response whose headers are not cached is still sent from the same memory,
/// only its small response object is made for that request.
public final class SharedBody: @unchecked Sendable {
    let storage: ByteStorage
    private let lock = Lock()
    private var cache: [(headers: [(name: String, value: String)], response: OpaquePointer)] = []
    private var created = 0

    /// How many distinct header lists keep a cached response; beyond this a per-request response
    /// object is made, so a caller varying headers cannot grow the cache without bound.
    static let cacheLimit = 4

    /// Copies `bytes` once into memory owned by this object.
    public init(_ bytes: [UInt8]) {
        storage = ByteStorage(bytes)
    }

    deinit {
        for entry in cache {
            MHD_destroy_response(entry.response)
        }
    }

    /// The number of bytes.
    public var count: Int { storage.count }

    /// True when the bytes are in a memory file that responses are sent from with sendfile(2).
    public var isFileBacked: Bool { storage.isFileBacked }

    /// A copy of the bytes.
    public var bytes: [UInt8] {
        Array(UnsafeRawBufferPointer(start: storage.base, count: storage.count))
    }

    /// How many MHD_Response objects were made over these bytes (one per cached header list
    /// unless the cache overflowed); tests use it to show that requests share one response.
    var responsesCreated: Int { lock.withLock { created } }

    /// A response to queue with these headers. `owned` is true when the caller must call
    /// MHD_destroy_response after queueing (the response was not cached).
    func mhdResponse(
        headers: [(name: String, value: String)],
        addHeaders: (OpaquePointer, [(name: String, value: String)]) -> Void
    ) -> (response: OpaquePointer, owned: Bool)? {
        lock.withLock {
            if let hit = cache.first(where: { sameHeaders($0.headers, headers) }) {
                return (hit.response, false)
            }
            guard let response = makeResponse() else { return nil }
            created += 1
            addHeaders(response, headers)
            if cache.count < SharedBody.cacheLimit {
                cache.append((headers, response))
                return (response, false)
            }
            return (response, true)
        }
    }
}

extension SharedBody {
    /// Over a descriptor of the memory file when there is one (libmicrohttpd closes it with the
    /// response), over the mapped bytes otherwise.
    fileprivate func makeResponse() -> OpaquePointer? {
        if storage.isFileBacked {
            let fd = dup(storage.fileDescriptor)
            if fd >= 0 {
                if let response = MHD_create_response_from_fd64(UInt64(storage.count), fd) { return response }
                close(fd)
            }
        }
        let retained = Unmanaged.passRetained(storage)
        guard
            let response = MHD_create_response_from_buffer_with_free_callback_cls(
                storage.count, storage.base,
                { cls in
                    if let cls { Unmanaged<ByteStorage>.fromOpaque(cls).release() }
                },
                retained.toOpaque()
            )
        else {
            retained.release()
            return nil
        }
        return response
    }
}

private func sameHeaders(_ a: [(name: String, value: String)], _ b: [(name: String, value: String)]) -> Bool {
    guard a.count == b.count else { return false }
    for (x, y) in zip(a, b) where x.name != y.name || x.value != y.value {
        return false
    }
    return true
}
