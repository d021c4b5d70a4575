import CMicroHTTPD

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Heap bytes that never move, so libmicrohttpd can send straight from them. Every MHD_Response
/// made over them holds a retain that MHD drops (through the free callback) when its own
/// reference count reaches zero, so the bytes outlive any connection still sending them even
/// after the `SharedBody` is gone.
final class ByteStorage: @unchecked Sendable {
    let base: UnsafeMutableRawPointer
    let count: Int

    init(_ bytes: [UInt8]) {
        count = bytes.count
        base = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 16)
        bytes.withUnsafeBytes { source in
            if let from = source.baseAddress, !source.isEmpty {
                base.copyMemory(from: from, byteCount: source.count)
            }
        }
    }

    deinit { base.deallocate() }
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

private func sameHeaders(_ a: [(name: String, value: String)], _ b: [(name: String, value: String)]) -> Bool {
    guard a.count == b.count else { return false }
    for (x, y) in zip(a, b) where x.name != y.name || x.value != y.value {
        return false
    }
    return true
}
