#ifndef CMICROHTTPD_SHIM_H
#define CMICROHTTPD_SHIM_H

/* microhttpd.h expects these to be included before it. */
#include <sys/types.h>
#include <sys/socket.h>
#include <stdarg.h>
#include <stdint.h>
#include <microhttpd.h>

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

#endif
