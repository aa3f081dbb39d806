/// A lexical token of PromQL with its position (byte offset into the query).
struct Token: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case identifier      // metric names, label names, function names, keywords
        case number          // decimal, hex, Inf, NaN
        case duration        // 5m, 1h30m
        case string          // quoted, already unescaped in `text`
        case op              // operators and punctuation: + - * / % ^ == != > < >= <= =~ !~ = , ( ) { } [ ] : @
        case eof
    }

    var kind: Kind
    var text: String
    var position: Int
}

/// A parse error: where, and what was expected or wrong.
public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Byte offset into the query.
    public let position: Int
    public let message: String
    /// Line and column (1-based) of the offset.
    public let line: Int
    public let column: Int

    public var description: String { "\(line):\(column): parse error: \(message)" }

    init(_ message: String, at position: Int, in query: String) {
        self.message = message
        self.position = position
        var line = 1, column = 1, i = 0
        for b in query.utf8 {
            if i == position { break }
            if b == 10 { line += 1; column = 1 } else { column += 1 }
            i += 1
        }
        self.line = line
        self.column = column
    }
}
