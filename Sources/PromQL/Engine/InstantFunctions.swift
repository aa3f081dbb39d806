import Foundation
import Storage

/// Functions over instant vectors and scalars.
extension Evaluator {
    func call(_ name: String, _ args: [Expr]) throws(QueryError) -> EvalValue {
        if let f = RangeFunction(rawValue: name) { return try rangeFunction(f, args) }
        if let f = Evaluator.mathFunctions[name] { return .vector(try mergeSameLabels(map(try vector(args[0]), f))) }
        switch name {
        case "time": return .scalar((0..<steps).map { Double(time($0)) / 1000 })
        case "pi": return .scalar(Array(repeating: .pi, count: steps))
        case "vector":
            let v = try scalars(args[0])
            return .vector([StepSeries(labels: .empty, values: v, present: Array(repeating: true, count: steps))])
        case "scalar":
            let input = try vector(args[0])
            return .scalar((0..<steps).map { k in
                let present = input.filter { $0.present[k] }
                return present.count == 1 ? present[0].values[k] : .nan
            })
        case "round":
            let to = args.count > 1 ? try scalars(args[1]) : Array(repeating: 1, count: steps)
            return .vector(try mergeSameLabels(mapSteps(try vector(args[0])) { v, k in
                let inverse = 1 / to[k]
                return (v * inverse + 0.5).rounded(.down) / inverse
            }))
        case "clamp", "clamp_min", "clamp_max":
            return .vector(try mergeSameLabels(clamp(name, args)))
        case "timestamp": return .vector(try timestamp(args[0]))
        case "absent": return .vector(absent(try vector(args[0]), args[0]))
        case "sort", "sort_desc": return .vector(sort(try vector(args[0]), descending: name == "sort_desc"))
        case "label_replace": return .vector(try labelReplace(args))
        case "label_join": return .vector(try labelJoin(args))
        case "histogram_quantile": return .vector(try histogramQuantile(try scalars(args[0]), try vector(args[1])))
        case "days_in_month", "day_of_month", "day_of_week", "day_of_year", "hour", "minute", "month", "year":
            return .vector(try mergeSameLabels(date(name, args)))
        default:
            throw .execution("function \"\(name)\" is not implemented")
        }
    }

    static let mathFunctions: [String: @Sendable (Double) -> Double] = [
        "abs": { abs($0) }, "ceil": { $0.rounded(.up) }, "floor": { $0.rounded(.down) }, "exp": { Foundation.exp($0) },
        "ln": { Foundation.log($0) }, "log2": { Foundation.log2($0) }, "log10": { Foundation.log10($0) },
        "sqrt": { $0.squareRoot() }, "sgn": { $0 < 0 ? -1 : ($0 > 0 ? 1 : $0) },
        "acos": { Foundation.acos($0) }, "acosh": { Foundation.acosh($0) }, "asin": { Foundation.asin($0) },
        "asinh": { Foundation.asinh($0) }, "atan": { Foundation.atan($0) }, "atanh": { Foundation.atanh($0) },
        "cos": { Foundation.cos($0) }, "cosh": { Foundation.cosh($0) }, "sin": { Foundation.sin($0) },
        "sinh": { Foundation.sinh($0) }, "tan": { Foundation.tan($0) }, "tanh": { Foundation.tanh($0) },
        "deg": { $0 * 180 / .pi }, "rad": { $0 * .pi / 180 },
    ]

    /// A value-wise function; the metric name is dropped.
    func map(_ input: [StepSeries], _ f: (Double) -> Double) -> [StepSeries] {
        mapSteps(input) { v, _ in f(v) }
    }

    func mapSteps(_ input: [StepSeries], _ f: (Double, Int) -> Double) -> [StepSeries] {
        input.map { s in
            var y = s
            y.labels = s.labels.droppingMetricName
            for k in 0..<steps where s.present[k] { y.values[k] = f(s.values[k], k) }
            return y
        }
    }

