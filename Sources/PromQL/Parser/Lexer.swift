import Storage
/// Splits a PromQL query into tokens. Durations are recognised where a number is directly
/// followed by a unit letter (`5m`, `1h30m`, `500ms`).
struct Lexer {
    let query: String
    let bytes: [UInt8]
    var index = 0
    /// Inside `[...]` a colon separates subquery range and step instead of starting a name.
    var bracketDepth = 0

    init(_ query: String) {
        self.query = query
        bytes = Array(query.utf8)
    }

    static func isIdentStart(_ b: UInt8) -> Bool {
        (b >= 97 && b <= 122) || (b >= 65 && b <= 90) || b == 95 || b == 58   // a-z A-Z _ :
    }

    static func isIdentPart(_ b: UInt8) -> Bool { isIdentStart(b) || isDigit(b) }
    static func isDigit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }

    /// Every token, ending with `.eof`.
    mutating func tokens() throws(ParseError) -> [Token] {
        var out: [Token] = []
        while true {
            let t = try next()
            out.append(t)
            if t.kind == .eof { return out }
        }
    }

    func error(_ message: String, _ at: Int) -> ParseError { ParseError(message, at: at, in: query) }

    mutating func next() throws(ParseError) -> Token {
        skipSpaceAndComments()
        guard index < bytes.count else { return Token(kind: .eof, text: "", position: index) }
        let start = index
        let b = bytes[index]
        if b == 58 && bracketDepth > 0 {
            index += 1
            return Token(kind: .op, text: ":", position: start)
        }
        if Lexer.isIdentStart(b) { return identifierOrSpecialNumber(start) }
        if Lexer.isDigit(b) || (b == 46 && index + 1 < bytes.count && Lexer.isDigit(bytes[index + 1])) {
            return try numberOrDuration(start)
        }
        if b == 34 || b == 39 || b == 96 { return try string(start, quote: b) }
        return try op(start)
    }

    mutating func skipSpaceAndComments() {
        while index < bytes.count {
            let b = bytes[index]
            if b == 32 || b == 9 || b == 10 || b == 13 {
                index += 1
            } else if b == 35 {   // # comment to end of line
                while index < bytes.count && bytes[index] != 10 { index += 1 }
            } else {
                return
            }
        }
    }

    func text(_ from: Int, _ to: Int) -> String { String(decoding: bytes[from..<to], as: UTF8.self) }

    mutating func identifierOrSpecialNumber(_ start: Int) -> Token {
        while index < bytes.count && Lexer.isIdentPart(bytes[index]) { index += 1 }
        let word = text(start, index)
        let lower = word.lowercased()
        if lower == "inf" || lower == "nan" { return Token(kind: .number, text: word, position: start) }
        return Token(kind: .identifier, text: word, position: start)
    }

    mutating func numberOrDuration(_ start: Int) throws(ParseError) -> Token {
        // Hexadecimal.
        if bytes[index] == 48, index + 1 < bytes.count, bytes[index + 1] == 120 || bytes[index + 1] == 88 {
            index += 2
            while index < bytes.count && (Lexer.isDigit(bytes[index]) || (bytes[index] | 32) >= 97 && (bytes[index] | 32) <= 102) { index += 1 }
            return Token(kind: .number, text: text(start, index), position: start)
        }
        while index < bytes.count && Lexer.isDigit(bytes[index]) { index += 1 }
        // A duration: digits followed by a unit, repeated.
        if index < bytes.count, PrometheusDuration.unitStart(bytes[index]) {
            var j = start
            var ok = false
            while j < bytes.count && Lexer.isDigit(bytes[j]) {
                while j < bytes.count && Lexer.isDigit(bytes[j]) { j += 1 }
                guard let len = PrometheusDuration.unitLength(bytes, j) else { ok = false; break }
                j += len
                ok = true
            }
            if ok && (j >= bytes.count || bytes[j] == 58 || !Lexer.isIdentPart(bytes[j])) {   // `5m:` in subqueries
                index = j
                return Token(kind: .duration, text: text(start, index), position: start)
            }
        }
        if index < bytes.count && bytes[index] == 46 {
            index += 1
            while index < bytes.count && Lexer.isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count && (bytes[index] == 101 || bytes[index] == 69) {
            var j = index + 1
            if j < bytes.count && (bytes[j] == 43 || bytes[j] == 45) { j += 1 }
            if j < bytes.count && Lexer.isDigit(bytes[j]) {
                index = j
                while index < bytes.count && Lexer.isDigit(bytes[index]) { index += 1 }
            }
        }
        if index < bytes.count && Lexer.isIdentStart(bytes[index]) {
            throw error("bad number or duration syntax: \"\(text(start, index + 1))\"", start)
        }
        return Token(kind: .number, text: text(start, index), position: start)
    }

    mutating func string(_ start: Int, quote: UInt8) throws(ParseError) -> Token {
        index += 1
        var out: [UInt8] = []
        while true {
            guard index < bytes.count else { throw error("unterminated quoted string", start) }
            let b = bytes[index]
            index += 1
            if b == quote { break }
            if b == 92 && quote != 96 {   // backslash escapes, not in raw strings
                guard index < bytes.count else { throw error("unterminated quoted string", start) }
                let e = bytes[index]
                index += 1
                switch e {
                case 110: out.append(10)            // \n
                case 116: out.append(9)             // \t
                case 114: out.append(13)            // \r
                case 97: out.append(7)              // \a
                case 98: out.append(8)              // \b
                case 102: out.append(12)            // \f
                case 118: out.append(11)            // \v
                case 92, 34, 39: out.append(e)
                case 120, 117, 85:                  // \xHH, \uHHHH, \UHHHHHHHH
                    let n = e == 120 ? 2 : (e == 117 ? 4 : 8)
                    guard index + n <= bytes.count, let v = UInt32(text(index, index + n), radix: 16) else {
                        throw error("invalid escape sequence in string", index - 2)
                    }
                    index += n
                    if e == 120 { out.append(UInt8(v & 0xff)) } else {
                        guard let scalar = Unicode.Scalar(v) else { throw error("invalid unicode escape", index - n - 2) }
                        out.append(contentsOf: Array(String(Character(scalar)).utf8))
                    }
                case 48...55:                       // \ooo octal
                    guard index + 2 <= bytes.count, let v = UInt8(text(index - 1, index + 2), radix: 8) else {
                        throw error("invalid escape sequence in string", index - 2)
                    }
                    index += 2
                    out.append(v)
                default:
                    throw error("unknown escape sequence \"\\\(Character(Unicode.Scalar(e)))\"", index - 2)
                }
            } else {
                if b == 10 && quote != 96 { throw error("unterminated quoted string", start) }
                out.append(b)
            }
        }
        return Token(kind: .string, text: String(decoding: out, as: UTF8.self), position: start)
    }

    static let twoCharOps: Set<String> = ["==", "!=", ">=", "<=", "=~", "!~"]
    static let oneCharOps: Set<UInt8> = Set("+-*/%^><=,(){}[]:@".utf8)

    mutating func op(_ start: Int) throws(ParseError) -> Token {
        if index + 1 < bytes.count {
            let two = text(index, index + 2)
            if Lexer.twoCharOps.contains(two) {
                index += 2
                return Token(kind: .op, text: two, position: start)
            }
        }
        let b = bytes[index]
        guard Lexer.oneCharOps.contains(b) else {
            throw error("unexpected character: \(quoteLabelValueLike(text(index, min(index + 1, bytes.count))))", start)
        }
        index += 1
        if b == 91 { bracketDepth += 1 } else if b == 93 && bracketDepth > 0 { bracketDepth -= 1 }
        return Token(kind: .op, text: text(start, index), position: start)
    }

    func quoteLabelValueLike(_ s: String) -> String { "'\(s)'" }
}
