/// A template function's failure, worded as Go and Prometheus word it (the executor adds
/// `error calling <name>: `).
struct TemplateFunctionError: Error, Sendable, Equatable {
    var message: String
}

/// Prometheus' template functions (template/template.go, v2.42) and the text/template escapers,
/// on template values. Numbers print with Go's `%.4g` (`GoFormat`).
enum TemplateFunctions {
    // MARK: numbers

    /// Prometheus' convertToFloat: a float or int as is, a string through Go's ParseFloat,
    /// anything else `can't convert <type> to float`.
    static func toFloat(_ value: TemplateValue) throws(TemplateFunctionError) -> Double {
        switch value {
        case .float(let v): return v
        case .int(let v): return Double(v)
        case .string(let s): return try parseFloat(s)
        default: throw TemplateFunctionError(message: "can't convert \(value.goType) to float")
        }
    }

    /// `humanize`: SI prefixes (k M G T P E Z Y, m u n p f a z y), then `%.4g`.
    static func humanize(_ value: TemplateValue) throws(TemplateFunctionError) -> String {
        let v = try toFloat(value)
        if v == 0 || !v.isFinite { return g4(v) }
        if abs(v) >= 1 { return scaledDown(v, base: 1000, ["k", "M", "G", "T", "P", "E", "Z", "Y"]) }
        return scaledUp(v, ["m", "u", "n", "p", "f", "a", "z", "y"])
    }

    /// `humanize1024`: binary prefixes (ki Mi … Yi) above 1 in magnitude, then `%.4g`.
    static func humanize1024(_ value: TemplateValue) throws(TemplateFunctionError) -> String {
        let v = try toFloat(value)
        if abs(v) <= 1 || !v.isFinite { return g4(v) }
        return scaledDown(v, base: 1024, ["ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"])
    }

    /// `humanizeDuration` of seconds: `1d 2h 3m 4s`, `2m 5s`, `1.234s`, or `100ms`/`100us`.
    static func humanizeDuration(_ value: TemplateValue) throws(TemplateFunctionError) -> String {
        let v = try toFloat(value)
        if !v.isFinite { return g4(v) }
        if v == 0 { return g4(v) + "s" }
        if abs(v) < 1 { return scaledUp(v, ["m", "u", "n", "p", "f", "a", "z", "y"]) + "s" }
        let sign = v < 0 ? "-" : ""
        let duration = goInt64(abs(v))
        let (days, hours) = (duration / 86400, (duration / 3600) % 24)
        let (minutes, seconds) = ((duration / 60) % 60, duration % 60)
        if days != 0 { return "\(sign)\(days)d \(hours)h \(minutes)m \(seconds)s" }
        if hours != 0 { return "\(sign)\(hours)h \(minutes)m \(seconds)s" }
        if minutes != 0 { return "\(sign)\(minutes)m \(seconds)s" }
        return sign + g4(abs(v)) + "s"
    }

    /// `humanizePercentage`: `%.4g%%` of v × 100.
    static func humanizePercentage(_ value: TemplateValue) throws(TemplateFunctionError) -> String {
        g4(try toFloat(value) * 100) + "%"
    }

    /// `humanizeTimestamp` of Unix seconds: Go's `time.Time.String()` in UTC at millisecond
    /// precision (`2015-06-23 13:19:44.128 +0000 UTC`); NaN/Inf as `%.4g`.
    static func humanizeTimestamp(_ value: TemplateValue) throws(TemplateFunctionError) -> String {
        let v = try toFloat(value)
        if !v.isFinite { return g4(v) }
        let nanos = v * 1e9
        guard nanos <= 0x1p63 && nanos >= -0x1p63 else {
            throw TemplateFunctionError(
                message: "\(GoFormat.shortest(v)) cannot be represented as a nanoseconds timestamp since it overflows int64")
        }
        return goTimeString(millis: goInt64(nanos) / 1_000_000)
    }

    /// `%.4g`.
    private static func g4(_ v: Double) -> String {
        GoFormat.format(v, verb: "g", precision: 4)
    }