    func clamp(_ name: String, _ args: [Expr]) throws(QueryError) -> [StepSeries] {
        let input = try vector(args[0])
        let a = try scalars(args[1])
        let b = name == "clamp" ? try scalars(args[2]) : a
        var out = mapSteps(input) { v, k in
            switch name {
            case "clamp_min": return goMax(a[k], v)
            case "clamp_max": return goMin(a[k], v)
            default: return goMax(a[k], goMin(b[k], v))
            }
        }
        if name == "clamp" {   // clamp with max < min returns nothing at that step
            for i in out.indices { for k in 0..<steps where b[k] < a[k] { out[i].present[k] = false } }
            out.removeAll { $0.isEmpty }
        }
        return out
    }

    func timestamp(_ arg: Expr) throws(QueryError) -> [StepSeries] {
        var inner = arg
        while case .paren(let x) = inner { inner = x }
        guard case .vectorSelector(let s) = inner else {
            return mapSteps(try vector(arg)) { _, k in Double(time(k)) / 1000 }
        }
        // A selector's own sample times, not the evaluation time.
        let refs = windowEnds(offset: s.offset, at: s.at)
        let lookback = context.options.lookbackDelta
        let raw = try load(s, mint: (refs.min() ?? 0) - lookback, maxt: refs.max() ?? 0)
        var out: [StepSeries] = []
        for r in raw {
            var y = StepSeries(labels: r.labels.droppingMetricName, steps: steps)
            var p = -1
            for k in 0..<steps {
                if p >= 0 && r.timestamps[p] > refs[k] { p = -1 }
                while p + 1 < r.timestamps.count && r.timestamps[p + 1] <= refs[k] { p += 1 }
                guard p >= 0, r.timestamps[p] >= refs[k] - lookback, r.values[p].bitPattern != staleMarkerBits else { continue }
                y.set(k, Double(r.timestamps[p]) / 1000)
            }
            if !y.isEmpty { out.append(y) }
        }
        return try mergeSameLabels(out)
    }

    func absent(_ input: [StepSeries], _ arg: Expr) -> [StepSeries] {
        var y = StepSeries(labels: Evaluator.absentLabels(arg), steps: steps)
        for k in 0..<steps where !input.contains(where: { $0.present[k] }) { y.set(k, 1) }
        return y.isEmpty ? [] : [y]
    }

    /// The labels `absent` reports: the selector's equality matchers (a name matched twice,
    /// or by another matcher type, is left out, as in Prometheus).
    static func absentLabels(_ arg: Expr) -> Labels {
        var e = arg
        while case .paren(let x) = e { e = x }
        let matchers: [LabelMatcher]
        switch e {
        case .vectorSelector(let s): matchers = s.matchers
        case .matrixSelector(let s, _): matchers = s.matchers
        default: return .empty
        }
        var labels: [String: String] = [:]
        var seen = Set<String>()
        for m in matchers where m.name != Labels.metricName {
            if m.type == .equal && !seen.contains(m.name) { labels[m.name] = m.value } else { labels[m.name] = nil }
            seen.insert(m.name)
        }
        return Labels(labels)
    }

    func sort(_ input: [StepSeries], descending: Bool) -> [StepSeries] {
        guard steps == 1 else { return input }
        let present = input.filter { $0.present[0] }
        return present.enumerated().sorted { a, b in
            let x = a.element.values[0], y = b.element.values[0]
            if x.isNaN != y.isNaN { return y.isNaN }
            if x.isNaN || x == y { return a.offset < b.offset }
            return descending ? x > y : x < y
        }.map(\.element)
    }

