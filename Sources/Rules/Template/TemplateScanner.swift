/// One token inside an action.
struct TemplateToken: Sendable {
    enum Kind: Sendable, Equatable {
        case dot
        /// `.Name` (the name without its dot).
        case field(String)
        /// `$name` (`""` for `$` alone).
        case variable(String)
        case identifier(String)
        case string(String)
        case number(String)
        case leftParen, rightParen, pipe, declare, assign, comma
    }

    var kind: Kind
    /// Byte offset in the template text, and just past the token.
    var pos: Int
    var end: Int
}

/// The template split into text and actions (trim markers applied, comments dropped).
enum TemplatePiece: Sendable {
    case text(String)
    case action([TemplateToken], pos: Int)
}

/// Splits template text into pieces and actions into tokens, as Go's text/template lexer:
/// `{{- ` and ` -}}` trim the whitespace beside them, `{{/* … */}}` is a comment, strings are
/// Go's interpreted (`"…"`) or raw (`` `…` ``) literals.
struct TemplateScanner {
    let bytes: [UInt8]
    let fail: (Int, String) -> TemplateError
    var i = 0

    init(_ text: String, fail: @escaping (Int, String) -> TemplateError) {
        bytes = Array(text.utf8)
        self.fail = fail
    }

    mutating func pieces() throws(TemplateError) -> [TemplatePiece] {
        var out: [TemplatePiece] = []
        var trimNext = false
        while i < bytes.count {
            let open = find("{{", from: i) ?? bytes.count
            var textEnd = open
            let trimBefore = open + 3 < bytes.count && bytes[open + 2] == UInt8(ascii: "-") && isTemplateSpace(bytes[open + 3])
            if trimBefore { while textEnd > i && isTemplateSpace(bytes[textEnd - 1]) { textEnd -= 1 } }
            var textStart = i
            if trimNext { while textStart < textEnd && isTemplateSpace(bytes[textStart]) { textStart += 1 } }
            if textStart < textEnd { out.append(.text(String(decoding: bytes[textStart..<textEnd], as: UTF8.self))) }
            guard open < bytes.count else { break }
            i = open + (trimBefore ? 3 : 2)
            let (tokens, trimAfter) = try action(startedAt: open)
            if let tokens { out.append(.action(tokens, pos: open)) }
            trimNext = trimAfter
        }
        return out
    }

    /// The tokens of the action starting at `i` up to its `}}` (nil for a comment), and
    /// whether it ended with ` -}}`.
    private mutating func action(startedAt open: Int) throws(TemplateError) -> ([TemplateToken]?, Bool) {
        skipSpaces()
        if starts(with: "/*") {
            guard let close = find("*/", from: i + 2) else { throw fail(open, "unclosed comment") }
            i = close + 2
            skipSpaces()
            if starts(with: "-}}") { i += 3; return (nil, true) }
            guard starts(with: "}}") else { throw fail(open, "comment ends before closing delimiter") }
            i += 2
            return (nil, false)
        }
        var tokens: [TemplateToken] = []
        while true {
            let hadSpace = skipSpaces()
            guard i < bytes.count else { throw fail(open, "unclosed action") }
            if (hadSpace || tokens.isEmpty) && starts(with: "-}}") { i += 3; return (tokens, true) }
            if starts(with: "}}") { i += 2; return (tokens, false) }
            tokens.append(try token())
        }
    }

    private mutating func token() throws(TemplateError) -> TemplateToken {
        let start = i, c = bytes[i]
        func single(_ kind: TemplateToken.Kind, _ length: Int = 1) -> TemplateToken {
            i += length
            return TemplateToken(kind: kind, pos: start, end: i)
        }
        switch c {
        case UInt8(ascii: "("): return single(.leftParen)
        case UInt8(ascii: ")"): return single(.rightParen)
        case UInt8(ascii: "|"): return single(.pipe)
        case UInt8(ascii: ","): return single(.comma)
        case UInt8(ascii: "="): return single(.assign)
        case UInt8(ascii: ":"):
            guard starts(with: ":=") else { throw fail(start, "expected :=") }
            return single(.declare, 2)
        case UInt8(ascii: "\""), UInt8(ascii: "`"): return try stringToken()
        case UInt8(ascii: "$"):
            i += 1
            return TemplateToken(kind: .variable(word()), pos: start, end: i)
        case UInt8(ascii: "."):
            if i + 1 < bytes.count, isDigit(bytes[i + 1]) { return numberToken() }
            i += 1
            let name = word()
            return TemplateToken(kind: name.isEmpty ? .dot : .field(name), pos: start, end: i)
        case UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return numberToken()
        default:
            let name = word()
            guard !name.isEmpty else {
                throw fail(start, "unexpected \(String(decoding: [c], as: UTF8.self).debugDescription) in command")
            }
            return TemplateToken(kind: .identifier(name), pos: start, end: i)
        }
    }

