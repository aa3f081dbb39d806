import TSDB

// A parser for Prometheus' promqltest script format (the `*.test` files run by
// Prometheus v2.42 `promql/test.go`). It only parses; evaluating the PromQL is up to the caller.
//
// Layout of a script:
//
//     # comment
//     load 5m
//         http_requests{job="api", instance="0"}  0+10x10
//         other_metric                             1 _ stale 2x3
//
//     eval instant at 50m sum(http_requests)
//         {} 100
//
//     eval_fail instant at 0m label_replace(...)
//
//     clear
//
// Lines are trimmed. Empty lines and lines starting with `#` are skipped. A command line is
// followed by its block: the non-empty, non-comment, indented (space or tab) lines right after
// it. As in Prometheus, an empty or comment line ends a block; an unindented line ends it too
// (it starts the next command). Command lines themselves may be indented, as Prometheus ignores
// indentation there.

// MARK: - Script model

/// One command of a promqltest script.
enum PromQLTestCommand: Sendable {
    /// `load <interval>` followed by indented series lines: samples at 0, interval, 2*interval, …
    case load(intervalMs: Int64, series: [LoadedSeries])
    /// `clear`
    case clear
    /// `eval instant at <time> <expr>` / `eval_ordered instant at ...` / `eval_fail instant at ...`
    case eval(EvalCase)
}

/// One series line of a `load` block, expanded into samples.
struct LoadedSeries: Sendable {
    let labels: Labels
    /// (timestamp in ms, value). A `_` position produces no sample; `stale` produces the
    /// Prometheus stale marker Double(bitPattern: 0x7ff0000000000002).
    let samples: [(t: Int64, v: Double)]
}

/// One `eval` command with its expected result.
struct EvalCase: Sendable {
    /// 1-based line number of the eval line, for messages.
    let line: Int
    /// File name, for messages.
    let file: String
    /// Evaluation time in milliseconds since the Unix epoch (the test start time is 0).
    let timeMs: Int64
    /// The PromQL text, exactly as written after the time (the line's trailing whitespace is trimmed).
    let expression: String
    /// `eval_ordered`: the result's order matters.
    let ordered: Bool
    /// `eval_fail`: the evaluation must fail.
    let shouldFail: Bool
    /// The result lines of the block.
    let expected: ExpectedResult
}

/// The result lines of an `eval` block.
enum ExpectedResult: Sendable {
    /// No result lines given (an empty vector is expected; callers decide how to treat scalars).
    case empty
    /// A single bare number line (a scalar result), e.g. `	3`.
    case scalar(Double)
    /// Lines of `<series selector> <value>`; the selector may be `{}` or `{a="b"}` or `name{...}` or a bare `name`.
    case vector([(labels: Labels, value: Double)])
}

/// A script that cannot be parsed, with the file and 1-based line it was found at.
enum PromQLTestScriptError: Error, CustomStringConvertible, Sendable {
    /// A command line whose first word is not `load`, `clear`, `eval`, `eval_ordered` or `eval_fail`.
    case unknownCommand(file: String, line: Int, text: String)
    /// A known command, or a line of its block, that is malformed.
    case malformed(file: String, line: Int, message: String)

    /// The script's file name.
    var file: String {
        switch self {
        case .unknownCommand(let file, _, _), .malformed(let file, _, _):
            return file
        }
    }

    /// The 1-based line number of the offending line.
    var line: Int {
        switch self {
        case .unknownCommand(_, let line, _), .malformed(_, let line, _):
            return line
        }
    }

    var description: String {
        switch self {
        case .unknownCommand(let file, let line, let text):
            return "\(file):\(line): unknown command \"\(text)\""
        case .malformed(let file, let line, let message):
            return "\(file):\(line): \(message)"
        }
    }
}

// MARK: - Parser

/// Parses promqltest scripts. See the comment at the top of this file for the layout.
enum PromQLTestScript {
    /// The largest repetition count accepted in `axN`, `a+bxN` and `_xN`, so that a typo cannot
    /// exhaust memory. The largest count in Prometheus' own test files is 10000.
    static let maxRepetition = 10_000_000