    func labelReplace(_ args: [Expr]) throws(QueryError) -> [StepSeries] {
        let input = try vector(args[0])
        let dst = try string(args[1]), replacement = try string(args[2])
        let src = try string(args[3]), pattern = try string(args[4])
        guard let regex = RegexTemplate(pattern) else {
            throw .execution("invalid regular expression in label_replace(): \(pattern)")
        }
        guard isValidLabelName(dst) else { throw .execution("invalid destination label name in label_replace(): \(dst)") }
        let limit = context.options.maxLabelValueBytes
        let out = try input.map { s throws(QueryError) -> StepSeries in
            let expanded: String?
            do { expanded = try regex.expand(replacement, matching: s.labels[src] ?? "", maxBytes: limit) } catch {
                throw .execution("label_replace(): resulting label value longer than \(limit) bytes")
            }
            guard let replaced = expanded else { return s }
            try context.createLabel(bytes: replaced.utf8.count, in: "label_replace()")
            var y = s
            y.labels = s.labels.setting(dst, to: replaced)
            return y
        }
        return try mergeSameLabels(out)
    }

    func labelJoin(_ args: [Expr]) throws(QueryError) -> [StepSeries] {
        let input = try vector(args[0])
        let dst = try string(args[1]), separator = try string(args[2])
        var sources: [String] = []
        for a in args.dropFirst(3) { sources.append(try string(a)) }
        guard isValidLabelName(dst) else { throw .execution("invalid destination label name in label_join(): \(dst)") }
        for s in sources where !isValidLabelName(s) { throw .execution("invalid source label name in label_join(): \(s)") }
        let out = try input.map { s throws(QueryError) -> StepSeries in
            let values = sources.map { s.labels[$0] ?? "" }
            let bytes = values.reduce(separator.utf8.count * max(values.count - 1, 0)) { $0 + $1.utf8.count }
            try context.createLabel(bytes: bytes, in: "label_join()")
            var y = s
            y.labels = s.labels.setting(dst, to: values.joined(separator: separator))
            return y
        }
        return try mergeSameLabels(out)
    }

    func histogramQuantile(_ q: [Double], _ input: [StepSeries]) throws(QueryError) -> [StepSeries] {
        var groups: [Labels: (labels: Labels, members: [(bound: Double, series: Int)])] = [:]
        var order: [Labels] = []
        for (i, s) in input.enumerated() {
            guard let le = s.labels["le"], let bound = parseGoFloat(le) else { continue }
            let key = s.labels.removing(["le"])
            if groups[key] == nil {
                groups[key] = (key.droppingMetricName, [])
                order.append(key)
            }
            groups[key]?.members.append((bound, i))
        }
        var out: [StepSeries] = []
        var buckets: [(upper: Double, count: Double)] = []
        for key in order {
            guard var g = groups[key] else { continue }
            // Sorted once per group (stable, as bounds are fixed); each step only gathers counts.
            g.members = g.members.enumerated().sorted { a, b in
                a.element.bound != b.element.bound ? a.element.bound < b.element.bound : a.offset < b.offset
            }.map(\.element)
            var y = StepSeries(labels: g.labels, steps: steps)
            for k in 0..<steps {
                buckets.removeAll(keepingCapacity: true)
                for m in g.members where input[m.series].present[k] {
                    buckets.append((m.bound, input[m.series].values[k]))
                }
                if !buckets.isEmpty { y.set(k, bucketQuantile(q[k], &buckets)) }
            }
            if !y.isEmpty { out.append(y) }
        }
        return try mergeSameLabels(out)
    }

    func date(_ name: String, _ args: [Expr]) throws(QueryError) -> [StepSeries] {
        let input: [StepSeries]
        if args.isEmpty {
            input = [StepSeries(labels: .empty, values: (0..<steps).map { Double(time($0)) / 1000 },
                                present: Array(repeating: true, count: steps))]
        } else {
            input = try vector(args[0])
        }
        return mapSteps(input) { v, _ in
            guard v.isFinite, abs(v) < 9.2e18 else { return .nan }
            let c = civil(Int64(v))
            switch name {
            case "day_of_month": return Double(c.day)
            case "day_of_week": return Double(c.weekday)
            case "day_of_year": return Double(c.dayOfYear)
            case "days_in_month": return Double(c.daysInMonth)
            case "hour": return Double(c.hour)
            case "minute": return Double(c.minute)
            case "month": return Double(c.month)
            default: return Double(c.year)
            }
        }
    }
}

