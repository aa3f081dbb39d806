import Storage

// The series notation of promtool's rule unit tests, as Prometheus 2.42 parses it
// (promql/parser: lex.go in its series-description mode, the `series_description` and
// `metric` rules of generated_parser.y): `up{job="a"} 1+1x10 _ stale`. The grammar is small,
// so it is parsed by hand here; the error of each malformed input is the one Prometheus'
// LALR parser reports first (same text, same column), including which errors name the
// "series values" context and which do not (those found after a complete item).

/// A series of a test's `input_series`: its labels as written (sorted by name; duplicate
/// names and empty values kept, as Prometheus keeps them) and its samples, each at a slot
/// (its time is slot × the test group's interval).
struct SeriesDescription: Sendable {
    var labels: [(name: String, value: String)]
    var samples: [(slot: Int64, value: Double)]
    /// Slots the values take, omitted ones included.
    var slots: Int64 = 0
}

/// Why a series description or a metric does not parse, worded as Prometheus words it:
/// `1:COLUMN: parse error: MESSAGE` (the column counts bytes from 1).
public struct SeriesNotationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Byte offset in the parsed text.
    public var offset: Int
    public var message: String

    public init(offset: Int, message: String) {
        self.offset = offset
        self.message = message
    }

    public var description: String { "1:\(offset + 1): parse error: \(message)" }
}

/// Parsing of the notation (see the top of this file).
public enum SeriesNotation {
    /// Most samples the values of one test group's input series may expand to (`1x100000000`
    /// would otherwise allocate gigabytes; promtool itself runs out of memory).
    public static let maxSamples = 10_000_000

    /// The values of `values` as promtool expands them: nil for an omitted slot (`_`).
    /// Errors count columns in the line `x VALUES` (as a test's series line would). Meant for
    /// short sequences: the omitted slots are listed one by one.
    public static func values(_ values: String) throws(SeriesNotationError) -> [Double?] {
        var budget = maxSamples
        let description = try parseSeries("x " + values, budget: &budget)
        guard description.slots <= Int64(maxSamples) else {
            throw SeriesNotationError(offset: 2, message: "more than \(maxSamples) values, omitted ones included")
        }
        var out: [Double?] = []
        var slot: Int64 = 0
        for s in description.samples {
            while slot < s.slot && out.count < maxSamples {
                out.append(nil)
                slot += 1
            }
            out.append(s.value)
            slot += 1
        }
        while slot < description.slots && out.count < maxSamples {
            out.append(nil)
            slot += 1
        }
        return out
    }

    /// One line of a load command: a metric and its values. `budget` is how many more samples
    /// may be expanded; it is reduced by those of this line.
    static func parseSeries(_ line: String, budget: inout Int) throws(SeriesNotationError) -> SeriesDescription {
        var parser = SeriesParser(line, seriesMode: true)
        return try parser.seriesDescription(budget: &budget)
    }

    /// A metric as `parser.ParseMetric` reads it (`exp_samples` labels): `up{job="a"}`,
    /// `{__name__="up"}`, `{}` or nothing. The labels are sorted by name.
    public static func parseMetric(_ text: String) throws(SeriesNotationError) -> [(name: String, value: String)] {
        var parser = SeriesParser(text, seriesMode: false)
        return try parser.metricOnly()
    }
}

/// One token of Prometheus' lexer.
struct SeriesToken {
    enum Kind: Equatable {
        case eof, error, identifier, metricIdentifier, number, string, duration, comment
        case space, times, blank
        case leftBrace, rightBrace, leftParen, rightParen, leftBracket, comma, eql
        /// `+` and `-`.
        case add, sub
        /// Other operators (`*`, `==`, `!=`, `=~`, `@`, `atan2`, ...).
        case operatorToken
        /// `and`, `or`, `unless`: operators that may also name a metric.
        case setOperator
        case aggregator
        /// `by`, `without`, `offset`: keywords that may also name a metric.
        case metricKeyword
        /// `bool`, `on`, `ignoring`, `group_left`, `group_right`.
        case keyword
        /// `start`, `end`.
        case startEnd
    }

    var kind: Kind
    /// Byte offset of the token's start.
    var offset: Int
    /// The token's text; for an error, the message.
    var text: String

    /// Whether the token may be a metric name (the grammar's `metric_identifier`).
    var isMetricIdentifier: Bool {
        switch kind {
        case .identifier, .metricIdentifier, .aggregator, .setOperator, .metricKeyword, .startEnd: true
        default: false
        }
    }