    /// Divides by `base` while |v| ≥ base, stepping through `prefixes`; then `%.4g` + prefix.
    private static func scaledDown(_ value: Double, base: Double, _ prefixes: [String]) -> String {
        var (v, prefix) = (value, "")
        for p in prefixes {
            if abs(v) < base { break }
            (v, prefix) = (v / base, p)
        }
        return g4(v) + prefix
    }

    /// Multiplies by 1000 while |v| < 1, stepping through `prefixes`; then `%.4g` + prefix.
    private static func scaledUp(_ value: Double, _ prefixes: [String]) -> String {
        var (v, prefix) = (value, "")
        for p in prefixes {
            if abs(v) >= 1 { break }
            (v, prefix) = (v * 1000, p)
        }
        return g4(v) + prefix
    }

    /// Go's `int64(v)` on amd64: truncation, and the "integer indefinite" value (MinInt64) when
    /// v is NaN or out of range.
    static func goInt64(_ v: Double) -> Int64 {
        guard v >= -0x1p63 && v < 0x1p63 else { return Int64.min }
        return Int64(v)
    }

    // MARK: time

    /// Go's `time.Time.String()` in UTC for a Unix time in milliseconds.
    static func goTimeString(millis: Int64) -> String {
        let (seconds, milli) = floorDivide(millis, 1000)
        let (days, secondOfDay) = floorDivide(seconds, 86400)
        let (year, month, day) = civilDate(daysSinceEpoch: days)
        var text = padded(year, 4) + "-" + padded(month, 2) + "-" + padded(day, 2) + " "
        text += padded(secondOfDay / 3600, 2) + ":" + padded(secondOfDay / 60 % 60, 2) + ":" + padded(secondOfDay % 60, 2)
        if milli != 0 {
            var fraction = padded(milli, 3)
            while fraction.hasSuffix("0") { fraction.removeLast() }
            text += "." + fraction
        }
        return text + " +0000 UTC"
    }

    /// Quotient rounded down and the non-negative remainder.
    private static func floorDivide(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
        let remainder = a % b
        return remainder < 0 ? (a / b - 1, remainder + b) : (a / b, remainder)
    }

    /// Year, month and day of a day count since 1970-01-01 (proleptic Gregorian calendar;
    /// Howard Hinnant's civil_from_days).
    private static func civilDate(daysSinceEpoch: Int64) -> (Int64, Int64, Int64) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// A number with leading zeros to `width` digits.
    private static func padded(_ n: Int64, _ width: Int) -> String {
        let digits = String(n.magnitude)
        return (n < 0 ? "-" : "") + String(repeating: "0", count: max(width - digits.count, 0)) + digits
    }

    // MARK: strings

    /// Go's `strings.Title`: the first letter of each word in title case; words are separated
    /// by ASCII characters other than letters, digits and `_`, and by Unicode spaces.
    static func title(_ s: String) -> String {
        var out = String.UnicodeScalarView()
        var previous: Unicode.Scalar = " "
        for r in s.unicodeScalars {
            out.append(isWordSeparator(previous) ? titleCase(r) : r)
            previous = r
        }
        return String(out)
    }

    /// strings.Title's isSeparator.
    private static func isWordSeparator(_ r: Unicode.Scalar) -> Bool {
        if r.isASCII {
            let c = UInt8(r.value)
            let isWordByte = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F
            return !isWordByte
        }
        if r.properties.generalCategory.isLetter { return false }
        if r.properties.generalCategory == .decimalNumber { return false }
        return r.properties.isWhitespace
    }

    /// Go's `unicode.ToTitle` (the simple mapping: a rune without a one-rune title case stays).
    private static func titleCase(_ r: Unicode.Scalar) -> Unicode.Scalar {
        let mapped = r.properties.titlecaseMapping.unicodeScalars
        guard mapped.count == 1, let first = mapped.first else { return r }
        return first
    }

    /// Prometheus' `stripPort`: the host of `host:port` (brackets removed), else the input.
    static func stripPort(_ hostPort: String) -> String {
        splitHostPort(hostPort)?.host ?? hostPort
    }