    private mutating func numberToken() -> TemplateToken {
        let start = i
        i += 1
        while i < bytes.count {
            let c = bytes[i]
            let exponentSign = (c == UInt8(ascii: "+") || c == UInt8(ascii: "-"))
                && (bytes[i - 1] | 0x20) == UInt8(ascii: "e")
            guard isWordByte(c) || c == UInt8(ascii: ".") || exponentSign else { break }
            i += 1
        }
        return TemplateToken(kind: .number(String(decoding: bytes[start..<i], as: UTF8.self)), pos: start, end: i)
    }

    private mutating func stringToken() throws(TemplateError) -> TemplateToken {
        let start = i, quote = bytes[i]
        i += 1
        var out: [UInt8] = []
        while true {
            guard i < bytes.count else { throw fail(start, "unterminated quoted string") }
            let c = bytes[i]
            i += 1
            if c == quote { break }
            if quote == UInt8(ascii: "\""), c == UInt8(ascii: "\n") { throw fail(start, "unterminated quoted string") }
            if quote == UInt8(ascii: "\""), c == UInt8(ascii: "\\") {
                try escape(into: &out, at: start)
            } else {
                out.append(c)
            }
        }
        return TemplateToken(kind: .string(String(decoding: out, as: UTF8.self)), pos: start, end: i)
    }

    /// One escape of an interpreted string (`\n`, `\t`, `\\`, `\"`, `\xHH`, `\uHHHH`, …).
    private mutating func escape(into out: inout [UInt8], at start: Int) throws(TemplateError) {
        guard i < bytes.count else { throw fail(start, "unterminated quoted string") }
        let c = bytes[i]
        i += 1
        let simple: [UInt8: UInt8] = [
            UInt8(ascii: "n"): 10, UInt8(ascii: "t"): 9, UInt8(ascii: "r"): 13, UInt8(ascii: "a"): 7,
            UInt8(ascii: "b"): 8, UInt8(ascii: "f"): 12, UInt8(ascii: "v"): 11,
            UInt8(ascii: "\\"): 92, UInt8(ascii: "\""): 34, UInt8(ascii: "'"): 39,
        ]
        if let s = simple[c] { out.append(s); return }
        let digits = c == UInt8(ascii: "x") ? 2 : c == UInt8(ascii: "u") ? 4 : c == UInt8(ascii: "U") ? 8 : 0
        guard digits > 0, i + digits <= bytes.count,
              let code = UInt32(String(decoding: bytes[i..<(i + digits)], as: UTF8.self), radix: 16)
        else { throw fail(start, "invalid syntax in quoted string") }
        i += digits
        if digits == 2 { out.append(UInt8(code)); return }
        guard let scalar = Unicode.Scalar(code) else { throw fail(start, "invalid syntax in quoted string") }
        out.append(contentsOf: Array(String(Character(scalar)).utf8))
    }

    // MARK: bytes

    @discardableResult
    private mutating func skipSpaces() -> Bool {
        let start = i
        while i < bytes.count && isTemplateSpace(bytes[i]) { i += 1 }
        return i > start
    }

    private mutating func word() -> String {
        let start = i
        while i < bytes.count && (isWordByte(bytes[i]) || bytes[i] >= 0x80) { i += 1 }
        return String(decoding: bytes[start..<i], as: UTF8.self)
    }

    private func starts(with s: StaticString) -> Bool {
        let n = s.utf8CodeUnitCount
        guard i + n <= bytes.count else { return false }
        return (0..<n).allSatisfy { bytes[i + $0] == s.utf8Start[$0] }
    }

    private func find(_ s: StaticString, from: Int) -> Int? {
        let n = s.utf8CodeUnitCount
        var j = from
        while j + n <= bytes.count {
            if (0..<n).allSatisfy({ bytes[j + $0] == s.utf8Start[$0] }) { return j }
            j += 1
        }
        return nil
    }
}

private func isTemplateSpace(_ c: UInt8) -> Bool { c == 32 || c == 9 || c == 10 || c == 13 }
private func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
private func isWordByte(_ c: UInt8) -> Bool {
    isDigit(c) || (c | 0x20 >= 97 && c | 0x20 <= 122) || c == 95
}
