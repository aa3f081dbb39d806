import Exposition
import Foundation
import Hummingbird
import PromQL
import Scrape
import TSDB

/// Status, metadata, federation and lifecycle endpoints.
extension PrometheusAPI {
    func registerStatus(on router: Router<BasicRequestContext>) {
        router.get("/api/v1/status/tsdb") { _, _ in await respond { () throws(APIError) in try tsdbStatus() } }
        router.get("/api/v1/status/flags") { _, _ in
            await respond { () throws(APIError) in
                var w = JSONWriter()
                w.raw("{")
                for (i, (k, v)) in options.flags.sorted(by: { $0.key < $1.key }).enumerated() {
                    if i > 0 { w.raw(",") }
                    w.string(k)
                    w.raw(":")
                    w.string(v)
                }
                w.raw("}")
                return w.bytes
            }
        }
        router.get("/api/v1/status/runtimeinfo") { _, _ in await respond { () throws(APIError) in runtimeInfo() } }
        router.get("/api/v1/status/config") { _, _ in
            await respond { () throws(APIError) in
                // Secrets (passwords, credentials, bearer tokens) shown as <secret>, as Prometheus does.
                let yaml = options.configFile.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) }
                    .map(PrometheusConfig.redacted) ?? ""
                var w = JSONWriter()
                w.raw("{\"yaml\":")
                w.string(yaml)
                w.raw("}")
                return w.bytes
            }
        }
        router.get("/api/v1/targets") { request, _ in
            await respond { () throws(APIError) in targetsJSON(state: try await parameters(request).first("state") ?? "") }
        }
        router.get("/api/v1/targets/metadata") { request, _ in
            await respond { () throws(APIError) in try targetMetadataJSON(try await parameters(request)) }
        }
        router.get("/api/v1/metadata") { request, _ in
            await respond { () throws(APIError) in metadataJSON(try await parameters(request)) }
        }
        router.get("/federate") { request, _ in
            do {
                let p = try await parameters(request)
                let gzip = GzipMiddleware.accepts(request)
                // Built, and gzipped when asked, on the query thread: a federation answer can be large.
                let (body, gzipped) = try await limited { deadline throws(APIError) in
                    let text = Array(try federate(p, deadline).utf8)
                    if gzip, let zipped = Server.gzip(text) { return (ByteBuffer(bytes: zipped), true) }
                    return (ByteBuffer(bytes: text), false)
                }
                var headers: HTTPFields = [.contentType: "text/plain; version=0.0.4; charset=utf-8"]
                if gzipped { headers[.contentEncoding] = "gzip" }
                return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: body))
            } catch let e as APIError {
                return json(e.json, status: e.status)
            }
        }
        // Reload and quit only with --web.enable-lifecycle, as in Prometheus.
        for method in [HTTPRequest.Method.post, .put] {
            router.on("/-/reload", method: method) { _, _ -> Response in
                guard options.enableLifecycle else { return Self.lifecycleDisabled() }
                do {
                    try reload()
                } catch {
                    return Response(status: .internalServerError,
                                    body: ResponseBody(byteBuffer: ByteBuffer(string: "failed to reload config: \(error)\n")))
                }
                return Response(status: .ok)
            }
            router.on("/-/quit", method: method) { _, _ -> Response in
                guard options.enableLifecycle else { return Self.lifecycleDisabled() }
                quit()
                return Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(string: "Requesting termination... Goodbye!\n")))
            }
        }
    }

    func tsdbStatus() throws(APIError) -> [UInt8] {
        let c = try db.head.cardinality()
        var w = JSONWriter()
        w.raw("{\"headStats\":{\"numSeries\":\(c.numSeries),\"numLabelPairs\":\(c.numLabelPairs),\"chunkCount\":\(c.chunkCount),")
        w.raw("\"minTime\":\(c.minTime == .max ? 0 : c.minTime),\"maxTime\":\(c.maxTime == .min ? 0 : c.maxTime)}")
        for (key, list) in [("seriesCountByMetricName", c.seriesCountByMetricName),
                            ("labelValueCountByLabelName", c.labelValueCountByLabelName),
                            ("memoryInBytesByLabelName", c.memoryInBytesByLabelName),
                            ("seriesCountByLabelValuePair", c.seriesCountByLabelValuePair)] {
            w.raw(",\"\(key)\":[")
            for (i, e) in list.enumerated() {
                if i > 0 { w.raw(",") }
                w.raw("{\"name\":")
                w.string(e.name)
                w.raw(",\"value\":\(e.value)}")
            }
            w.raw("]")
        }
        w.raw("}")
        return w.bytes
    }

    /// Active and dropped targets with their scrape state; `state` (`active`, `dropped`, `any`
    /// or empty, as Prometheus takes it) leaves the other list empty, so a client that wants the
    /// few active targets does not pay for thousands of dropped ones.
    func targetsJSON(state: String) -> [UInt8] {
        let state = state.lowercased()
        let showActive = state.isEmpty || state == "any" || state == "active"
        let showDropped = state.isEmpty || state == "any" || state == "dropped"
        let manager = scraping.manager.withLock { $0 }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var w = JSONWriter()
        w.raw("{\"activeTargets\":[")
        for (i, loop) in (showActive ? manager?.active ?? [] : []).enumerated() {
            let t = loop.target, h = loop.health
            if i > 0 { w.raw(",") }
            w.raw("{\"discoveredLabels\":")
            w.labels(t.discoveredLabels)
            w.raw(",\"labels\":")
            w.labels(t.labels)
            w.raw(",\"scrapePool\":")
            w.string(t.job)
            w.raw(",\"scrapeUrl\":")
            w.string(t.url)
            w.raw(",\"globalUrl\":")
            w.string(t.url)
            w.raw(",\"lastError\":")
            w.string(h.lastError)
            w.raw(",\"lastScrape\":")
            w.string(h.lastScrape == 0 ? "0001-01-01T00:00:00Z" : formatter.string(from: Date(timeIntervalSince1970: Double(h.lastScrape) / 1000)))
            w.raw(",\"lastScrapeDuration\":\(h.lastScrapeDuration),\"health\":")
            w.string(h.health)
            w.raw(",\"scrapeInterval\":")
            w.string(PrometheusDuration.format(t.interval))
            w.raw(",\"scrapeTimeout\":")
            w.string(PrometheusDuration.format(t.timeout))
            w.raw("}")
        }
        w.raw("],\"droppedTargets\":[")
        for (i, l) in (showDropped ? manager?.dropped ?? [] : []).enumerated() {
            if i > 0 { w.raw(",") }
            w.raw("{\"discoveredLabels\":")
            w.labels(l)
            w.raw("}")
        }
        w.raw("]}")
        return w.bytes
    }

    /// Metadata per target: `match_target` (a label selector on target labels), `metric`, `limit`.
    func targetMetadataJSON(_ p: Parameters) throws(APIError) -> [UInt8] {
        var matchers: [LabelMatcher] = []
        if let m = p.first("match_target"), !m.isEmpty {
            do { matchers = try Parser.parseSelector(m).matchers } catch {
                throw .badData("invalid parameter \"match_target\": \(error)")
            }
        }
        let metric = p.first("metric") ?? ""
        let limit = p.first("limit").flatMap(Int.init) ?? -1
        var w = JSONWriter()
        w.raw("[")
        var n = 0
        for loop in scraping.manager.withLock({ $0 })?.active ?? [] {
            let labels = loop.target.labels
            guard matchers.allSatisfy({ $0.matches(labels[$0.name] ?? "") }) else { continue }
            for (name, m) in loop.metadata.sorted(by: { $0.key < $1.key }) where metric.isEmpty || name == metric {
                if limit >= 0 && n >= limit { break }
                if n > 0 { w.raw(",") }
                n += 1
                w.raw("{\"target\":")
                w.labels(labels)
                w.raw(",\"metric\":")
                w.string(name)
                w.raw(",")
                w.metadataFields(m)
                w.raw("}")
            }
        }
        w.raw("]")
        return w.bytes
    }

    func runtimeInfo() -> [UInt8] {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var w = JSONWriter()
        w.raw("{\"startTime\":")
        w.string(formatter.string(from: startTime))
        w.raw(",\"CWD\":")
        w.string(FileManager.default.currentDirectoryPath)
        w.raw(",\"reloadConfigSuccess\":true,\"lastConfigTime\":")
        w.string(formatter.string(from: startTime))
        w.raw(",\"corruptionCount\":\(storage.current?.replayStats.corruptions ?? 0)")
        w.raw(",\"goroutineCount\":0,\"GOMAXPROCS\":\(ProcessInfo.processInfo.activeProcessorCount),\"GOGC\":\"\",\"GODEBUG\":\"\"")
        w.raw(",\"storageRetention\":")
        w.string(PrometheusDuration.format(options.db.retentionTime))
        w.raw("}")
        return w.bytes
    }

    func metadataJSON(_ p: Parameters) -> [UInt8] {
        let limit = p.first("limit").flatMap(Int.init) ?? -1
        var entries = scraping.metadata(with: metadata)
        if let metric = p.first("metric"), !metric.isEmpty { entries = entries.filter { $0.key == metric } }
        var names = entries.keys.sorted()
        if limit >= 0 { names = Array(names.prefix(limit)) }
        var w = JSONWriter()
        w.raw("{")
        for (i, name) in names.enumerated() {
            guard let e = entries[name] else { continue }
            if i > 0 { w.raw(",") }
            w.string(name)
            w.raw(":[{")
            w.metadataFields(e)
            w.raw("}]")
        }
        w.raw("}")
        return w.bytes
    }

    static func lifecycleDisabled() -> Response {
        Response(status: .forbidden, body: ResponseBody(byteBuffer: ByteBuffer(string: "Lifecycle API is not enabled.\n")))
    }

    /// The newest sample of every matching series, in the text exposition format.
    func federate(_ p: Parameters, _ deadline: ContinuousClock.Instant) throws(APIError) -> String {
        let sets = try parseMatchers(p.all("match[]"))
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let db = try self.db
        let lookback = options.engine.lookbackDelta
        var latest: [Labels: (Int64, Double)] = [:]
        let q = db.querier(mint: now - lookback, maxt: now)
        var budget = ScanBudget(deadline: deadline, maxBytes: options.maxResponseBytes)
        for m in sets {
            var set = q.select(m, hints: nil)
            while set.next() {
                try budget.visit()
                var it = set.at().makeIterator()
                var last: (Int64, Double)?
                while it.next() { last = it.at() }
                if let last, !isStaleMarker(last.1) {
                    try budget.add(set.at().labels)
                    latest[set.at().labels] = last
                }
            }
        }
        var out = ""
        var previousName: String?
        for labels in latest.keys.sorted(by: { Labels.compare($0, $1) < 0 }) {
            guard let (t, v) = latest[labels] else { continue }
            let name = labels.metricName ?? ""
            if name != previousName {
                out += "# TYPE \(name) untyped\n"
                previousName = name
            }
            let rest = labels.filter { $0.name != Labels.metricName }.map { "\($0.name)=\(quoteLabelValue($0.value))" }
            out += name + (rest.isEmpty ? "" : "{" + rest.joined(separator: ",") + "}") + " \(formatValue(v)) \(t)\n"
        }
        return out
    }
}