    /// Milliseconds per duration unit, in the order the units must appear: y, w, d, h, m, s, ms.
    private static let durationUnitMs: [Int64] = [
        365 * 86_400_000, 7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1_000, 1,
    ]

    /// Parses a whole script. `file` is used in messages.
    static func parse(_ text: String, file: String) throws -> [PromQLTestCommand] {
        let lines = splitLines(text)
        var commands: [PromQLTestCommand] = []
        var index = 0
        while index < lines.count {
            let header = lines[index]
            index += 1
            if header.isBlankOrComment { continue }
            var body: [ScriptLine] = []
            while index < lines.count, lines[index].continuesBlock {
                body.append(lines[index])
                index += 1
            }
            commands.append(try parseCommand(header, body: body, file: file))
        }
        return commands
    }

    /// Parses Prometheus durations (common/model `ParseDuration`) into milliseconds.
    ///
    /// Accepts `0` and any non-empty sequence of `<digits><unit>` with units from `y` (365d),
    /// `w`, `d`, `h`, `m`, `s`, `ms`, each at most once and in that order: `5m`, `1h30m`,
    /// `10s`, `1d`, `1w`, `1y`, `500ms`, `1000s`. A plain integer other than `0` is rejected, as in
    /// Prometheus (the test files never use one). Returns nil when invalid or on Int64 overflow.
    static func parseDuration(_ s: String) -> Int64? {
        if s == "0" { return 0 }
        let bytes = Array(s.utf8)
        guard !bytes.isEmpty else { return nil }
        var position = 0
        var nextUnit = 0
        var total: Int64 = 0
        while position < bytes.count {
            let digitsStart = position
            var amount: Int64 = 0
            while position < bytes.count, bytes[position] >= UInt8(ascii: "0"), bytes[position] <= UInt8(ascii: "9") {
                let (shifted, overflow1) = amount.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = shifted.addingReportingOverflow(Int64(bytes[position] - UInt8(ascii: "0")))
                if overflow1 || overflow2 { return nil }
                amount = sum
                position += 1
            }
            guard position > digitsStart,
                  let unit = durationUnit(bytes, at: position),
                  unit.index >= nextUnit
            else { return nil }
            let (product, overflow1) = amount.multipliedReportingOverflow(by: durationUnitMs[unit.index])
            let (sum, overflow2) = total.addingReportingOverflow(product)
            if overflow1 || overflow2 { return nil }
            total = sum
            position += unit.length
            nextUnit = unit.index + 1
        }
        return total
    }

    /// The duration unit starting at `position`: its index in `durationUnitMs` and its length.
    private static func durationUnit(_ bytes: [UInt8], at position: Int) -> (index: Int, length: Int)? {
        guard position < bytes.count else { return nil }
        let c = bytes[position]
        if c == UInt8(ascii: "m"), position + 1 < bytes.count, bytes[position + 1] == UInt8(ascii: "s") {
            return (index: 6, length: 2)
        }
        switch c {
        case UInt8(ascii: "y"): return (index: 0, length: 1)
        case UInt8(ascii: "w"): return (index: 1, length: 1)
        case UInt8(ascii: "d"): return (index: 2, length: 1)
        case UInt8(ascii: "h"): return (index: 3, length: 1)
        case UInt8(ascii: "m"): return (index: 4, length: 1)
        case UInt8(ascii: "s"): return (index: 5, length: 1)
        default: return nil
        }
    }

    // MARK: Lines and commands

    /// Splits on `\n` (and `\r\n`, a single Character in Swift) and trims every line.
    private static func splitLines(_ text: String) -> [ScriptLine] {
        let rawLines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        var lines: [ScriptLine] = []
        lines.reserveCapacity(rawLines.count)
        for (offset, raw) in rawLines.enumerated() {
            let indented = raw.first == " " || raw.first == "\t"
            lines.append(ScriptLine(number: offset + 1, text: trimmed(raw), isIndented: indented))
        }
        return lines
    }

