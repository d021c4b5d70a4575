import CMicroHTTPD

// GnuTLS calls shared by the TLS configuration checks and the running daemon.

func gnutlsError(_ code: Int32) -> String {
    String(cString: gnutls_strerror(code))
}

/// Runs `body` with a datum over `bytes` (not NUL-terminated; GnuTLS takes the size).
func withDatum<T>(_ bytes: [UInt8], _ body: (UnsafePointer<gnutls_datum_t>) -> T) -> T {
    bytes.withUnsafeBufferPointer { buffer in
        var datum = gnutls_datum_t(data: UnsafeMutablePointer(mutating: buffer.baseAddress), size: UInt32(buffer.count))
        return body(&datum)
    }
}

func withGnuTLSCredentials<T>(_ body: (gnutls_certificate_credentials_t?) -> T) throws(TLSConfigurationError) -> T {
    var credentials: gnutls_certificate_credentials_t?
    let allocated = gnutls_certificate_allocate_credentials(&credentials)
    if allocated < 0 { throw TLSConfigurationError(.certificate, "GnuTLS: \(gnutlsError(allocated))") }
    defer { gnutls_certificate_free_credentials(credentials) }
    return body(credentials)
}

func gnutls_free_function(_ pointer: UnsafeMutableRawPointer?) {
    CMicroHTTPD_gnutls_free(pointer)
}