    /// How Prometheus' parser names the token in "unexpected ..." (Item.desc).
    var desc: String {
        switch kind {
        case .eof: "end of input"
        case .identifier: "identifier " + itemString
        case .metricIdentifier: "metric identifier " + itemString
        case .number: "number " + itemString
        case .string: "string " + itemString
        case .duration: "duration " + itemString
        case .comment: "comment " + itemString
        case .error: "error " + text
        default: itemString
        }
    }

    /// Item.String.
    private var itemString: String {
        switch kind {
        case .identifier, .metricIdentifier: return GoFormat.quote(text)
        case .metricKeyword, .keyword: return "<" + text + ">"
        case .add, .sub, .operatorToken, .setOperator: return "<op:" + text + ">"
        case .aggregator: return "<aggr:" + text + ">"
        default:
            // fmt's %.10q: the first ten runes quoted, then "...".
            guard text.utf8.count > 10 else { return GoFormat.quote(text) }
            var head = String.UnicodeScalarView()
            head.append(contentsOf: text.unicodeScalars.prefix(10))
            return GoFormat.quote(String(head)) + "..."
        }
    }
}

/// Prometheus' PromQL lexer (lex.go), in its series-description mode or not: the states a
/// series line or a metric goes through (statements, inside braces, value sequence).
struct SeriesLexer {
    private enum State { case statements, insideBraces, valueSequence, done }

    private let scalars: [Unicode.Scalar]
    /// Byte offset of each scalar, and the total length last.
    private let byteOffsets: [Int]
    private let seriesMode: Bool
    private var pos = 0
    private var start = 0
    /// 1 after `next()` read a scalar, 0 at the end (what `backup()` steps back).
    private var width = 0
    private var state = State.statements
    private var braceOpen = false
    private var parenDepth = 0

    private static let keywords: [String: SeriesToken.Kind] = [
        "and": .setOperator, "or": .setOperator, "unless": .setOperator, "atan2": .operatorToken,
        "sum": .aggregator, "avg": .aggregator, "count": .aggregator, "min": .aggregator, "max": .aggregator,
        "group": .aggregator, "stddev": .aggregator, "stdvar": .aggregator, "topk": .aggregator,
        "bottomk": .aggregator, "count_values": .aggregator, "quantile": .aggregator,
        "offset": .metricKeyword, "by": .metricKeyword, "without": .metricKeyword,
        "on": .keyword, "ignoring": .keyword, "group_left": .keyword, "group_right": .keyword, "bool": .keyword,
        "start": .startEnd, "end": .startEnd,
    ]

    init(_ text: String, seriesMode: Bool) {
        scalars = Array(text.unicodeScalars)
        var offsets: [Int] = []
        offsets.reserveCapacity(scalars.count + 1)
        var b = 0
        for u in scalars {
            offsets.append(b)
            b += u.value < 0x80 ? 1 : u.value < 0x800 ? 2 : u.value < 0x10000 ? 3 : 4
        }
        offsets.append(b)
        byteOffsets = offsets
        self.seriesMode = seriesMode
    }

    /// The next token; comments are skipped (as the parser skips them). After an error or
    /// the end, only end tokens follow.
    mutating func nextToken() -> SeriesToken {
        while true {
            let token: SeriesToken?
            switch state {
            case .done: return SeriesToken(kind: .eof, offset: byteOffsets[start], text: "")
            case .statements: token = lexStatements()
            case .insideBraces: token = lexInsideBraces()
            case .valueSequence: token = lexValueSequence()
            }
            if let token { return token }
        }
    }

    // MARK: Reading

    private mutating func next() -> Unicode.Scalar? {
        guard pos < scalars.count else {
            width = 0
            return nil
        }
        width = 1
        pos += 1
        return scalars[pos - 1]
    }

    private mutating func backup() {
        pos -= width
    }

    private func peek() -> Unicode.Scalar? {
        pos < scalars.count ? scalars[pos] : nil
    }

    private mutating func accept(_ valid: String) -> Bool {
        if let r = next(), valid.unicodeScalars.contains(r) { return true }
        backup()
        return false
    }

    private mutating func acceptRun(_ valid: String) {
        while let r = next(), valid.unicodeScalars.contains(r) {}
        backup()
    }

    private func text(_ from: Int, _ to: Int) -> String {
        var view = String.UnicodeScalarView()
        if from < to { view.append(contentsOf: scalars[from..<to]) }
        return String(view)
    }