    /// Dispatches on the first word of a command line.
    private static func parseCommand(_ header: ScriptLine, body: [ScriptLine], file: String) throws -> PromQLTestCommand {
        switch splitToken(header.text).token {
        case "clear":
            guard header.text == "clear" else {
                throw malformed(header, file, "`clear` takes no arguments")
            }
            if let extra = body.first {
                throw malformed(extra, file, "unexpected indented line after `clear`")
            }
            return .clear
        case "load":
            return try parseLoad(header, body: body, file: file)
        case "eval", "eval_ordered", "eval_fail":
            return .eval(try parseEval(header, body: body, file: file))
        default:
            throw PromQLTestScriptError.unknownCommand(file: file, line: header.number, text: String(header.text))
        }
    }

    /// Parses `load <duration>` and its series lines.
    private static func parseLoad(_ header: ScriptLine, body: [ScriptLine], file: String) throws -> PromQLTestCommand {
        let argument = splitToken(header.text).rest
        let (intervalText, extra) = splitToken(argument)
        guard !intervalText.isEmpty, extra.isEmpty, let interval = parseDuration(String(intervalText)) else {
            throw malformed(header, file, "expected `load <duration>`, got \"\(header.text)\"")
        }
        guard interval > 0 else {
            throw malformed(header, file, "the load interval must be positive")
        }
        var series: [LoadedSeries] = []
        series.reserveCapacity(body.count)
        for line in body {
            series.append(try located(line, file) { try loadedSeries(line.text, intervalMs: interval) })
        }
        return .load(intervalMs: interval, series: series)
    }

    /// Parses one series line of a `load` block; the k-th position (counting `_`) is at k*interval.
    private static func loadedSeries(_ text: Substring, intervalMs: Int64) throws -> LoadedSeries {
        let (labels, values) = try parseSeriesLine(text)
        var samples: [(t: Int64, v: Double)] = []
        samples.reserveCapacity(values.count)
        for (step, value) in values.enumerated() {
            guard let value else { continue }
            let (t, overflow) = Int64(step).multipliedReportingOverflow(by: intervalMs)
            if overflow { throw LineError("sample timestamp overflows Int64") }
            samples.append((t: t, v: value))
        }
        return LoadedSeries(labels: labels, samples: samples)
    }

    /// Parses an `eval` line and its expected result lines.
    private static func parseEval(_ header: ScriptLine, body: [ScriptLine], file: String) throws -> EvalCase {
        let parsed = try located(header, file) { try evalHeader(header.text) }
        let expected = try parseExpected(body, file: file)
        return EvalCase(
            line: header.number,
            file: file,
            timeMs: parsed.timeMs,
            expression: parsed.expression,
            ordered: parsed.ordered,
            shouldFail: parsed.shouldFail,
            expected: expected
        )
    }

    /// Parses `eval[_ordered|_fail] instant at <time> <expr>`; the expression is the rest of the line.
    private static func evalHeader(_ text: Substring) throws -> EvalHeader {
        let (command, afterCommand) = splitToken(text)
        let (kind, afterKind) = splitToken(afterCommand)
        guard kind == "instant" else {
            throw LineError("expected `\(command) instant at <time> <expr>`; only instant evaluation is supported")
        }
        let (at, afterAt) = splitToken(afterKind)
        guard at == "at" else {
            throw LineError("expected `at <time>` after `instant`")
        }
        let (time, expression) = splitToken(afterAt)
        guard let timeMs = parseDuration(String(time)) else {
            throw LineError("invalid evaluation time \"\(time)\"")
        }
        guard !expression.isEmpty else {
            throw LineError("missing expression after the evaluation time")
        }
        return EvalHeader(
            ordered: command == "eval_ordered",
            shouldFail: command == "eval_fail",
            timeMs: timeMs,
            expression: String(expression)
        )
    }

    /// Parses the result lines of an `eval` block: nothing, one bare number, or series lines.
    ///
    /// As in Prometheus, a line that parses as a whole as a number is a scalar result; anything
    /// else is `<selector> <value>`. A scalar line must be the only line.
    private static func parseExpected(_ body: [ScriptLine], file: String) throws -> ExpectedResult {
        guard let first = body.first else { return .empty }
        if let scalar = parseNumber(first.text) {
            if let extra = body.dropFirst().first {
                throw malformed(extra, file, "a scalar result must be the only result line")
            }
            return .scalar(scalar)
        }
        var samples: [(labels: Labels, value: Double)] = []
        samples.reserveCapacity(body.count)
        for line in body {
            if parseNumber(line.text) != nil {
                throw malformed(line, file, "a scalar result cannot be mixed with series results")
            }
            samples.append(try located(line, file) { try expectedSample(line.text) })
        }
        return .vector(samples)
    }