    /// Prometheus' `stripDomain`: the host's first label, port kept; IP addresses and their
    /// host:port stay unchanged.
    static func stripDomain(_ hostPort: String) -> String {
        let split = splitHostPort(hostPort)
        let host = split?.host ?? hostPort
        if isIPAddress(Array(host.utf8)) { return hostPort }
        let label = String(host.prefix { $0 != "." })
        guard let port = split?.port, !port.isEmpty else { return label }
        return label.contains(":") ? "[" + label + "]:" + port : label + ":" + port
    }

    /// Go's `net.SplitHostPort`; nil where Go returns an error.
    static func splitHostPort(_ hostPort: String) -> (host: String, port: String)? {
        let bytes = Array(hostPort.utf8)
        guard let colon = bytes.lastIndex(of: UInt8(ascii: ":")) else { return nil }
        var host: ArraySlice<UInt8>
        var (hostStart, portStart) = (0, 0)
        if bytes.first == UInt8(ascii: "[") {
            guard let end = bytes.firstIndex(of: UInt8(ascii: "]")), end + 1 == colon else { return nil }
            host = bytes[1..<end]
            (hostStart, portStart) = (1, end + 1)
        } else {
            host = bytes[..<colon]
            if host.contains(UInt8(ascii: ":")) { return nil }
        }
        if bytes[hostStart...].contains(UInt8(ascii: "[")) || bytes[portStart...].contains(UInt8(ascii: "]")) { return nil }
        return (String(decoding: host, as: UTF8.self), String(decoding: bytes[(colon + 1)...], as: UTF8.self))
    }

    /// Whether Go's `net.ParseIP` accepts the text (dotted IPv4 or IPv6, no zone).
    static func isIPAddress(_ s: [UInt8]) -> Bool {
        for c in s {
            if c == UInt8(ascii: ".") { return parseIPv4(s[...]) }
            if c == UInt8(ascii: ":") { return isIPv6(s[...]) }
        }
        return false
    }

    /// Go's parseIPv4: four decimal octets ≤ 255 without leading zeros, nothing after.
    private static func parseIPv4(_ text: ArraySlice<UInt8>) -> Bool {
        var s = text
        for octet in 0..<4 {
            if octet > 0 {
                guard s.first == UInt8(ascii: ".") else { return false }
                s = s.dropFirst()
            }
            let digits = s.prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
            guard !digits.isEmpty, digits.count <= 3, let value = Int(String(decoding: digits, as: UTF8.self)),
                value <= 255, digits.count == 1 || digits.first != UInt8(ascii: "0")
            else { return false }
            s = s.dropFirst(digits.count)
        }
        return s.isEmpty
    }

    /// Go's parseIPv6: up to eight hex groups with at most one `::`, optionally ending in an
    /// embedded IPv4 address.
    private static func isIPv6(_ text: ArraySlice<UInt8>) -> Bool {
        var s = text
        var sawEllipsis = false
        var bytes = 0
        if s.starts(with: [UInt8(ascii: ":"), UInt8(ascii: ":")]) {
            sawEllipsis = true
            s = s.dropFirst(2)
            if s.isEmpty { return true }
        }
        while bytes < 16 {
            let hex = s.prefix { $0.isHexDigit }
            guard let group = hexValue(hex), group <= 0xFFFF else { return false }
            if hex.endIndex < s.endIndex && s[hex.endIndex] == UInt8(ascii: ".") {
                guard (sawEllipsis || bytes == 12) && bytes + 4 <= 16, parseIPv4(s) else { return false }
                s = s[s.endIndex...]
                bytes += 4
                break
            }
            bytes += 2
            s = s[hex.endIndex...]
            if s.isEmpty { break }
            guard s.first == UInt8(ascii: ":"), s.count > 1 else { return false }
            s = s.dropFirst()
            if s.first == UInt8(ascii: ":") {
                if sawEllipsis { return false }
                sawEllipsis = true
                s = s.dropFirst()
                if s.isEmpty { break }
            }
        }
        guard s.isEmpty else { return false }
        return bytes < 16 ? sawEllipsis : !sawEllipsis
    }

