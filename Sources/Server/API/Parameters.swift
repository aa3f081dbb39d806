import Foundation
import PromQL
import TSDB

/// Request parameters from the query string and a form-encoded body, as Prometheus reads them
/// (`r.FormValue`: the body's values first).
struct Parameters {
    var values: [String: [String]] = [:]

    init() {}

    /// Parameters from URL-encoded texts, the query string first and the body after (as
    /// `encodedParameters` gives them); the body's values come first, as in Prometheus.
    init(encoded: [String]) {
        for text in encoded.reversed() { add(urlEncoded: Substring(text)) }
    }

    /// Parses `a=1&b=2&match%5B%5D=x` pairs.
    mutating func add(urlEncoded text: Substring) {
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = Parameters.decode(parts[0])
            let value = parts.count > 1 ? Parameters.decode(parts[1]) : ""
            values[name, default: []].append(value)
        }
    }

    static func decode(_ s: Substring) -> String {
        String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(s)
    }

    func first(_ name: String) -> String? { values[name]?.first }
    func all(_ name: String) -> [String] { values[name] ?? [] }

    /// A time in milliseconds: float seconds or RFC 3339; `fallback` when absent.
    func time(_ name: String, default fallback: Int64? = nil) throws(APIError) -> Int64 {
        guard let text = first(name), !text.isEmpty else {
            if let fallback { return fallback }
            throw .badData("invalid parameter \"\(name)\": cannot parse \"\" to a valid timestamp")
        }
        if let t = Parameters.parseTime(text) { return t }
        throw .badData("invalid parameter \"\(name)\": cannot parse \"\(text)\" to a valid timestamp")
    }

    /// The widest range a request may ask for: the latest time queries accept, in whole seconds.
    static let maxTime: Int64 = PrometheusDuration.maxTimestamp / 1000 * 1000
    static let minTime: Int64 = -maxTime

    static func parseTime(_ text: String) -> Int64? {
        if let seconds = Double(text), seconds.isFinite {
            // Bounded so that no time arithmetic of a query can overflow (PrometheusDuration).
            let ms = (seconds * 1000).rounded()
            guard abs(ms) <= Double(PrometheusDuration.maxTimestamp) else { return nil }
            return Int64(ms)
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = formatter.date(from: text) { return Int64((d.timeIntervalSince1970 * 1000).rounded()) }
        formatter.formatOptions = [.withInternetDateTime]
        if let d = formatter.date(from: text) { return Int64((d.timeIntervalSince1970 * 1000).rounded()) }
        // Prometheus' clients send these for "no bound".
        if text == "-292273086-05-16T16:47:06Z" || text == "0001-01-01T00:00:00Z" { return minTime }
        if text == "292277025-08-18T07:12:54.999999999Z" { return maxTime }
        return nil
    }

    /// A duration in milliseconds: float seconds or a Prometheus duration (`15s`, `1m30s`).
    func duration(_ name: String) throws(APIError) -> Int64 {
        let text = first(name) ?? ""
        if let seconds = Double(text), seconds.isFinite, abs((seconds * 1000).rounded()) >= 9.2e18 {
            throw .badData("invalid parameter \"\(name)\": cannot parse \"\(text)\" to a valid duration. It overflows int64")
        }
        guard let d = Parameters.parseDuration(text) else {
            throw .badData("invalid parameter \"\(name)\": cannot parse \"\(text)\" to a valid duration")
        }
        return d
    }

    static func parseDuration(_ text: String) -> Int64? {
        if let seconds = Double(text), seconds.isFinite {
            let ms = (seconds * 1000).rounded()
            return abs(ms) <= Double(PrometheusDuration.maxMilliseconds) ? Int64(ms) : nil
        }
        return PrometheusDuration.parse(text)
    }
}

/// A time as the API accepts it (Unix seconds with decimals, or RFC 3339), in milliseconds.
public func parseAPITime(_ text: String) -> Int64? { Parameters.parseTime(text) }

/// A duration as the API accepts it (float seconds or `15s`, `1m30s`), in milliseconds.
public func parseAPIDuration(_ text: String) -> Int64? { Parameters.parseDuration(text) }