    /// Parses `<selector> <value>` where the value expands to exactly one sample.
    private static func expectedSample(_ text: Substring) throws -> (labels: Labels, value: Double) {
        let (labels, values) = try parseSeriesLine(text)
        guard values.count == 1, let value = values[0] else {
            throw LineError("an expected result line needs exactly one value, got \"\(text)\"")
        }
        return (labels: labels, value: value)
    }

    // MARK: Series lines

    /// Parses `<selector> <values>`: the labels, then one entry per position (nil for `_`).
    private static func parseSeriesLine(_ text: Substring) throws -> (labels: Labels, values: [Double?]) {
        var scanner = ScalarScanner(text)
        let labels = try parseSelector(&scanner)
        if scanner.isAtEnd {
            throw LineError("missing values after the series selector")
        }
        guard scanner.skipWhitespace() else {
            throw LineError("expected whitespace between the series selector and its values")
        }
        let items = scanner.remainder.split(whereSeparator: { $0.isWhitespace })
        guard !items.isEmpty else {
            throw LineError("missing values after the series selector")
        }
        var values: [Double?] = []
        for item in items {
            values.append(contentsOf: try parseSeriesItem(item))
        }
        return (labels: labels, values: values)
    }

    /// Parses `name`, `name{...}` or `{...}`. A metric name becomes `__name__` and wins over a
    /// `__name__` inside the braces (as Prometheus' labels.Builder.Set does). Whitespace between
    /// the name and `{` is tolerated (Prometheus rejects it).
    private static func parseSelector(_ scanner: inout ScalarScanner) throws -> Labels {
        var name: String?
        if let c = scanner.current, CharClass.isMetricNameStart(c) {
            name = scanner.consume(while: CharClass.isMetricNameChar)
        }
        let afterName = scanner.position
        scanner.skipWhitespace()
        var pairs: [Label] = []
        if scanner.current == "{" {
            pairs = try parseLabelSet(&scanner)
        } else {
            scanner.reset(to: afterName)
            guard name != nil else {
                throw LineError("expected a metric name or '{' at the start of a series line")
            }
        }
        if let name {
            pairs.removeAll { $0.name == Labels.metricName }
            pairs.append(Label(Labels.metricName, name))
        }
        return Labels(pairs)
    }

    /// Parses `{}` or `{name="value", ...}` with an optional trailing comma.
    private static func parseLabelSet(_ scanner: inout ScalarScanner) throws -> [Label] {
        guard scanner.next() == "{" else { throw LineError("expected '{'") }
        var labels: [Label] = []
        var seen: Set<String> = []
        while true {
            scanner.skipWhitespace()
            if scanner.current == "}" {
                scanner.next()
                return labels
            }
            let label = try parseLabelPair(&scanner)
            guard seen.insert(label.name).inserted else {
                throw LineError("duplicate label \"\(label.name)\" in label set")
            }
            labels.append(label)
            scanner.skipWhitespace()
            let separator = scanner.next()
            if separator == "," { continue }
            if separator == "}" { return labels }
            throw LineError("expected ',' or '}' after label \"\(label.name)\"")
        }
    }

    /// Parses `name="value"` (only `=` is allowed in series descriptions).
    private static func parseLabelPair(_ scanner: inout ScalarScanner) throws -> Label {
        guard let first = scanner.current, CharClass.isAlpha(first) else {
            throw LineError("expected a label name")
        }
        let name = scanner.consume(while: CharClass.isAlphaNumeric)
        scanner.skipWhitespace()
        guard scanner.next() == "=" else {
            throw LineError("expected '=' after label name \"\(name)\"")
        }
        if scanner.current == "~" {
            throw LineError("only '=' is allowed in a series description, not '=~'")
        }
        scanner.skipWhitespace()
        let value = try parseQuotedString(&scanner)
        return Label(name, value)
    }

