import Alerting
import Foundation
import Hummingbird
import Rules
import Storage

/// `/api/v1/rules` and `/api/v1/alerts` in Prometheus' shapes (Grafana reads them).
extension PrometheusAPI {
    func registerRules(on router: Router<BasicRequestContext>) {
        router.get("/api/v1/rules") { request, _ in
            await respond { () throws(APIError) in
                let type = try await parameters(request).first("type") ?? ""
                guard ["", "alert", "record"].contains(type) else {
                    throw APIError.badData("unsupported type \"\(type)\", expected alert or record")
                }
                return rulesJSON(type: type)
            }
        }
        router.get("/api/v1/alerts") { _, _ in await respond { () throws(APIError) in alertsJSON() } }
        router.get("/api/v1/alertmanagers") { _, _ in await respond { () throws(APIError) in alertmanagersJSON() } }
    }

    /// The Alertmanagers alerts go to, and those relabeling dropped.
    func alertmanagersJSON() -> [UInt8] {
        let (active, dropped) = scraping.notifier.withLock { $0 }?.alertmanagers() ?? ([], [])
        var w = JSONWriter()
        w.raw("{\"activeAlertmanagers\":[")
        for (i, url) in active.enumerated() {
            w.raw(i == 0 ? "{\"url\":" : ",{\"url\":")
            w.string(url)
            w.raw("}")
        }
        w.raw("],\"droppedAlertmanagers\":[")
        for (i, l) in dropped.enumerated() {
            w.raw(i == 0 ? "{\"url\":" : ",{\"url\":")
            w.string("http://" + (l["__address__"] ?? "") + "/api/v2/alerts")
            w.raw("}")
        }
        w.raw("]}")
        return w.bytes
    }

    /// Every group with its rules (`type`: only alerting or only recording rules).
    func rulesJSON(type: String) -> [UInt8] {
        let time = RFC3339()
        var w = JSONWriter()
        w.raw("{\"groups\":[")
        for (gi, g) in (scraping.rules.withLock { $0 }?.snapshot() ?? []).enumerated() {
            if gi > 0 { w.raw(",") }
            let e = g.evaluator
            w.raw("{\"name\":")
            w.string(e.group.name)
            w.raw(",\"file\":")
            w.string(g.file)
            w.raw(",\"interval\":\(Double(g.interval) / 1000),\"limit\":\(e.group.limit),\"rules\":[")
            var first = true
            for (i, rule) in e.group.rules.enumerated() {
                let alerting: Bool
                if case .alerting = rule.kind { alerting = true } else { alerting = false }
                if (type == "alert" && !alerting) || (type == "record" && alerting) { continue }
                if !first { w.raw(",") }
                first = false
                let h = e.health[i]
                w.raw("{\"name\":")
                w.string(rule.name)
                w.raw(",\"query\":")
                w.string(rule.expr)
                w.raw(",\"labels\":")
                pairs(&w, rule.labels)
                if alerting {
                    let alerts = e.alerts(of: i).filter { $0.state != .inactive }
                    let state = alerts.map(\.state).max() ?? .inactive
                    w.raw(",\"state\":")
                    w.string(state.rawValue)
                    w.raw(",\"duration\":\(Double(rule.forDuration) / 1000),\"keepFiringFor\":\(Double(rule.keepFiringFor) / 1000),\"annotations\":")
                    pairs(&w, rule.annotations)
                    w.raw(",\"alerts\":[")
                    for (k, a) in alerts.enumerated() {
                        if k > 0 { w.raw(",") }
                        alert(&w, a, time)
                    }
                    w.raw("]")
                }
                w.raw(",\"health\":")
                w.string(h.status.rawValue)
                if let error = h.lastError {
                    w.raw(",\"lastError\":")
                    w.string(error)
                }
                let seconds = Double(h.lastDuration.components.attoseconds) / 1e18 + Double(h.lastDuration.components.seconds)
                w.raw(",\"evaluationTime\":\(seconds),\"lastEvaluation\":")
                w.string(time.string(h.lastEvaluation))
                w.raw(",\"type\":")
                w.string(alerting ? "alerting" : "recording")
                w.raw("}")
            }
            let last = e.health.compactMap(\.lastEvaluation).max()
            w.raw("],\"lastEvaluation\":")
            w.string(time.string(last))
            w.raw("}")
        }
        w.raw("]}")
        return w.bytes
    }

    /// Every pending and firing alert.
    func alertsJSON() -> [UInt8] {
        let time = RFC3339()
        var w = JSONWriter()
        w.raw("{\"alerts\":[")
        var first = true
        for g in scraping.rules.withLock({ $0 })?.snapshot() ?? [] {
            for i in g.evaluator.group.rules.indices {
                for a in g.evaluator.alerts(of: i) where a.state != .inactive {
                    if !first { w.raw(",") }
                    first = false
                    alert(&w, a, time)
                }
            }
        }
        w.raw("]}")
        return w.bytes
    }

    private func alert(_ w: inout JSONWriter, _ a: Alert, _ time: RFC3339) {
        w.raw("{\"labels\":")
        w.labels(a.labels)
        w.raw(",\"annotations\":")
        pairs(&w, a.annotations)
        w.raw(",\"state\":")
        w.string(a.state.rawValue)
        w.raw(",\"activeAt\":")
        w.string(time.string(a.activeAt))
        w.raw(",\"value\":")
        w.string(RFC3339.goExponent(a.value))
        w.raw("}")
    }

    private func pairs(_ w: inout JSONWriter, _ list: [(name: String, value: String)]) {
        w.raw("{")
        for (i, p) in list.enumerated() {
            if i > 0 { w.raw(",") }
            w.string(p.name)
            w.raw(":")
            w.string(p.value)
        }
        w.raw("}")
    }
}

/// Times as Go's JSON writes `time.Time` (RFC 3339; the zero time when never).
struct RFC3339 {
    let formatter: ISO8601DateFormatter = {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f
    }()

    func string(_ ms: Int64?) -> String {
        guard let ms else { return "0001-01-01T00:00:00Z" }
        return formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }

    /// A value as Go's `strconv.FormatFloat(v, 'e', -1, 64)` (`1e+00`, `2.5e-01`), as
    /// Prometheus writes alert values.
    static func goExponent(_ v: Double) -> String { GoFormat.strconvFloat(v, "e", -1) }
}