    /// Go's xtoi: the value of hex digits, nil when there are none or it reaches 0xFFFFFF.
    private static func hexValue(_ digits: ArraySlice<UInt8>) -> Int? {
        guard !digits.isEmpty else { return nil }
        var n = 0
        for c in digits {
            n = n * 16 + (Int(String(UnicodeScalar(c)), radix: 16) ?? 0)
            if n >= 0xFFFFFF { return nil }
        }
        return n
    }

    /// Go's `url.QueryEscape`: `A-Za-z0-9-_.~` kept, space as `+`, other bytes as `%XX`.
    static func queryEscape(_ s: String) -> String {
        var out = ""
        for byte in s.utf8 {
            let isUnreserved = byte.isASCIIAlphanumeric || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "~")
            if isUnreserved {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else if byte == UInt8(ascii: " ") {
                out += "+"
            } else {
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count < 2 ? "0" : "") + hex
            }
        }
        return out
    }

    /// Prometheus' `graphLink`: the expression in the graph page's table-less tab.
    static func graphLink(_ expr: String) -> String {
        "/graph?g0.expr=" + queryEscape(expr) + "&g0.tab=0"
    }

    /// Prometheus' `tableLink`: the expression in the graph page's table tab.
    static func tableLink(_ expr: String) -> String {
        "/graph?g0.expr=" + queryEscape(expr) + "&g0.tab=1"
    }

    /// text/template's `html` (HTMLEscapeString): `" ' & < >` as entities, NUL as U+FFFD.
    static func html(_ s: String) -> String {
        var out = ""
        for r in s.unicodeScalars {
            switch r {
            case "\0": out += "\u{FFFD}"
            case "\"": out += "&#34;"
            case "'": out += "&#39;"
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            default: out.unicodeScalars.append(r)
            }
        }
        return out
    }

    /// text/template's `js` (JSEscapeString): `\\ \' \"`, `< > & =` and control characters as
    /// `\uXXXX` (uppercase hex), non-printable non-ASCII runes as `\uXXXX`.
    static func js(_ s: String) -> String {
        var out = ""
        for r in s.unicodeScalars {
            switch r {
            case "\\": out += "\\\\"
            case "'": out += "\\'"
            case "\"": out += "\\\""
            case "<", ">", "&", "=": out += unicodeEscape(r)
            default:
                let plain = r.isASCII ? r.value >= 0x20 : GoFormat.isPrint(r)
                if plain { out.unicodeScalars.append(r) } else { out += unicodeEscape(r) }
            }
        }
        return out
    }

    /// `\u` and at least four uppercase hex digits.
    private static func unicodeEscape(_ r: Unicode.Scalar) -> String {
        let hex = String(r.value, radix: 16, uppercase: true)
        return "\\u" + String(repeating: "0", count: max(4 - hex.count, 0)) + hex
    }
}

private extension UInt8 {
    /// ASCII `0-9A-Za-z`.
    var isASCIIAlphanumeric: Bool {
        (self >= 0x30 && self <= 0x39) || (self >= 0x41 && self <= 0x5A) || (self >= 0x61 && self <= 0x7A)
    }

    /// ASCII hex digit.
    var isHexDigit: Bool {
        (self >= 0x30 && self <= 0x39) || (self >= 0x41 && self <= 0x46) || (self >= 0x61 && self <= 0x66)
    }
}

private extension Unicode.GeneralCategory {
    /// Go's `unicode.IsLetter`: category L.
    var isLetter: Bool {
        switch self {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: true
        default: false
        }
    }
}

// MARK: - ParseFloat and ParseDuration

extension TemplateFunctions {
    /// Go's `strconv.ParseFloat(s, 64)`: decimal and hex (`0x1p-2`) floats with `_` digit
    /// separators, `inf`/`infinity`/`nan` in any case; errors worded as Go's.
    static func parseFloat(_ s: String) throws(TemplateFunctionError) -> Double {
        let bytes = Array(s.utf8)
        if let special = specialFloat(bytes) { return special }
        let digits = String(decoding: bytes.filter { $0 != UInt8(ascii: "_") }, as: UTF8.self)
        guard isFloatSyntax(bytes), let v = Double(digits) else {
            throw TemplateFunctionError(message: "strconv.ParseFloat: parsing \(GoFormat.quote(s)): invalid syntax")
        }
        if v.isInfinite {
            throw TemplateFunctionError(message: "strconv.ParseFloat: parsing \(GoFormat.quote(s)): value out of range")
        }
        return v
    }

