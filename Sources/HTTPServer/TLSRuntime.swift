import CMicroHTTPD
import Locking

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The C strings libmicrohttpd is given for one daemon; they stay allocated until the daemon has
/// stopped, and the key's bytes are zeroed before they are freed.
final class TLSMaterial: @unchecked Sendable {
    let key: UnsafeMutablePointer<CChar>
    let certificate: UnsafeMutablePointer<CChar>
    let trust: UnsafeMutablePointer<CChar>?
    let priorities: UnsafeMutablePointer<CChar>
    let policy: ClientCertificatePolicy
    let allowedSANs: Set<String>?

    init(_ configuration: TLSConfiguration, priorities: String) {
        key = TLSMaterial.cString(configuration.privateKeyPEM)
        certificate = TLSMaterial.cString(configuration.certificatePEM)
        trust = configuration.clientCAsPEM.map(TLSMaterial.cString)
        self.priorities = TLSMaterial.cString(Array(priorities.utf8))
        policy = configuration.clientCertificates
        allowedSANs = configuration.allowedClientSANs.map(Set.init)
    }

    deinit {
        let length = strlen(key)
        explicit_bzero(key, length)
        free(key)
        free(certificate)
        free(trust)
        free(priorities)
    }

    private static func cString(_ bytes: [UInt8]) -> UnsafeMutablePointer<CChar> {
        let pointer = malloc(bytes.count + 1)!.assumingMemoryBound(to: CChar.self)
        bytes.withUnsafeBytes { raw in
            if let base = raw.baseAddress { memcpy(pointer, base, bytes.count) }
        }
        pointer[bytes.count] = 0
        return pointer
    }
}

/// One TLS connection's client-certificate verdict, shared by the handshake's verification
/// callback and the access handler (both run on the connection's thread).
final class TLSConnectionState {
    unowned let core: ServerCore
    let session: OpaquePointer
    let remoteAddress: String
    /// nil: not yet checked; "": accepted; otherwise why it was rejected.
    var rejection: String?

    init(core: ServerCore, session: OpaquePointer, remoteAddress: String) {
        self.core = core
        self.session = session
        self.remoteAddress = remoteAddress
    }

    /// Checks the peer's certificate once per connection; true when it is accepted.
    func check(session: OpaquePointer, material: TLSMaterial) -> Bool {
        if rejection == nil {
            rejection = evaluateClientCertificate(session: session, material: material) ?? ""
            if let reason = rejection, !reason.isEmpty {
                core.log("TLS client certificate rejected (client \(remoteAddress)): \(reason)")
            }
        }
        return rejection == ""
    }
}

/// GnuTLS' certificate verification callback has only the session to go on: the states of open
/// TLS connections are found here by session.
final class TLSSessionRegistry: @unchecked Sendable {
    private let lock = Lock()
    private var states: [UInt: TLSConnectionState] = [:]

    func insert(_ session: OpaquePointer, _ state: TLSConnectionState) {
        lock.withLock { states[UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(session)))] = state }
    }

    func remove(_ session: OpaquePointer, _ state: TLSConnectionState) {
        let key = UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(session)))
        lock.withLock {
            if states[key] === state { states[key] = nil }
        }
    }

    func state(for session: OpaquePointer) -> TLSConnectionState? {
        lock.withLock { states[UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(session)))] }
    }
}

let tlsSessions = TLSSessionRegistry()

/// Nil when the peer's certificate satisfies the policy, else the reason it does not.
func evaluateClientCertificate(session: OpaquePointer, material: TLSMaterial) -> String? {
    let policy = material.policy
    if !policy.requestsCertificate { return nil }
    let count = CMicroHTTPD_peer_certificate_count(session)
    if count == 0 {
        return policy.requiresCertificate ? "no client certificate (client_auth_type \(policy.rawValue))" : nil
    }
    if policy.verifiesCertificate {
        var status: UInt32 = 0
        let result = CMicroHTTPD_verify_client_certificate(session, &status)
        if result < 0 { return "cannot verify the client certificate: \(gnutlsError(result))" }
        if status != 0 { return "the client certificate does not verify against the client CAs: \(verificationText(status))" }
    }
    if let allowed = material.allowedSANs {
        let names = subjectAlternativeNames(session)
        if !names.contains(where: allowed.contains) {
            return "no subject alternative name of the client certificate is in client_allowed_sans (it has: \(names.isEmpty ? "none" : names.joined(separator: ", ")))"
        }
    }
    return nil
}

func subjectAlternativeNames(_ session: OpaquePointer) -> [String] {
    var names: [String] = []
    var buffer = [CChar](repeating: 0, count: 1100)
    var sequence: UInt32 = 0
    while sequence < 256 {
        let type = CMicroHTTPD_peer_subject_alt_name(session, sequence, &buffer, buffer.count)
        if type < 0 { break }
        if type > 0 { names.append(stringFromCBuffer(buffer)) }
        sequence += 1
    }
    return names
}

func verificationText(_ status: UInt32) -> String {
    var out = gnutls_datum_t()
    guard gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &out, 0) >= 0, let data = out.data else {
        return "status \(status)"
    }
    defer { gnutls_free_function(data) }
    return String(cString: UnsafeRawPointer(data).assumingMemoryBound(to: CChar.self))
}

/// GnuTLS calls this inside the handshake once the client's Certificate message is in; a
/// non-zero result aborts the handshake.
func tlsVerifyCallback(_ session: OpaquePointer?) -> Int32 {
    guard let session, let state = tlsSessions.state(for: session), let material = state.core.tls else {
        // A session this server did not register: refuse rather than guess.
        return -1
    }
    return state.check(session: session, material: material) ? 0 : -1
}
