import Exporter
import HTTPServer
import Logging

/// SIGHUP's part for the web configuration file: users, headers and rate limit apply to the next
/// request; new TLS settings (certificate, key, CAs, policy, versions) are handed to each
/// listener, which keeps its socket and finishes requests in flight on the old settings. An
/// invalid file is rejected and the running one stays.
public final class WebConfigReloader: Sendable {
    let file: String?
    let servers: [HTTPServer]
    let guardian: WebGuard
    let logger: Logger

    /// `file`: `--web.config.file`, nil when none was given.
    public init(file: String?, servers: [HTTPServer], guard guardian: WebGuard, logger: Logger) {
        self.file = file
        self.servers = servers
        self.guardian = guardian
        self.logger = logger
    }

    /// Returns why the web configuration was rejected, nil when it was taken (or there is none).
    @discardableResult
    public func reload() -> String? {
        guard let file else { return nil }
        let fresh: WebConfig
        do {
            fresh = try WebConfigLoader.load(path: file)
        } catch {
            logger.error("web configuration reload rejected; the running one stays", metadata: ["err": "\(error)"])
            return "web configuration: \(error)"
        }
        for server in servers {
            do {
                try server.updateTLS(fresh.tls)
            } catch {
                logger.error("web configuration reload: cannot apply the TLS settings to a listener", metadata: [
                    "port": "\(server.port)", "err": "\(error)",
                ])
                return "web configuration: cannot apply the TLS settings to the listener on port \(server.port): \(error)"
            }
        }
        guardian.update(fresh)
        logger.info("web configuration reloaded", metadata: fresh.summary(file: file))
        return nil
    }
}

extension WebConfig {
    /// What the configuration turns on, for the log; never secrets or hashes.
    public func summary(file: String) -> Logger.Metadata {
        var metadata: Logger.Metadata = ["file": "\(file)", "tls": "\(tls != nil)"]
        if let tls {
            metadata["client_auth_type"] = "\(tls.clientCertificates.rawValue)"
            metadata["min_version"] = "\(tls.minimumVersion.name)"
            metadata["max_version"] = "\(tls.maximumVersion.name)"
        }
        metadata["basic_auth_users"] = "\(users.count)"
        if !headers.isEmpty { metadata["headers"] = "\(headers.map(\.name).joined(separator: ","))" }
        if let rateLimit { metadata["rate_limit"] = "\(rateLimit.burst) per \(rateLimit.interval)s" }
        return metadata
    }
}