    /// Parses a PromQL string: `"..."` or `'...'` with Go escapes, or a raw `` `...` `` string.
    private static func parseQuotedString(_ scanner: inout ScalarScanner) throws -> String {
        guard let quote = scanner.next(), quote == "\"" || quote == "'" || quote == "`" else {
            throw LineError("expected a quoted label value")
        }
        var bytes: [UInt8] = []
        while true {
            guard let c = scanner.next() else { throw LineError("unterminated string") }
            if c == quote { return String(decoding: bytes, as: UTF8.self) }
            if c == "\\" && quote != "`" {
                try appendEscape(&scanner, quote: quote, to: &bytes)
            } else {
                bytes.append(contentsOf: String(Character(c)).utf8)
            }
        }
    }

    /// Decodes the escape after a backslash: \a \b \f \n \r \t \v \\ \<quote>, \ooo and \xHH
    /// (raw bytes, as in Go), \uHHHH and \UHHHHHHHH (code points).
    private static func appendEscape(_ scanner: inout ScalarScanner, quote: Unicode.Scalar, to bytes: inout [UInt8]) throws {
        guard let e = scanner.next() else { throw LineError("unterminated escape sequence") }
        switch e {
        case "a": bytes.append(0x07)
        case "b": bytes.append(0x08)
        case "f": bytes.append(0x0C)
        case "n": bytes.append(0x0A)
        case "r": bytes.append(0x0D)
        case "t": bytes.append(0x09)
        case "v": bytes.append(0x0B)
        case "\\": bytes.append(0x5C)
        case quote: bytes.append(contentsOf: String(Character(quote)).utf8)
        case "x":
            let value = try readDigits(&scanner, count: 2, radix: 16)
            bytes.append(UInt8(value))
        case "u", "U":
            let value = try readDigits(&scanner, count: e == "u" ? 4 : 8, radix: 16)
            guard let scalar = Unicode.Scalar(value) else {
                throw LineError("invalid code point in escape sequence")
            }
            bytes.append(contentsOf: String(Character(scalar)).utf8)
        default:
            guard let high = CharClass.digitValue(e, radix: 8) else {
                throw LineError("unknown escape sequence \"\\\(Character(e))\"")
            }
            let low = try readDigits(&scanner, count: 2, radix: 8)
            let value = high * 64 + low
            guard value <= 0xFF else { throw LineError("octal escape value out of range") }
            bytes.append(UInt8(value))
        }
    }