/// Go's math.Max: NaN wins, +0 beats -0.
func goMax(_ a: Double, _ b: Double) -> Double {
    if a.isNaN || b.isNaN { return .nan }
    if a == 0 && b == 0 { return a.sign == .plus ? a : b }
    return a > b ? a : b
}

/// Go's math.Min: NaN wins, -0 beats +0.
func goMin(_ a: Double, _ b: Double) -> Double {
    if a.isNaN || b.isNaN { return .nan }
    if a == 0 && b == 0 { return a.sign == .minus ? a : b }
    return a < b ? a : b
}

/// Go's strconv.ParseFloat for label values: decimal, Inf/NaN spellings, hex.
func parseGoFloat(_ s: String) -> Double? {
    let t = s.trimmingCharacters(in: .whitespaces)
    guard t == s, !s.isEmpty else { return nil }
    switch s.lowercased() {
    case "inf", "+inf", "infinity", "+infinity": return .infinity
    case "-inf", "-infinity": return -.infinity
    case "nan": return .nan
    default: return Double(s)
    }
}

/// Prometheus' quantile over cumulative histogram buckets (upper bound, cumulative count),
/// given sorted by upper bound; the buffer is reused as scratch.
func bucketQuantile(_ q: Double, _ buckets: inout [(upper: Double, count: Double)]) -> Double {
    if q.isNaN { return .nan }
    if q < 0 { return -.infinity }
    if q > 1 { return .infinity }
    guard let last = buckets.last, last.upper == .infinity else { return .nan }
    // Coalesce equal bounds, then force counts to be monotonic.
    var n = 0
    for i in buckets.indices {
        if n > 0 && buckets[n - 1].upper == buckets[i].upper {
            buckets[n - 1].count += buckets[i].count
        } else {
            buckets[n] = buckets[i]
            n += 1
        }
    }
    var maxCount = buckets[0].count
    for i in 1..<max(n, 1) {
        if buckets[i].count > maxCount { maxCount = buckets[i].count } else if buckets[i].count < maxCount { buckets[i].count = maxCount }
    }
    guard n >= 2 else { return .nan }
    let observations = buckets[n - 1].count
    guard observations != 0 else { return .nan }
    var rank = q * observations
    // The first bucket (not counting +Inf) whose count reaches the rank.
    var b = n - 1
    for i in 0..<(n - 1) where buckets[i].count >= rank { b = i; break }
    if b == n - 1 { return buckets[n - 2].upper }
    if b == 0 && buckets[0].upper <= 0 { return buckets[0].upper }
    var bucketStart = 0.0
    let bucketEnd = buckets[b].upper
    var count = buckets[b].count
    if b > 0 {
        bucketStart = buckets[b - 1].upper
        count -= buckets[b - 1].count
        rank -= buckets[b - 1].count
    }
    return bucketStart + (bucketEnd - bucketStart) * (rank / count)
}

/// A UTC calendar breakdown of Unix seconds.
struct Civil {
    var year: Int64, month: Int, day: Int, hour: Int, minute: Int, weekday: Int, dayOfYear: Int, daysInMonth: Int
}

func civil(_ seconds: Int64) -> Civil {
    let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
    let secs = seconds - days * 86_400
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
    var y = yoe + era * 400
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let d = Int(doy - (153 * mp + 2) / 5 + 1)
    let m = Int(mp < 10 ? mp + 3 : mp - 9)
    if m <= 2 { y += 1 }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
    let monthDays = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    let dayOfYear = monthDays.prefix(m - 1).reduce(0, +) + d
    let weekday = Int(((days % 7) + 7 + 4) % 7)   // 1970-01-01 was a Thursday
    return Civil(year: y, month: m, day: d, hour: Int(secs / 3600), minute: Int(secs % 3600 / 60),
                 weekday: weekday, dayOfYear: dayOfYear, daysInMonth: monthDays[m - 1])
}
