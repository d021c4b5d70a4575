#ifndef CMICROHTTPD_SHIM_H
#define CMICROHTTPD_SHIM_H

/* microhttpd.h expects these to be included before it. */
#include <sys/types.h>
#include <sys/socket.h>
#include <stdarg.h>
#include <stdint.h>
#include <microhttpd.h>
#include <string.h>
#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <gnutls/crypto.h>

/*
 * MHD_start_daemon() is variadic and Swift cannot call C variadic functions.
 * Every option is passed as one MHD_OPTION_ARRAY (terminated by
 * MHD_OPTION_END), so a fixed-arity wrapper covers all of them.
 */
static inline struct MHD_Daemon *
CMicroHTTPD_start_daemon(unsigned int flags, uint16_t port,
                         MHD_AcceptPolicyCallback accept_policy, void *accept_policy_cls,
                         MHD_AccessHandlerCallback handler, void *handler_cls,
                         struct MHD_OptionItem *options) {
    return MHD_start_daemon(flags, port, accept_policy, accept_policy_cls,
                            handler, handler_cls,
                            MHD_OPTION_ARRAY, options, MHD_OPTION_END);
}

/*
 * An anonymous memory file (memfd_create, close-on-exec), or -1 with errno.
 * Declared here because the C library's declaration needs _GNU_SOURCE.
 */
extern int memfd_create(const char *name, unsigned int flags);
static inline int
CMicroHTTPD_memory_file(const char *name) {
    return memfd_create(name, 1U /* MFD_CLOEXEC */);
}

/*
 * MHD_get_daemon_info() is variadic. The port is asked for after start so
 * that port 0 (kernel's choice) reports the port really bound; 0 means
 * unknown.
 */
static inline uint16_t
CMicroHTTPD_daemon_bind_port(struct MHD_Daemon *daemon) {
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info == NULL ? 0 : info->port;
}

/*
 * MHD_get_connection_info() is variadic. Returns the peer's socket address
 * (sockaddr_in or sockaddr_in6) or NULL.
 */
static inline const struct sockaddr *
CMicroHTTPD_connection_client_address(struct MHD_Connection *connection) {
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    return info == NULL ? NULL : info->client_addr;
}

/*
 * MHD_get_connection_info() is variadic. The size of the request line plus
 * header block lets the header limit be exact instead of depending on how
 * libmicrohttpd lays out its per-connection memory pool; 0 means unknown.
 */
static inline size_t
CMicroHTTPD_connection_request_header_size(struct MHD_Connection *connection) {
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
    return info == NULL ? 0 : info->header_size;
}

/*
 * MHD_get_connection_info() is variadic. The GnuTLS session of a TLS
 * connection (NULL for plain HTTP). libmicrohttpd creates and configures it
 * before MHD_CONNECTION_NOTIFY_STARTED and starts the handshake only after
 * that notification, so settings made on it there apply to the handshake.
 */
static inline gnutls_session_t
CMicroHTTPD_connection_tls_session(struct MHD_Connection *connection) {
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    return info == NULL ? NULL : (gnutls_session_t) info->tls_session;
}

/*
 * MHD_get_connection_info() is variadic. The per-connection pointer that the
 * connection notification callback set (NULL if none).
 */
static inline void *
CMicroHTTPD_connection_socket_context(struct MHD_Connection *connection) {
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info == NULL ? NULL : info->socket_context;
}

/*
 * Verifies the peer's certificate chain against the trust list of the
 * session's credentials (MHD_OPTION_HTTPS_MEM_TRUST), including validity
 * dates, and requires the TLS WWW client key purpose where the certificate
 * states key purposes. Returns a GnuTLS error (< 0) or 0 with the
 * verification status (0: trusted) in *status.
 */
static inline int
CMicroHTTPD_verify_client_certificate(gnutls_session_t session, unsigned int *status) {
    gnutls_typed_vdata_st data[1];
    data[0].type = GNUTLS_DT_KEY_PURPOSE_OID;
    data[0].data = (unsigned char *) GNUTLS_KP_TLS_WWW_CLIENT;
    data[0].size = 0;
    return gnutls_certificate_verify_peers(session, data, 1, status);
}

/*
 * The subject alternative name number `seq` of the peer's (leaf)
 * certificate as text: DNS names, e-mail addresses and URIs as written, IP
 * addresses in their usual notation. Returns the GnuTLS SAN type (> 0),
 * 0 for an entry of another type (skipped), or a negative value when there
 * are no more entries (or no certificate).
 */
static inline int
CMicroHTTPD_peer_subject_alt_name(gnutls_session_t session, unsigned int seq, char *out, size_t out_size) {
    unsigned int count = 0;
    const gnutls_datum_t *chain = gnutls_certificate_get_peers(session, &count);
    if (chain == NULL || count == 0 || out_size < 64) return -1;
    gnutls_x509_crt_t crt;
    if (gnutls_x509_crt_init(&crt) < 0) return -1;
    if (gnutls_x509_crt_import(crt, &chain[0], GNUTLS_X509_FMT_DER) < 0) {
        gnutls_x509_crt_deinit(crt);
        return -1;
    }
    unsigned char raw[1024];
    size_t size = sizeof(raw);
    unsigned int critical = 0;
    int type = gnutls_x509_crt_get_subject_alt_name(crt, seq, raw, &size, &critical);
    gnutls_x509_crt_deinit(crt);
    if (type == GNUTLS_E_SHORT_MEMORY_BUFFER) { out[0] = 0; return 0; }
    if (type < 0) return -1;
    out[0] = 0;
    switch (type) {
    case GNUTLS_SAN_IPADDRESS:
        if (size == 4) inet_ntop(AF_INET, raw, out, (socklen_t) out_size);
        else if (size == 16) inet_ntop(AF_INET6, raw, out, (socklen_t) out_size);
        else return 0;
        return type;
    case GNUTLS_SAN_DNSNAME:
    case GNUTLS_SAN_RFC822NAME:
    case GNUTLS_SAN_URI:
        if (size >= out_size || memchr(raw, 0, size) != NULL) return 0;
        memcpy(out, raw, size);
        out[size] = 0;
        return type;
    default:
        return 0;
    }
}

/* gnutls_free is a variable (and a macro) in GnuTLS' headers. */
static inline void
CMicroHTTPD_gnutls_free(void *pointer) {
    gnutls_free(pointer);
}

/* The number of certificates the peer presented (0 for none). */
static inline unsigned int
CMicroHTTPD_peer_certificate_count(gnutls_session_t session) {
    unsigned int count = 0;
    (void) gnutls_certificate_get_peers(session, &count);
    return count;
}

#endif