    private mutating func emit(_ kind: SeriesToken.Kind) -> SeriesToken {
        let token = SeriesToken(kind: kind, offset: byteOffsets[start], text: text(start, pos))
        start = pos
        return token
    }

    private mutating func fail(_ message: String) -> SeriesToken {
        state = .done
        return SeriesToken(kind: .error, offset: byteOffsets[start], text: message)
    }

    private mutating func skipSpaces() {
        while let r = peek(), Self.isSpace(r) { pos += 1 }
        start = pos
    }

    private mutating func skipComment() {
        while let r = peek(), r != "\n", r != "\r" { pos += 1 }
        start = pos
    }

    // MARK: States

    private mutating func lexStatements() -> SeriesToken? {
        if braceOpen {
            state = .insideBraces
            return nil
        }
        if Self.equals(peek(), "#") {
            skipComment()
            return nil
        }
        guard let r = next() else {
            if parenDepth != 0 { return fail("unclosed left parenthesis") }
            let token = emit(.eof)
            state = .done
            return token
        }
        switch r {
        case ",": return emit(.comma)
        case " ", "\t", "\n", "\r":
            skipSpaces()
            return nil
        case "*", "/", "%", "^": return emit(.operatorToken)
        case "+": return emit(.add)
        case "-": return emit(.sub)
        case "=":
            let t = peek()
            if Self.equals(t, "=") {
                _ = next()
                return emit(.operatorToken)
            }
            if Self.equals(t, "~") { return fail("unexpected character after '=': \(Self.quoteRune(t))") }
            return emit(.eql)
        case "!":
            let t = next()
            if Self.equals(t, "=") { return emit(.operatorToken) }
            return fail("unexpected character after '!': \(Self.quoteRune(t))")
        case "<", ">":
            if Self.equals(peek(), "=") { _ = next() }
            return emit(.operatorToken)
        case "\"", "'": return lexString(quote: r)
        case "`": return lexRawString()
        case "(":
            parenDepth += 1
            return emit(.leftParen)
        case ")":
            parenDepth -= 1
            if parenDepth < 0 {
                start = pos
                return fail("unexpected right parenthesis ')'")
            }
            return emit(.rightParen)
        case "{":
            braceOpen = true
            state = .insideBraces
            return emit(.leftBrace)
        case "[":
            // Prometheus lexes a duration next; nothing in a series or metric takes a bracket.
            let token = emit(.leftBracket)
            state = .done
            return token
        case "]": return fail("unexpected right bracket ']'")
        case "@": return emit(.operatorToken)
        default:
            if Self.isDigit(r) || (r == "." && Self.isDigit(peek())) {
                backup()
                return lexNumberOrDuration()
            }
            if Self.isAlpha(r) || r == ":" {
                backup()
                return lexKeywordOrIdentifier()
            }
            return fail("unexpected character: \(Self.quoteRune(r))")
        }
    }

    private mutating func lexInsideBraces() -> SeriesToken? {
        if Self.equals(peek(), "#") {
            skipComment()
            return nil
        }
        guard let r = next() else { return fail("unexpected end of input inside braces") }
        switch r {
        case " ", "\t", "\n", "\r":
            skipSpaces()
            return nil
        case ",": return emit(.comma)
        case "\"", "'": return lexString(quote: r)
        case "`": return lexRawString()
        case "=":
            if Self.equals(next(), "~") { return emit(.operatorToken) }
            backup()
            return emit(.eql)
        case "!":
            let t = next()
            if Self.equals(t, "~") || Self.equals(t, "=") { return emit(.operatorToken) }
            return fail("unexpected character after '!' inside braces: \(Self.quoteRune(t))")
        case "{": return fail("unexpected left brace '{'")
        case "}":
            braceOpen = false
            state = seriesMode ? .valueSequence : .statements
            return emit(.rightBrace)
        default:
            if Self.isAlpha(r) {
                backup()
                while let c = next(), Self.isAlphaNumeric(c) {}
                backup()
                return emit(.identifier)
            }
            return fail("unexpected character inside braces: \(Self.quoteRune(r))")
        }
    }