    /// Reads exactly `count` digits in `radix`.
    private static func readDigits(_ scanner: inout ScalarScanner, count: Int, radix: UInt32) throws -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<count {
            guard let c = scanner.next(), let digit = CharClass.digitValue(c, radix: radix) else {
                throw LineError("invalid escape sequence")
            }
            value = value * radix + digit
        }
        return value
    }

    // MARK: Series values

    /// Expands one whitespace-free item of a value sequence (Prometheus' `series_item`):
    ///
    /// - `_` is one position without a sample.
    /// - `_xN` is N positions without samples (N, not N+1: Prometheus' grammar loops
    ///   `i < N` for blanks, unlike values).
    /// - `v` is one sample; v is a number, `Inf`/`NaN` (any case, optional sign) or `stale`.
    /// - `vxN` is N+1 samples of v (`0x10` is eleven zeros: hex is off in series descriptions).
    /// - `v+sxN` / `v-sxN` are N+1 samples v, v±s, …; the step is added cumulatively, as in
    ///   Prometheus, so floating-point rounding matches its results (e.g. `0+1.33x10`).
    private static func parseSeriesItem(_ item: Substring) throws -> [Double?] {
        var scanner = ScalarScanner(item)
        if scanner.current == "_" {
            scanner.next()
            if scanner.isAtEnd { return [nil] }
            guard scanner.next() == "x" else { throw LineError("invalid series value \"\(item)\"") }
            let count = try parseRepetition(&scanner, item: item)
            return [Double?](repeating: nil, count: count)
        }
        let start = try parseSeriesValue(&scanner, item: item)
        guard let next = scanner.next() else { return [start] }
        if next == "x" {
            let times = try parseRepetition(&scanner, item: item)
            return [Double?](repeating: start, count: times + 1)
        }
        guard next == "+" || next == "-" else {
            throw LineError("invalid series value \"\(item)\"")
        }
        let magnitude = try parseNumberLiteral(&scanner, item: item)
        let step = next == "-" ? -magnitude : magnitude
        guard scanner.next() == "x" else {
            throw LineError("expected 'x<count>' after the step in series value \"\(item)\"")
        }
        let times = try parseRepetition(&scanner, item: item)
        var values: [Double?] = []
        values.reserveCapacity(times + 1)
        var current = start
        for _ in 0...times {
            values.append(current)
            current += step
        }
        return values
    }

    /// Parses the decimal repetition count after `x`, which must end the item.
    private static func parseRepetition(_ scanner: inout ScalarScanner, item: Substring) throws -> Int {
        let digits = scanner.consume(while: CharClass.isDigit)
        guard !digits.isEmpty, scanner.isAtEnd, let count = Int(digits), count <= maxRepetition else {
            throw LineError("invalid repetition count in series value \"\(item)\"")
        }
        return count
    }

    /// Parses a series value: an optionally signed number, `Inf` or `NaN`, or `stale` (unsigned).
    private static func parseSeriesValue(_ scanner: inout ScalarScanner, item: Substring) throws -> Double {
        var sign: Unicode.Scalar?
        if scanner.current == "+" || scanner.current == "-" {
            sign = scanner.next()
        }
        guard let first = scanner.current else {
            throw LineError("invalid series value \"\(item)\"")
        }
        let magnitude: Double
        if CharClass.isAlpha(first) {
            // Like Prometheus' lexer, a word runs over letters, digits, '_' and ':'.
            let word = scanner.consume(while: { CharClass.isAlphaNumeric($0) || $0 == ":" })
            switch word.lowercased() {
            case "inf":
                magnitude = .infinity
            case "nan":
                magnitude = .nan
            default:
                guard word == "stale", sign == nil else {
                    throw LineError("invalid series value \"\(item)\": expected a number or \"stale\"")
                }
                return staleMarker
            }
        } else {
            magnitude = try parseNumberLiteral(&scanner, item: item)
        }
        return sign == "-" ? -magnitude : magnitude
    }

    /// Scans an unsigned decimal literal as Prometheus' lexer does in series descriptions
    /// (digits, optional fraction, optional exponent; no hex) and converts it with `parseNumber`.
    private static func parseNumberLiteral(_ scanner: inout ScalarScanner, item: Substring) throws -> Double {
        let start = scanner.position
        guard let first = scanner.current,
              CharClass.isDigit(first) || (first == "." && scanner.lookahead(1).map(CharClass.isDigit) == true)
        else {
            throw LineError("expected a number in series value \"\(item)\"")
        }
        scanner.consume(while: CharClass.isDigit)
        if scanner.current == "." {
            scanner.next()
            scanner.consume(while: CharClass.isDigit)
        }
        if scanner.current == "e" || scanner.current == "E" {
            scanner.next()
            if scanner.current == "+" || scanner.current == "-" { scanner.next() }
            scanner.consume(while: CharClass.isDigit)
        }
        if let next = scanner.current, CharClass.isAlphaNumeric(next), next != "x" {
            throw LineError("invalid number in series value \"\(item)\"")
        }
        let literal = scanner.text(from: start)
        guard let value = parseNumber(Substring(literal)) else {
            throw LineError("invalid number \"\(literal)\" in series value \"\(item)\"")
        }
        return value
    }

    // MARK: Numbers

    /// Prometheus' number parsing: Go's `strconv.ParseInt(s, 0, 64)`, falling back to
    /// `strconv.ParseFloat(s, 64)`. So `0x1F` is 31, `010` is 8 (octal), `0b11` is 3, and
    /// `Inf`, `+Inf`, `-inf`, `infinity` and `NaN` are accepted in any case.
    private static func parseNumber(_ text: Substring) -> Double? {
        if let integer = parseGoInteger(text) { return Double(integer) }
        return parseGoFloat(text)
    }

    /// Go's `ParseInt(s, 0, 64)` without underscores: optional sign, then `0x`/`0o`/`0b`
    /// prefixes, a leading `0` for octal, or decimal. Nil when invalid or out of range.
    private static func parseGoInteger(_ text: Substring) -> Int64? {
        var digits = text
        var negative = false
        if let first = digits.first, first == "+" || first == "-" {
            negative = first == "-"
            digits = digits.dropFirst()
        }
        var radix = 10
        if digits.count > 1, digits.first == "0" {
            switch digits[digits.index(after: digits.startIndex)] {
            case "x", "X": radix = 16; digits = digits.dropFirst(2)
            case "o", "O": radix = 8; digits = digits.dropFirst(2)
            case "b", "B": radix = 2; digits = digits.dropFirst(2)
            default: radix = 8; digits = digits.dropFirst()
            }
        }
        guard !digits.isEmpty,
              digits.allSatisfy({ $0.isASCII && $0.isHexDigit }),
              let magnitude = UInt64(digits, radix: radix)
        else { return nil }
        let limit = UInt64(Int64.max)
        if negative {
            if magnitude == limit + 1 { return Int64.min }
            return magnitude <= limit ? -Int64(magnitude) : nil
        }
        return magnitude <= limit ? Int64(magnitude) : nil
    }

    /// Go's `ParseFloat` for decimal notation: `inf`/`infinity` (optional sign) and `nan`
    /// (unsigned) in any case, or `[+-]digits[.digits][e[+-]digits]` (either side of the point may
    /// be empty, not both). Hexadecimal floats and underscores are not supported.
    private static func parseGoFloat(_ text: Substring) -> Double? {
        var unsigned = text
        var negative = false
        if let first = unsigned.first, first == "+" || first == "-" {
            negative = first == "-"
            unsigned = unsigned.dropFirst()
        }
        let lower = unsigned.lowercased()
        if lower == "inf" || lower == "infinity" { return negative ? -Double.infinity : Double.infinity }
        if lower == "nan" { return text.first == "+" || text.first == "-" ? nil : Double.nan }
        guard let normalized = normalizedDecimal(unsigned), let magnitude = Double(normalized) else { return nil }
        return negative ? -magnitude : magnitude
    }

    /// Validates an unsigned decimal literal and rewrites it as `I.F` or `I.FeX` (filling an
    /// empty integer or fraction part with `0`), a form every Double parser accepts.
    private static func normalizedDecimal(_ text: Substring) -> String? {
        var scanner = ScalarScanner(text)
        let integer = scanner.consume(while: CharClass.isDigit)
        var fraction = ""
        if scanner.current == "." {
            scanner.next()
            fraction = scanner.consume(while: CharClass.isDigit)
        }
        guard !integer.isEmpty || !fraction.isEmpty else { return nil }
        var result = (integer.isEmpty ? "0" : integer) + "." + (fraction.isEmpty ? "0" : fraction)
        if scanner.current == "e" || scanner.current == "E" {
            scanner.next()
            var exponentSign = ""
            if scanner.current == "+" || scanner.current == "-" {
                exponentSign = scanner.current == "-" ? "-" : "+"
                scanner.next()
            }
            let exponent = scanner.consume(while: CharClass.isDigit)
            guard !exponent.isEmpty else { return nil }
            result += "e" + exponentSign + exponent
        }
        return scanner.isAtEnd ? result : nil
    }

    // MARK: Helpers

    /// Removes leading and trailing whitespace.
    private static func trimmed(_ line: Substring) -> Substring {
        guard let first = line.firstIndex(where: { !$0.isWhitespace }),
              let last = line.lastIndex(where: { !$0.isWhitespace })
        else { return line[line.endIndex...] }
        return line[first...last]
    }

    /// Splits off the first whitespace-delimited word; `rest` starts at the next word.
    private static func splitToken(_ text: Substring) -> (token: Substring, rest: Substring) {
        let end = text.firstIndex(where: { $0.isWhitespace }) ?? text.endIndex
        return (token: text[..<end], rest: text[end...].drop(while: { $0.isWhitespace }))
    }

    /// Runs `body`, turning a `LineError` into a `PromQLTestScriptError` at `line`.
    private static func located<T>(_ line: ScriptLine, _ file: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as LineError {
            throw malformed(line, file, error.message)
        }
    }

    /// A `.malformed` error at `line`.
    private static func malformed(_ line: ScriptLine, _ file: String, _ message: String) -> PromQLTestScriptError {
        .malformed(file: file, line: line.number, message: message)
    }
}

