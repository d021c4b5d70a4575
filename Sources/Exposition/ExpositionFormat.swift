/// The wire formats the encoder can produce.
public enum ExpositionFormat: Sendable {
    /// The Prometheus text format 0.0.4.
    case text004
    /// OpenMetrics 1.0.0 text.
    case openMetrics100

    /// The Content-Type header value to send with this format.
    public var contentType: String {
        switch self {
        case .text004:
            return "text/plain; version=0.0.4; charset=utf-8"
        case .openMetrics100:
            return "application/openmetrics-text; version=1.0.0; charset=utf-8"
        }
    }

    /// Picks the format an HTTP `Accept` header prefers.
    ///
    /// Like prometheus/common's `expfmt` negotiation, the media ranges are
    /// tried from the highest q-value down (equal q-values in header order),
    /// and the first that names a format this encoder writes wins:
    /// `application/openmetrics-text` with `version=1.0.0` or no version
    /// selects OpenMetrics, `text/plain` with `version=0.0.4` or no version
    /// selects text 0.0.4. Anything else, including wildcards and a missing
    /// header, falls back to text 0.0.4, which every Prometheus accepts.
    ///
    /// Where this differs from `expfmt`:
    /// - `application/openmetrics-text; version=0.0.1` does not match:
    ///   `expfmt` would answer with a 0.0.1 Content-Type, but this encoder
    ///   only labels its output 1.0.0, so it moves on to the next range
    ///   rather than send a version the client did not list.
    /// - A range with `q=0`, or with a q-value that is not a number, means
    ///   "not acceptable" (RFC 9110) and is skipped.
    /// - Media types and parameter names compare case-insensitively and a
    ///   quoted parameter value is unquoted.
    public static func negotiate(accept: String?) -> ExpositionFormat {
        guard let accept else { return .text004 }
        for range in parseAcceptHeader(accept) {
            switch (range.type, range.subtype) {
            case ("application", "openmetrics-text"):
                if range.version == nil || range.version == "" || range.version == "1.0.0" {
                    return .openMetrics100
                }
            case ("text", "plain"):
                if range.version == nil || range.version == "" || range.version == "0.0.4" {
                    return .text004
                }
            default:
                continue
            }
        }
        return .text004
    }
}

/// One media range of an Accept header, reduced to what negotiation needs.
struct AcceptedMediaRange: Equatable {
    var type: String
    var subtype: String
    var version: String?
    var quality: Double
}

/// Splits an Accept header into its acceptable media ranges, best first.
///
/// Ranges are ordered by descending q-value; ties keep header order, which is
/// also what goautoneg's sort yields for the short headers scrapers send.
func parseAcceptHeader(_ header: String) -> [AcceptedMediaRange] {
    var ranges: [(position: Int, range: AcceptedMediaRange)] = []
    for (position, element) in header.split(separator: ",", omittingEmptySubsequences: false).enumerated() {
        let parts = element.split(separator: ";", omittingEmptySubsequences: false)
        let mediaRange = trimmed(parts[0]).lowercased()
        let typeAndSubtype = mediaRange.split(separator: "/", omittingEmptySubsequences: false)
        var range: AcceptedMediaRange
        if typeAndSubtype.count == 2 {
            range = AcceptedMediaRange(
                type: trimmed(typeAndSubtype[0]),
                subtype: trimmed(typeAndSubtype[1]),
                version: nil,
                quality: 1
            )
        } else if mediaRange == "*" {
            range = AcceptedMediaRange(type: "*", subtype: "*", version: nil, quality: 1)
        } else {
            continue
        }
        for parameter in parts.dropFirst() {
            guard let equals = parameter.firstIndex(of: "=") else { continue }
            let key = trimmed(parameter[..<equals]).lowercased()
            let value = unquoted(trimmed(parameter[parameter.index(after: equals)...]))
            switch key {
            case "q":
                range.quality = Double(value) ?? 0
            case "version":
                range.version = value
            default:
                break
            }
        }
        // `!(q > 0)` also drops NaN.
        guard range.quality > 0 else { continue }
        ranges.append((position, range))
    }
    ranges.sort { lhs, rhs in
        if lhs.range.quality != rhs.range.quality {
            return lhs.range.quality > rhs.range.quality
        }
        return lhs.position < rhs.position
    }
    return ranges.map(\.range)
}

private func trimmed(_ text: Substring) -> String {
    let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
    guard let first = text.firstIndex(where: { !isBlank($0) }),
          let last = text.lastIndex(where: { !isBlank($0) })
    else { return "" }
    return String(text[first...last])
}

private func unquoted(_ text: String) -> String {
    if text.count >= 2, text.first == "\"", text.last == "\"" {
        return String(text.dropFirst().dropLast())
    }
    return text
}