    private mutating func lexValueSequence() -> SeriesToken? {
        guard let r = next() else {
            state = .statements
            return nil
        }
        switch r {
        case " ", "\t", "\n", "\r":
            let token = emit(.space)
            skipSpaces()
            return token
        case "+": return emit(.add)
        case "-": return emit(.sub)
        case "x": return emit(.times)
        case "_": return emit(.blank)
        default:
            if Self.isDigit(r) || (r == "." && Self.isDigit(peek())) {
                backup()
                if !scanNumber() { return fail("bad number syntax: \(GoFormat.quote(text(start, pos)))") }
                return emit(.number)
            }
            if Self.isAlpha(r) {
                backup()
                return lexKeywordOrIdentifier()
            }
            return fail("unexpected character in series sequence: \(Self.quoteRune(r))")
        }
    }

    private mutating func lexNumberOrDuration() -> SeriesToken {
        if scanNumber() { return emit(.number) }
        if acceptRemainingDuration() {
            backup()
            return emit(.duration)
        }
        return fail("bad number or duration syntax: \(GoFormat.quote(text(start, pos)))")
    }

    private mutating func acceptRemainingDuration() -> Bool {
        if !accept("smhdwy") { return false }
        _ = accept("s")
        while accept("0123456789") {
            while accept("0123456789") {}
            if !accept("smhdw") { return false }
            _ = accept("s")
        }
        return !Self.isAlphaNumeric(next())
    }

    /// Lexes a number (not necessarily a valid one); false when something alphanumeric
    /// follows it (but the `x` of a repetition in a series).
    private mutating func scanNumber() -> Bool {
        var digits = "0123456789"
        // Hexadecimal numbers are not allowed in series descriptions (`0x3` repeats 0).
        if !seriesMode && accept("0") && accept("xX") { digits = "0123456789abcdefABCDEF" }
        acceptRun(digits)
        if accept(".") { acceptRun(digits) }
        if accept("eE") {
            _ = accept("+-")
            acceptRun("0123456789")
        }
        let r = peek()
        if seriesMode && Self.equals(r, "x") { return true }
        return !Self.isAlphaNumeric(r)
    }

    private mutating func lexKeywordOrIdentifier() -> SeriesToken {
        while let r = next(), Self.isAlphaNumeric(r) || r == ":" {}
        backup()
        let word = text(start, pos)
        let lower = word.lowercased()
        let kind: SeriesToken.Kind
        if let k = Self.keywords[lower] {
            kind = k
        } else if lower == "inf" || lower == "nan" {
            kind = .number
        } else if word.unicodeScalars.contains(":") {
            kind = .metricIdentifier
        } else {
            kind = .identifier
        }
        let token = emit(kind)
        state = seriesMode && !Self.equals(peek(), "{") ? .valueSequence : .statements
        return token
    }

    private mutating func lexString(quote: Unicode.Scalar) -> SeriesToken {
        while true {
            guard let r = next() else { return fail("unterminated quoted string") }
            if r == "\\" {
                if let message = lexEscape(quote: quote) { return fail(message) }
                continue
            }
            if r == "\u{FFFD}" { return fail("invalid UTF-8 rune") }
            if r == "\n" { return fail("unterminated quoted string") }
            if r == quote { break }
        }
        state = braceOpen ? .insideBraces : .statements
        return emit(.string)
    }

    private mutating func lexRawString() -> SeriesToken {
        while true {
            guard let r = next() else { return fail("unterminated raw string") }
            if r == "\u{FFFD}" { return fail("invalid UTF-8 rune") }
            if r == "`" { break }
        }
        state = braceOpen ? .insideBraces : .statements
        return emit(.string)
    }

    /// Checks an escape sequence after its backslash; the message of a bad one.
    private mutating func lexEscape(quote: Unicode.Scalar) -> String? {
        guard var ch = next() else { return "escape sequence not terminated" }
        var count = 0
        var base: UInt32 = 0
        var maxValue: UInt32 = 0
        switch ch {
        case "a", "b", "f", "n", "r", "t", "v", "\\":
            return nil
        case "0", "1", "2", "3", "4", "5", "6", "7":
            count = 3
            base = 8
            maxValue = 255
        case "x", "u", "U":
            base = 16
            if ch == "x" {
                count = 2
                maxValue = 255
            } else {
                count = ch == "u" ? 4 : 8
                maxValue = 0x10FFFF
            }
            guard let c = next() else { return "escape sequence not terminated" }
            ch = c
        default:
            if ch == quote { return nil }
            return "unknown escape sequence \(Self.unicodeFormat(ch))"
        }
        var x: UInt32 = 0
        while count > 0 {
            let d = Self.digitValue(ch)
            if d >= base { return "illegal character \(Self.unicodeFormat(ch)) in escape sequence" }
            x = x &* base &+ d
            count -= 1
            if count > 0 {
                guard let c = next() else { return "escape sequence not terminated" }
                ch = c
            }
        }
        if x > maxValue || (0xD800..<0xE000).contains(x) { return "escape sequence is an invalid Unicode code point" }
        return nil
    }