// MARK: - Private types

/// One line of a script.
private struct ScriptLine {
    /// 1-based line number.
    let number: Int
    /// The line without leading and trailing whitespace.
    let text: Substring
    /// Whether the raw line starts with a space or a tab.
    let isIndented: Bool

    /// Empty and comment lines are skipped and end a block.
    var isBlankOrComment: Bool { text.isEmpty || text.hasPrefix("#") }

    /// Whether this line belongs to the block of the command above it.
    var continuesBlock: Bool { isIndented && !isBlankOrComment }
}

/// The parts of an `eval` line.
private struct EvalHeader {
    let ordered: Bool
    let shouldFail: Bool
    let timeMs: Int64
    let expression: String
}

/// A syntax error inside one line; `PromQLTestScript.located` adds the file and line number.
private struct LineError: Error {
    let message: String

    init(_ message: String) {
        self.message = message
    }
}

/// A cursor over the Unicode scalars of one line.
private struct ScalarScanner {
    private let scalars: [Unicode.Scalar]
    private(set) var position = 0

    init(_ text: Substring) {
        scalars = Array(text.unicodeScalars)
    }

    var isAtEnd: Bool { position >= scalars.count }

    /// The scalar at the cursor, nil at the end.
    var current: Unicode.Scalar? { lookahead(0) }

