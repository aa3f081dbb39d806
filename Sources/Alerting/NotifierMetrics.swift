import Storage

extension Notifier {
    /// Self-metrics in the text format, as Prometheus' `prometheus_notifications_*` with the
    /// prefix `sextant_`: queue length and capacity, alerts dropped, Alertmanagers found, and
    /// per Alertmanager alerts delivered, failed POSTs and POST latency.
    public func renderMetrics() -> String {
        let urls = alertmanagers().active
        let s = state.withLock { s in
            (length: s.queue.items.count, dropped: s.queue.dropped, sent: s.sent, errors: s.errors, latency: s.latency, retries: s.retries)
        }
        var out = ""
        func metric(_ name: String, _ type: String, _ help: String, _ value: String) {
            out += "# HELP sextant_notifications_\(name) \(help)\n# TYPE sextant_notifications_\(name) \(type)\nsextant_notifications_\(name) \(value)\n"
        }
        metric("queue_length", "gauge", "Alerts waiting to be sent.", "\(s.length)")
        metric("queue_capacity", "gauge", "Most alerts the queue holds.", "\(options.capacity)")
        metric("dropped_total", "counter", "Alerts dropped: the queue was full, or no Alertmanager took them.", "\(s.dropped)")
        metric("alertmanagers_discovered", "gauge", "Alertmanagers in use.", "\(urls.count)")
        metric("retries_total", "counter", "Batches sent again after no Alertmanager took them.", "\(s.retries)")
        let known = Set(urls).union(s.sent.keys).union(s.errors.keys).sorted()
        func family(_ name: String, _ type: String, _ help: String, _ value: (String) -> String) {
            out += "# HELP sextant_notifications_\(name) \(help)\n# TYPE sextant_notifications_\(name) \(type)\n"
            for url in known { out += "sextant_notifications_\(name){alertmanager=\(quoteLabelValue(url))} \(value(url))\n" }
        }
        family("sent_total", "counter", "Alerts an Alertmanager took.") { "\(s.sent[$0] ?? 0)" }
        family("errors_total", "counter", "POSTs to an Alertmanager that failed.") { "\(s.errors[$0] ?? 0)" }
        out += "# HELP sextant_notifications_latency_seconds How long POSTs to an Alertmanager took.\n"
        out += "# TYPE sextant_notifications_latency_seconds summary\n"
        for url in known {
            let l = s.latency[url] ?? (0, 0)
            out += "sextant_notifications_latency_seconds_sum{alertmanager=\(quoteLabelValue(url))} \(l.sum)\n"
            out += "sextant_notifications_latency_seconds_count{alertmanager=\(quoteLabelValue(url))} \(l.count)\n"
        }
        return out
    }
}
