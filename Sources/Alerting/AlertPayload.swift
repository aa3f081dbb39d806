import Foundation
import Rules
import Storage

/// The JSON Alertmanager takes on `POST /api/v2/alerts` (and the older `/api/v1/alerts`):
/// an array of alerts with labels, annotations, start and end times and the generator link.
enum AlertPayload {
    struct Item: Encodable {
        var labels: [String: String]
        var annotations: [String: String]?
        var startsAt: String
        var endsAt: String
        var generatorURL: String?
    }

    static func encode(_ alerts: [AlertNotification], apiVersion: String) -> Data {
        let items = alerts.map { a in
            Item(labels: Dictionary(a.labels.map { ($0.name, $0.value) }, uniquingKeysWith: { _, b in b }),
                 annotations: a.annotations.isEmpty && apiVersion == "v2" ? nil : a.annotations,
                 startsAt: time(a.startsAt), endsAt: time(a.endsAt),
                 generatorURL: a.generatorURL.isEmpty && apiVersion == "v2" ? nil : a.generatorURL)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(items)) ?? Data("[]".utf8)
    }

    /// `2006-01-02T15:04:05.000Z`: UTC with milliseconds, as Alertmanager's API writes times.
    static func time(_ ms: Int64) -> String {
        let seconds = ms >= 0 ? ms / 1000 : (ms - 999) / 1000
        let millis = ms - seconds * 1000
        var t = time_t(seconds)
        var parts = tm()
        guard gmtime_r(&t, &parts) != nil else { return "0001-01-01T00:00:00.000Z" }
        func pad(_ v: Int32, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(millis), 3))Z"
    }
}