    // MARK: Characters

    static func equals(_ r: Unicode.Scalar?, _ c: Unicode.Scalar) -> Bool {
        r == c
    }

    static func isSpace(_ r: Unicode.Scalar) -> Bool {
        r == " " || r == "\t" || r == "\n" || r == "\r"
    }

    static func isDigit(_ r: Unicode.Scalar?) -> Bool {
        guard let r else { return false }
        return r.value >= 48 && r.value <= 57
    }

    static func isAlpha(_ r: Unicode.Scalar?) -> Bool {
        guard let r else { return false }
        return r == "_" || (r.value >= 97 && r.value <= 122) || (r.value >= 65 && r.value <= 90)
    }

    static func isAlphaNumeric(_ r: Unicode.Scalar?) -> Bool {
        isAlpha(r) || isDigit(r)
    }

    private static func digitValue(_ r: Unicode.Scalar) -> UInt32 {
        switch r.value {
        case 48...57: r.value - 48
        case 97...102: r.value - 97 + 10
        case 65...70: r.value - 65 + 10
        default: 16
        }
    }

    /// Go's `%q` of a rune (`'a'`, `'\''`, `'\x01'`); the end of input is U+FFFD.
    static func quoteRune(_ r: Unicode.Scalar?) -> String {
        guard let r else { return "'\u{FFFD}'" }
        switch r {
        case "'": return "'\\''"
        case "\\": return "'\\\\'"
        case "\u{07}": return "'\\a'"
        case "\u{08}": return "'\\b'"
        case "\u{0C}": return "'\\f'"
        case "\n": return "'\\n'"
        case "\r": return "'\\r'"
        case "\t": return "'\\t'"
        case "\u{0B}": return "'\\v'"
        default: break
        }
        if GoFormat.isPrint(r) { return "'" + String(r) + "'" }
        let hex = String(r.value, radix: 16)
        let (prefix, width) = r.value < 0x20 || r.value == 0x7F ? ("\\x", 2) : r.value < 0x10000 ? ("\\u", 4) : ("\\U", 8)
        return "'" + prefix + String(repeating: "0", count: max(width - hex.count, 0)) + hex + "'"
    }

    /// Go's `%#U`: `U+0071 'q'` (the character only when printable).
    static func unicodeFormat(_ r: Unicode.Scalar) -> String {
        let hex = String(r.value, radix: 16, uppercase: true)
        let code = "U+" + String(repeating: "0", count: max(4 - hex.count, 0)) + hex
        return GoFormat.isPrint(r) ? code + " '" + String(r) + "'" : code
    }
}

/// The grammar's `series_description` and `metric` rules over the lexer's tokens.
struct SeriesParser {
    private var lexer: SeriesLexer

    init(_ text: String, seriesMode: Bool) {
        lexer = SeriesLexer(text, seriesMode: seriesMode)
    }

    private mutating func next() -> SeriesToken {
        lexer.nextToken()
    }

    /// Prometheus' "unexpected X[ in CONTEXT][, expected Y]" for token `t` (a lexer error is
    /// reported as it is).
    private func unexpected(_ t: SeriesToken, _ context: String, _ expected: String) -> SeriesNotationError {
        if t.kind == .error { return SeriesNotationError(offset: t.offset, message: t.text) }
        var message = "unexpected " + t.desc
        if !context.isEmpty { message += " in " + context }
        if !expected.isEmpty { message += ", expected " + expected }
        return SeriesNotationError(offset: t.offset, message: message)
    }

    // MARK: Metric

    /// `metric`: an optional name, an optional label set; the token after it.
    private mutating func metric() throws(SeriesNotationError) -> (labels: [(name: String, value: String)], next: SeriesToken) {
        var token = next()
        var name: String?
        if token.isMetricIdentifier {
            name = token.text
            token = next()
        }
        var set: [(name: String, value: String)] = []
        if token.kind == .leftBrace {
            set = try labelSet()
            token = next()
        }
        guard let name else { return (Self.sortedByName(set), token) }
        // labels.Builder: a label with an empty value deletes its name, the metric name
        // replaces any __name__ label.
        let deleted = Set(set.filter { $0.value.isEmpty }.map(\.name))
        var labels = set.filter { !deleted.contains($0.name) && $0.name != Labels.metricName }
        labels.append((Labels.metricName, name))
        return (Self.sortedByName(labels), token)
    }