    /// Go's `special`: the whole text is `[+-]inf`, `[+-]infinity` or `nan`, in any case.
    private static func specialFloat(_ s: [UInt8]) -> Double? {
        let lower = String(decoding: s.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
        switch lower {
        case "nan": return .nan
        case "inf", "+inf", "infinity", "+infinity": return .infinity
        case "-inf", "-infinity": return -.infinity
        default: return nil
        }
    }

    /// Go's readFloat accepting the whole text: sign, mantissa digits (hex after `0x`, which
    /// then needs a `p` exponent), optional exponent, and `_` only between digits.
    private static func isFloatSyntax(_ s: [UInt8]) -> Bool {
        var i = s.first == UInt8(ascii: "+") || s.first == UInt8(ascii: "-") ? 1 : 0
        let hex = i + 2 < s.count && s[i] == UInt8(ascii: "0") && (s[i + 1] | 0x20) == UInt8(ascii: "x")
        if hex { i += 2 }
        var (sawDot, sawDigits, underscores) = (false, false, false)
        mantissa: while i < s.count {
            let c = s[i]
            if c == UInt8(ascii: "_") {
                underscores = true
            } else if c == UInt8(ascii: ".") {
                if sawDot { break mantissa }
                sawDot = true
            } else if (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || (hex && c.isHexDigit) {
                sawDigits = true
            } else {
                break mantissa
            }
            i += 1
        }
        guard sawDigits else { return false }
        let exponentChar = hex ? UInt8(ascii: "p") : UInt8(ascii: "e")
        if i < s.count && (s[i] | 0x20) == exponentChar {
            guard skipExponent(s, &i, &underscores) else { return false }
        } else if hex {
            return false
        }
        return i == s.count && (!underscores || underscoreOK(s))
    }

    /// The exponent after `e`/`p`: optional sign, then digits (and `_`).
    private static func skipExponent(_ s: [UInt8], _ i: inout Int, _ underscores: inout Bool) -> Bool {
        i += 1
        if i < s.count && (s[i] == UInt8(ascii: "+") || s[i] == UInt8(ascii: "-")) { i += 1 }
        guard i < s.count && s[i] >= UInt8(ascii: "0") && s[i] <= UInt8(ascii: "9") else { return false }
        while i < s.count && ((s[i] >= UInt8(ascii: "0") && s[i] <= UInt8(ascii: "9")) || s[i] == UInt8(ascii: "_")) {
            if s[i] == UInt8(ascii: "_") { underscores = true }
            i += 1
        }
        return true
    }

    /// Go's underscoreOK: each `_` sits between digits (a base prefix counts as a digit).
    private static func underscoreOK(_ text: [UInt8]) -> Bool {
        var s = text[...]
        if s.first == UInt8(ascii: "+") || s.first == UInt8(ascii: "-") { s = s.dropFirst() }
        var saw: UInt8 = UInt8(ascii: "^")
        var hex = false
        if s.count >= 2 && s.first == UInt8(ascii: "0") && [UInt8(ascii: "b"), UInt8(ascii: "o"), UInt8(ascii: "x")].contains(s[s.startIndex + 1] | 0x20) {
            hex = (s[s.startIndex + 1] | 0x20) == UInt8(ascii: "x")
            saw = UInt8(ascii: "0")
            s = s.dropFirst(2)
        }
        for c in s {
            if (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || (hex && c.isHexDigit) {
                saw = UInt8(ascii: "0")
            } else if c == UInt8(ascii: "_") {
                if saw != UInt8(ascii: "0") { return false }
                saw = UInt8(ascii: "_")
            } else {
                if saw == UInt8(ascii: "_") { return false }
                saw = UInt8(ascii: "!")
            }
        }
        return saw != UInt8(ascii: "_")
    }

    /// Prometheus' `parseDuration`: model.ParseDuration (`1h2m10ms`; units y w d h m s ms, each
    /// at most once, in that order; `0` alone allowed) as float seconds.
    static func parseDuration(_ s: String) throws(TemplateFunctionError) -> Double {
        if s == "0" { return 0 }
        if s.isEmpty { throw TemplateFunctionError(message: "empty duration string") }
        guard let terms = durationTerms(Array(s.utf8)) else {
            throw TemplateFunctionError(message: "not a valid duration string: \(GoFormat.quote(s))")
        }
        var nanos: Int64 = 0
        for (count, unitMillis) in terms {
            let limit = Int64.max / unitMillis / 1_000_000
            guard let n = count, n <= limit else { throw TemplateFunctionError(message: "duration out of range") }
            let (sum, overflow) = nanos.addingReportingOverflow(n * 1_000_000 * unitMillis)
            if overflow { throw TemplateFunctionError(message: "duration out of range") }
            nanos = sum
        }
        return Double(nanos) / 1e9
    }

    /// The `<digits><unit>` terms of a duration with each unit's milliseconds; nil unless the
    /// units are distinct and descending. A count too large for Int64 is nil.
    private static func durationTerms(_ s: [UInt8]) -> [(count: Int64?, unitMillis: Int64)]? {
        let units: [(name: String, millis: Int64)] = [
            ("y", 31_536_000_000), ("w", 604_800_000), ("d", 86_400_000), ("h", 3_600_000),
            ("m", 60_000), ("s", 1000), ("ms", 1),
        ]
        var terms: [(count: Int64?, unitMillis: Int64)] = []
        var (i, nextUnit) = (0, 0)
        while i < s.count {
            let digits = s[i...].prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
            guard !digits.isEmpty else { return nil }
            i = digits.endIndex
            let rest = String(decoding: s[i...], as: UTF8.self)
            let name = rest.hasPrefix("ms") ? "ms" : String(rest.prefix(1))
            guard let unit = units.indices.first(where: { units[$0].name == name }), unit >= nextUnit else { return nil }
            terms.append((Int64(String(decoding: digits, as: UTF8.self)), units[unit].millis))
            (i, nextUnit) = (i + name.utf8.count, unit + 1)
        }
        return terms
    }
}

// MARK: - query results and args

extension TemplateFunctions {
    /// Prometheus' `first`: the first sample of a query result.
    static func first(_ results: [TemplateValue]) throws(TemplateFunctionError) -> TemplateValue {
        guard let sample = results.first else {
            throw TemplateFunctionError(message: "first() called on vector with no elements")
        }
        return sample
    }

    /// Prometheus' `label`: a sample's label value, `""` when missing.
    static func label(_ name: String, _ sample: TemplateValue) -> String {
        guard case .string(let value)? = sample.member("Labels")?.member(name) else { return "" }
        return value
    }

    /// Prometheus' `value`: a sample's value (0 for anything else).
    static func value(_ sample: TemplateValue) -> Double {
        guard case .float(let v)? = sample.member("Value") else { return 0 }
        return v
    }

    /// Prometheus' `strvalue`: the sample's `__value__` label (legacy, almost always `""`).
    static func strvalue(_ sample: TemplateValue) -> String {
        label("__value__", sample)
    }

    /// Prometheus' `sortByLabel`: a stable sort by a label's value (byte order, missing = `""`).
    static func sortByLabel(_ name: String, _ results: [TemplateValue]) -> [TemplateValue] {
        let keyed = results.enumerated().map { (key: Array(label(name, $0.element).utf8), index: $0.offset, sample: $0.element) }
        return keyed.sorted { a, b in
            a.key == b.key ? a.index < b.index : a.key.lexicographicallyPrecedes(b.key)
        }.map(\.sample)
    }

    /// Prometheus' `args`: a map `arg0`, `arg1`, … of the operands.
    static func args(_ values: [TemplateValue]) -> TemplateValue {
        .map(Dictionary(uniqueKeysWithValues: values.enumerated().map { ("arg\($0.offset)", $0.element) }))
    }
}
