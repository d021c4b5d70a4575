/// How long a scrape may wait for a refresh it starts (when refreshing on scrape). Prometheus
/// sends its scrape timeout with every scrape and drops an answer that comes later, so the
/// wait is that timeout less an offset for the answer's way back, as blackbox_exporter's
/// `--timeout-offset` does; half the timeout when the offset would leave less.
public enum ScrapeDeadline {
    /// The request header, lowercased as `HTTPRequest.header` takes names.
    public static let header = "x-prometheus-scrape-timeout-seconds"
    /// Longer than any header a Prometheus sends ("10", "0.5", "119.5").
    static let longestValue = 32

    public struct Invalid: Error, Equatable, CustomStringConvertible {
        public let value: String
        public var description: String {
            "X-Prometheus-Scrape-Timeout-Seconds must be a positive number of seconds (got '\(value.prefix(ScrapeDeadline.longestValue))')"
        }
    }

    /// The wait in seconds for the header's `value`; nil without the header.
    public static func seconds(header value: String?, offset: Double) -> Result<Double?, Invalid> {
        guard let value else { return .success(nil) }
        // libmicrohttpd gives header values without the blanks around them.
        guard value.utf8.count <= longestValue, let timeout = Double(value), timeout.isFinite, timeout > 0 else {
            return .failure(Invalid(value: value))
        }
        return .success(max(timeout - offset, timeout / 2))
    }
}