    /// The label set after its `{`, through its `}`.
    private mutating func labelSet() throws(SeriesNotationError) -> [(name: String, value: String)] {
        var out: [(name: String, value: String)] = []
        var token = next()
        if token.kind == .rightBrace { return out }
        while true {
            guard token.kind == .identifier else { throw unexpected(token, "label set", "identifier or \"}\"") }
            let name = token.text
            token = next()
            guard token.kind == .eql else { throw unexpected(token, "label set", "\"=\"") }
            token = next()
            guard token.kind == .string else { throw unexpected(token, "label set", "string") }
            out.append((name, Self.unquote(token.text)))
            token = next()
            if token.kind == .rightBrace { return out }
            guard token.kind == .comma else { throw unexpected(token, "label set", "\",\" or \"}\"") }
            token = next()
            if token.kind == .rightBrace { return out }
        }
    }

    /// `START_METRIC metric EOF`.
    mutating func metricOnly() throws(SeriesNotationError) -> [(name: String, value: String)] {
        let (labels, token) = try metric()
        guard token.kind == .eof else { throw unexpected(token, "", "") }
        return labels
    }

    // MARK: Series

    /// `metric series_values`, the values expanded.
    mutating func seriesDescription(budget: inout Int) throws(SeriesNotationError) -> SeriesDescription {
        let (labels, first) = try metric()
        var values = ValueSink(budget: budget)
        defer { budget = values.budget }
        var token = first
        // Right after the metric: a space or the end.
        if token.kind == .eof { return SeriesDescription(labels: labels, samples: values.samples, slots: values.slot) }
        guard token.kind == .space else { throw unexpected(token, "series values", "") }
        token = next()
        while true {
            // After a space: an item or the end.
            if token.kind == .eof { break }
            if token.kind == .blank {
                token = next()
                if token.kind == .times {
                    token = next()
                    guard token.kind == .number else { throw unexpected(token, "series values", "") }
                    let n = try Self.repetitions(token)
                    values.omit(n)
                    token = next()
                } else {
                    values.omit(1)
                }
            } else {
                let valueToken = token
                let value: Double
                switch token.kind {
                case .number:
                    value = try Self.number(token)
                    token = next()
                case .add, .sub:
                    let negative = token.kind == .sub
                    token = next()
                    guard token.kind == .number else { throw unexpected(token, "series values", "") }
                    let v = try Self.number(token)
                    value = negative ? -v : v
                    token = next()
                case .identifier:
                    guard token.text == "stale" else { throw unexpected(token, "series values", "number or \"stale\"") }
                    value = staleMarker
                    token = next()
                default:
                    throw unexpected(token, "", "")
                }
                // After a value: a repetition, an increment and a repetition, or nothing.
                if token.kind == .times {
                    token = next()
                    guard token.kind == .number else { throw unexpected(token, "series values", "") }
                    let n = try Self.repetitions(token)
                    try values.repeatValue(value, increment: 0, times: n, at: token)
                    token = next()
                } else if token.kind == .add || token.kind == .sub {
                    let negative = token.kind == .sub
                    token = next()
                    guard token.kind == .number else { throw unexpected(token, "series values", "") }
                    let magnitude = try Self.number(token)
                    token = next()
                    guard token.kind == .times else { throw unexpected(token, "series values", "") }
                    token = next()
                    guard token.kind == .number else { throw unexpected(token, "series values", "") }
                    let n = try Self.repetitions(token)
                    try values.repeatValue(value, increment: negative ? -magnitude : magnitude, times: n, at: token)
                    token = next()
                } else {
                    try values.repeatValue(value, increment: 0, times: 0, at: valueToken)
                }
            }
            // After a complete item: a space or the end; anything else is reported without
            // the "series values" context (Prometheus' parser has reduced the whole line).
            if token.kind == .eof { break }
            guard token.kind == .space else { throw unexpected(token, "", "") }
            token = next()
        }
        return SeriesDescription(labels: labels, samples: values.samples, slots: values.slot)
    }

    /// The values of a series as they are expanded, within the sample budget.
    private struct ValueSink {
        var budget: Int
        var samples: [(slot: Int64, value: Double)] = []
        var slot: Int64 = 0
        /// Set once the slots passed Int64: later samples are beyond every evaluation.
        var beyond = false