    /// The scalar `offset` places after the cursor, nil past the end.
    func lookahead(_ offset: Int) -> Unicode.Scalar? {
        let index = position + offset
        return index < scalars.count ? scalars[index] : nil
    }

    /// Returns the scalar at the cursor and moves past it; nil at the end.
    @discardableResult
    mutating func next() -> Unicode.Scalar? {
        guard let c = current else { return nil }
        position += 1
        return c
    }

    /// Moves past the scalars matching `predicate` and returns them.
    @discardableResult
    mutating func consume(while predicate: (Unicode.Scalar) -> Bool) -> String {
        let start = position
        while let c = current, predicate(c) {
            position += 1
        }
        return text(from: start)
    }

    /// Skips whitespace; returns whether there was any.
    @discardableResult
    mutating func skipWhitespace() -> Bool {
        !consume(while: CharClass.isSpace).isEmpty
    }

    /// Moves the cursor back to a position obtained from `position`.
    mutating func reset(to newPosition: Int) {
        position = min(max(newPosition, 0), scalars.count)
    }

    /// The text from `start` up to the cursor.
    func text(from start: Int) -> String {
        let lower = min(max(start, 0), position)
        return String(String.UnicodeScalarView(scalars[lower..<position]))
    }

    /// The text from the cursor to the end.
    var remainder: String {
        String(String.UnicodeScalarView(scalars[position...]))
    }
}

/// Character classes of Prometheus' lexer (ASCII only).
private enum CharClass {
    static func isDigit(_ c: Unicode.Scalar) -> Bool {
        c.value >= 0x30 && c.value <= 0x39
    }

    /// Letters and `_`.
    static func isAlpha(_ c: Unicode.Scalar) -> Bool {
        c == "_" || (c.value >= 0x61 && c.value <= 0x7A) || (c.value >= 0x41 && c.value <= 0x5A)
    }

    static func isAlphaNumeric(_ c: Unicode.Scalar) -> Bool {
        isAlpha(c) || isDigit(c)
    }

    static func isMetricNameStart(_ c: Unicode.Scalar) -> Bool {
        isAlpha(c) || c == ":"
    }

    static func isMetricNameChar(_ c: Unicode.Scalar) -> Bool {
        isAlphaNumeric(c) || c == ":"
    }

    static func isSpace(_ c: Unicode.Scalar) -> Bool {
        c == " " || c == "\t" || c.properties.isWhitespace
    }

    /// The value of digit `c` in `radix` (up to 16), nil if it is not one.
    static func digitValue(_ c: Unicode.Scalar, radix: UInt32) -> UInt32? {
        let value: UInt32
        switch c.value {
        case 0x30...0x39: value = c.value - 0x30
        case 0x61...0x66: value = c.value - 0x61 + 10
        case 0x41...0x46: value = c.value - 0x41 + 10
        default: return nil
        }
        return value < radix ? value : nil
    }
}