        mutating func omit(_ n: UInt64) {
            guard !beyond, let step = Int64(exactly: n) else {
                beyond = true
                return
            }
            let (s, overflow) = slot.addingReportingOverflow(step)
            if overflow { beyond = true } else { slot = s }
        }

        /// `n + 1` values from `value`, adding `increment` after each (as Prometheus does, by
        /// repeated addition).
        mutating func repeatValue(_ value: Double, increment: Double, times n: UInt64,
                                  at token: SeriesToken) throws(SeriesNotationError) {
            guard budget > 0, n < UInt64(budget) else {
                throw SeriesNotationError(offset: token.offset, message:
                    "the input series expand to more than \(SeriesNotation.maxSamples) samples")
            }
            let count = Int(n) + 1
            budget -= count
            var v = value
            samples.reserveCapacity(samples.count + count)
            for _ in 0..<count {
                if !beyond {
                    samples.append((slot, v))
                    omit(1)
                }
                v += increment
            }
        }
    }

    // MARK: Numbers and strings

    /// `number`: Go's ParseInt with base 0 (so `010` is 8), else ParseFloat.
    static func number(_ token: SeriesToken) throws(SeriesNotationError) -> Double {
        switch GoNumbers.parse(token.text) {
        case .success(let v): return v
        case .failure(let e): throw SeriesNotationError(offset: token.offset, message: "error parsing number: \(e.message)")
        }
    }

    /// `uint`: a repetition count, ParseUint in base 10.
    static func repetitions(_ token: SeriesToken) throws(SeriesNotationError) -> UInt64 {
        let text = token.text
        let digits = text.unicodeScalars
        guard !digits.isEmpty, digits.allSatisfy({ $0.value >= 48 && $0.value <= 57 }) else {
            throw SeriesNotationError(offset: token.offset, message:
                "invalid repetition in series values: strconv.ParseUint: parsing \(GoFormat.quote(text)): invalid syntax")
        }
        guard let n = UInt64(text) else {
            throw SeriesNotationError(offset: token.offset, message:
                "invalid repetition in series values: strconv.ParseUint: parsing \(GoFormat.quote(text)): value out of range")
        }
        return n
    }

    /// A string token's value (Prometheus' strutil.Unquote; the lexer checked its escapes).
    /// `\x` and octal escapes give bytes, as in Go; bytes that are not UTF-8 become U+FFFD.
    static func unquote(_ token: String) -> String {
        var scalars = Array(token.unicodeScalars)
        guard scalars.count >= 2, let quote = scalars.first else { return token }
        scalars.removeFirst()
        scalars.removeLast()
        if quote == "`" {
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars)
            return String(view)
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(scalars.count)
        var i = 0
        func appendScalar(_ u: Unicode.Scalar) {
            bytes.append(contentsOf: Array(String(u).utf8))
        }
        func digits(_ count: Int, radix: UInt32) -> UInt32? {
            guard i + count <= scalars.count else { return nil }
            var v: UInt32 = 0
            for k in 0..<count {
                guard let d = UInt32(String(scalars[i + k]), radix: Int(radix)) else { return nil }
                v = v &* radix &+ d
            }
            i += count
            return v
        }
        while i < scalars.count {
            let c = scalars[i]
            i += 1
            guard c == "\\", i < scalars.count else {
                appendScalar(c)
                continue
            }
            let e = scalars[i]
            i += 1
            switch e {
            case "a": bytes.append(7)
            case "b": bytes.append(8)
            case "f": bytes.append(12)
            case "n": bytes.append(10)
            case "r": bytes.append(13)
            case "t": bytes.append(9)
            case "v": bytes.append(11)
            case "x":
                if let v = digits(2, radix: 16), let b = UInt8(exactly: v) { bytes.append(b) }
            case "u", "U":
                if let v = digits(e == "u" ? 4 : 8, radix: 16), let u = Unicode.Scalar(v) { appendScalar(u) }
            case "0", "1", "2", "3", "4", "5", "6", "7":
                i -= 1
                if let v = digits(3, radix: 8), let b = UInt8(exactly: v) { bytes.append(b) }
            default:
                appendScalar(e)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Sorted by name, bytewise, keeping the order of equal names (as Prometheus' small
    /// insertion sorts do).
    static func sortedByName(_ pairs: [(name: String, value: String)]) -> [(name: String, value: String)] {
        pairs.enumerated().sorted { a, b in
            if !GoText.equal(a.element.name, b.element.name) {
                return GoText.less(a.element.name, b.element.name)
            }
            return a.offset < b.offset
        }.map { $0.element }
    }
}

/// Strings compared as Go compares them: byte by byte (Swift's `==` and `<` follow Unicode
/// canonical equivalence).
enum GoText {
    static func equal(_ a: String, _ b: String) -> Bool {
        a.utf8.elementsEqual(b.utf8)
    }

    static func less(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }
}

/// Go's number parsing where promtool's inputs need it.
enum GoNumbers {
    struct Failure: Error {
        var message: String
    }

    /// Prometheus' `parser.number`: strconv.ParseInt(s, 0, 64), else strconv.ParseFloat.
    static func parse(_ s: String) -> Result<Double, Failure> {
        if let v = parseInteger(s) { return .success(v) }
        return parseFloat(s)
    }

    /// strconv.ParseInt(s, 0, 64) (base prefixes `0x`, `0b`, `0o`, a leading `0` for octal),
    /// or strconv.ParseUint(s, 0, 64) for larger values; as a float64. Nil when neither parses.
    static func parseInteger(_ s: String) -> Double? {
        var chars = Array(s.unicodeScalars)
        var negative = false
        if let f = chars.first, f == "+" || f == "-" {
            negative = f == "-"
            chars.removeFirst()
        }
        var base: UInt64 = 10
        if chars.count >= 2 && chars[0] == "0" {
            switch chars[1] {
            case "x", "X": base = 16; chars.removeFirst(2)
            case "b", "B": base = 2; chars.removeFirst(2)
            case "o", "O": base = 8; chars.removeFirst(2)
            default: base = 8; chars.removeFirst(1)
            }
        }
        guard !chars.isEmpty else { return nil }
        var v: UInt64 = 0
        for c in chars {
            let d: UInt64
            switch c.value {
            case 48...57: d = UInt64(c.value - 48)
            case 97...102: d = UInt64(c.value - 97 + 10)
            case 65...70: d = UInt64(c.value - 65 + 10)
            default: return nil
            }
            guard d < base else { return nil }
            let (m, o1) = v.multipliedReportingOverflow(by: base)
            let (a, o2) = m.addingReportingOverflow(d)
            if o1 || o2 { return nil }
            v = a
        }
        if negative {
            // ParseInt takes down to -2^63; ParseUint no sign at all.
            guard v <= UInt64(Int64.max) + 1 else { return nil }
            return v == 0 ? 0 : -Double(v)
        }
        return Double(v)
    }

    /// strconv.ParseFloat(s, 64) for the decimal forms and `inf`/`nan` the lexers produce.
    static func parseFloat(_ s: String) -> Result<Double, Failure> {
        switch s.lowercased() {
        case "inf", "+inf", "infinity", "+infinity": return .success(.infinity)
        case "-inf", "-infinity": return .success(-.infinity)
        case "nan": return .success(.nan)
        default: break
        }
        let valid = isDecimal(s)
        guard valid, let v = Double(s) else {
            return .failure(Failure(message: "strconv.ParseFloat: parsing \(GoFormat.quote(s)): invalid syntax"))
        }
        if v.isInfinite {
            return .failure(Failure(message: "strconv.ParseFloat: parsing \(GoFormat.quote(s)): value out of range"))
        }
        return .success(v)
    }

    /// `[+-]?(digits[.digits*]|.digits)([eE][+-]?digits)?`, the decimal floats Go parses (and
    /// YAML's float pattern).
    static func isDecimal(_ s: String) -> Bool {
        let c = Array(s.unicodeScalars)
        var i = 0
        func digitsFrom() -> Int {
            let begin = i
            while i < c.count, c[i].value >= 48, c[i].value <= 57 { i += 1 }
            return i - begin
        }
        if i < c.count, c[i] == "+" || c[i] == "-" { i += 1 }
        let whole = digitsFrom()
        var fraction = 0
        if i < c.count, c[i] == "." {
            i += 1
            fraction = digitsFrom()
        }
        guard whole > 0 || fraction > 0 else { return false }
        if i < c.count, c[i] == "e" || c[i] == "E" {
            i += 1
            if i < c.count, c[i] == "+" || c[i] == "-" { i += 1 }
            guard digitsFrom() > 0 else { return false }
        }
        return i == c.count
    }
}
