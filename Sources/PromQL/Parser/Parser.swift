import Storage

/// A hand-written precedence-climbing parser for PromQL, with types checked as it goes.
///
/// `Parser.parse(_:)` returns the AST or a `ParseError` with the position and what was
/// expected. It never traps on any input.
public struct Parser {
    let query: String
    var tokens: [Token]
    var pos = 0
    /// Nesting depth, bounded so hostile input cannot exhaust the stack: every evaluation,
    /// printing or comparison of the AST recurses as deep as it is. Chains of binary
    /// operators (`1-1-1-…`) and of postfix modifiers (`x[1m:][1m:]…`) count too, since they
    /// nest the AST as deeply as parentheses do.
    var depth = 0
    static let maxDepth = 200
    /// Longest query text accepted, in bytes.
    static let maxLength = 1 << 20

    public static func parse(_ query: String) throws(ParseError) -> Expr {
        guard query.utf8.count <= maxLength else {
            throw ParseError("query is \(query.utf8.count) bytes long, more than the \(maxLength) allowed", at: 0, in: query)
        }
        var lexer = Lexer(query)
        var p = Parser(query: query, tokens: try lexer.tokens())
        if p.peek.kind == .eof { throw p.error("no expression found in input", p.peek) }
        let e = try p.expression(minPrecedence: 1)
        guard p.peek.kind == .eof else { throw p.error("unexpected \(p.describe(p.peek))", p.peek) }
        return e
    }

    /// Parses a metric selector such as `up{job="x"}` (for `match[]` parameters).
    public static func parseSelector(_ query: String) throws(ParseError) -> VectorSelector {
        let e = try parse(query)
        guard case .vectorSelector(let s) = e else {
            throw ParseError("expected a vector selector", at: 0, in: query)
        }
        return s
    }

    // MARK: - Tokens

    var peek: Token { tokens[pos] }
    func peek(_ k: Int) -> Token { tokens[min(pos + k, tokens.count - 1)] }

    mutating func advance() -> Token {
        let t = tokens[pos]
        if pos < tokens.count - 1 { pos += 1 }
        return t
    }

    func isOp(_ text: String, _ t: Token? = nil) -> Bool {
        let t = t ?? peek
        return t.kind == .op && t.text == text
    }

    func isKeyword(_ word: String, _ t: Token? = nil) -> Bool {
        let t = t ?? peek
        return t.kind == .identifier && t.text.lowercased() == word
    }

    func error(_ message: String, _ t: Token) -> ParseError { ParseError(message, at: t.position, in: query) }

    func describe(_ t: Token) -> String {
        switch t.kind {
        case .eof: "end of input"
        case .identifier: "identifier \"\(t.text)\""
        case .number: "number \"\(t.text)\""
        case .duration: "duration \"\(t.text)\""
        case .string: "string"
        case .op: "\"\(t.text)\""
        }
    }

    mutating func expect(_ text: String, _ context: String) throws(ParseError) {
        guard isOp(text) else { throw error("unexpected \(describe(peek)) in \(context), expected \"\(text)\"", peek) }
        _ = advance()
    }

    // MARK: - Expressions

    mutating func expression(minPrecedence: Int) throws(ParseError) -> Expr {
        depth += 1
        defer { depth -= 1 }
        guard depth < Parser.maxDepth else { throw error("expression nested too deeply", peek) }
        var lhs = try unary()
        var chain = 0
        while let op = binaryOperator(peek), op.precedence >= minPrecedence {
            chain += 1
            guard depth + chain < Parser.maxDepth else { throw error("expression nested too deeply", peek) }
            let opToken = advance()
            var returnBool = false
            if isKeyword("bool") {
                _ = advance()
                returnBool = true
            }
            let matching = try vectorMatching(op)
            let rhs = try expression(minPrecedence: op.rightAssociative ? op.precedence : op.precedence + 1)
            lhs = try binary(op, lhs, rhs, matching: matching, returnBool: returnBool, at: opToken)
        }
        return lhs
    }

    func binaryOperator(_ t: Token) -> BinaryOp? {
        if t.kind == .op { return BinaryOp(rawValue: t.text) }
        if t.kind == .identifier {
            switch t.text.lowercased() {
            case "and": return .and
            case "or": return .or
            case "unless": return .unless
            case "atan2": return .atan2
            default: return nil
            }
        }
        return nil
    }

    mutating func vectorMatching(_ op: BinaryOp) throws(ParseError) -> VectorMatching? {
        var m = VectorMatching()
        var any = false
        if isKeyword("on") || isKeyword("ignoring") {
            m.on = isKeyword("on")
            _ = advance()
            m.labels = try labelList()
            m.explicit = true
            any = true
            if isKeyword("group_left") || isKeyword("group_right") {
                let t = advance()
                if op.isSetOperator { throw error("no grouping allowed for \"\(op.rawValue)\" operation", t) }
                m.cardinality = t.text.lowercased() == "group_left" ? .manyToOne : .oneToMany
                if isOp("(") { m.include = try labelList() }
                for l in m.include where m.on && m.labels.contains(l) {
                    throw error("label \"\(l)\" must not occur in ON and GROUP clause at once", t)
                }
            }
        } else if isKeyword("group_left") || isKeyword("group_right") {
            throw error("unexpected \(describe(peek)): grouping modifiers need on() or ignoring()", peek)
        }
        if op.isSetOperator {
            m.cardinality = .manyToMany
            any = true
        }
        return any ? m : nil
    }

    /// `(a, b, c)` of label names.
    mutating func labelList() throws(ParseError) -> [String] {
        try expect("(", "grouping opts")
        var out: [String] = []
        while !isOp(")") {
            guard peek.kind == .identifier, isLabelName(peek.text) else {
                throw error("unexpected \(describe(peek)) in grouping opts, expected label", peek)
            }
            out.append(advance().text)
            if isOp(",") { _ = advance() } else if !isOp(")") {
                throw error("unexpected \(describe(peek)) in grouping opts, expected \",\" or \")\"", peek)
            }
        }
        _ = advance()
        return out
    }

    func isLabelName(_ s: String) -> Bool { !s.contains(":") }

    mutating func unary() throws(ParseError) -> Expr {
        if isOp("-") || isOp("+") {
            let t = advance()
            let operand = try expression(minPrecedence: BinaryOp.pow.precedence)
            guard operand.type == .scalar || operand.type == .vector else {
                throw error("unary expression only allowed on expressions of type scalar or instant vector, got \"\(operand.type.name)\"", t)
            }
            if t.text == "+" { return operand }
            if case .number(let v) = operand { return .number(-v) }
            return .negate(operand)
        }
        return try postfix(primary())
    }

    // MARK: - Postfix: ranges, subqueries, offset, @

    mutating func postfix(_ base: Expr) throws(ParseError) -> Expr {
        var e = base
        var chain = 0
        while true {
            chain += 1
            guard depth + chain < Parser.maxDepth else { throw error("expression nested too deeply", peek) }
            if isOp("[") {
                e = try rangeOrSubquery(e)
            } else if isKeyword("offset") {
                let t = advance()
                var sign: Int64 = 1
                if isOp("-") { _ = advance(); sign = -1 } else if isOp("+") { _ = advance() }
                guard peek.kind == .duration || (peek.kind == .number && peek.text == "0") else {
                    throw error("unexpected \(describe(peek)) in offset, expected duration", peek)
                }
                let d = try durationValue(peek.kind == .number ? "0s" : peek.text)
                _ = advance()
                e = try applyOffset(sign * d, to: e, at: t)
            } else if isOp("@") {
                let t = advance()
                e = try applyAt(try atValue(), to: e, at: t)
            } else {
                return e
            }
        }
    }

    mutating func rangeOrSubquery(_ e: Expr) throws(ParseError) -> Expr {
        let open = advance()
        guard peek.kind == .duration else {
            throw error("unexpected \(describe(peek)) in subquery or range selector, expected duration", peek)
        }
        let range = try durationValue(peek.text)
        _ = advance()
        if isOp("]") {
            _ = advance()
            guard case .vectorSelector(let s) = e else {
                throw error("ranges only allowed for vector selectors", open)
            }
            if s.offset != 0 || s.at != nil {
                throw error("no offset or @ modifiers allowed before range", open)
            }
            guard range > 0 else { throw error("range must be positive", open) }
            return .matrixSelector(s, range: range)
        }
        try expect(":", "subquery")
        var step: Int64?
        if peek.kind == .duration {
            step = try durationValue(peek.text)
            _ = advance()
        }
        try expect("]", "subquery")
        guard e.type == .vector else {
            throw error("subquery is only allowed on instant vector, got \(e.type.name) instead", open)
        }
        if let step, step <= 0 { throw error("step must be positive", open) }
        return .subquery(e, range: range, step: step, offset: 0, at: nil)
    }

    /// The milliseconds of the duration token at `peek` (not consumed); an error when it is
    /// longer than any duration Prometheus accepts.
    func durationValue(_ text: String) throws(ParseError) -> Int64 {
        guard let d = PrometheusDuration.parse(text) else { throw error("not a valid duration string: \"\(text)\"", peek) }
        return d
    }

    func applyOffset(_ d: Int64, to e: Expr, at t: Token) throws(ParseError) -> Expr {
        switch e {
        case .vectorSelector(var s):
            if s.offset != 0 { throw error("offset may not be set multiple times", t) }
            s.offset = d
            return .vectorSelector(s)
        case .matrixSelector(var s, let r):
            if s.offset != 0 { throw error("offset may not be set multiple times", t) }
            s.offset = d
            return .matrixSelector(s, range: r)
        case .subquery(let inner, let r, let step, let o, let a):
            if o != 0 { throw error("offset may not be set multiple times", t) }
            return .subquery(inner, range: r, step: step, offset: d, at: a)
        default:
            throw error("offset modifier must be preceded by an instant vector selector or range vector selector or a subquery", t)
        }
    }

    mutating func atValue() throws(ParseError) -> AtModifier {
        if isKeyword("start") || isKeyword("end") {
            let word = advance().text.lowercased()
            try expect("(", "@ modifier")
            try expect(")", "@ modifier")
            return word == "start" ? .start : .end
        }
        var sign = 1.0
        if isOp("-") { _ = advance(); sign = -1 } else if isOp("+") { _ = advance() }
        guard peek.kind == .number, let v = Parser.number(peek.text) else {
            throw error("unexpected \(describe(peek)) in @, expected timestamp", peek)
        }
        _ = advance()
        let ms = (sign * v * 1000).rounded()
        guard ms.isFinite, abs(ms) <= Double(PrometheusDuration.maxTimestamp) else { throw error("timestamp out of bounds for @ modifier", peek) }
        return .timestamp(Int64(ms))
    }

    func applyAt(_ a: AtModifier, to e: Expr, at t: Token) throws(ParseError) -> Expr {
        switch e {
        case .vectorSelector(var s):
            if s.at != nil { throw error("@ <timestamp> may not be set multiple times", t) }
            s.at = a
            return .vectorSelector(s)
        case .matrixSelector(var s, let r):
            if s.at != nil { throw error("@ <timestamp> may not be set multiple times", t) }
            s.at = a
            return .matrixSelector(s, range: r)
        case .subquery(let inner, let r, let step, let o, let old):
            if old != nil { throw error("@ <timestamp> may not be set multiple times", t) }
            return .subquery(inner, range: r, step: step, offset: o, at: a)
        default:
            throw error("@ modifier must be preceded by an instant vector selector or range vector selector or a subquery", t)
        }
    }

    // MARK: - Primary expressions

    mutating func primary() throws(ParseError) -> Expr {
        let t = peek
        switch t.kind {
        case .number:
            _ = advance()
            guard let v = Parser.number(t.text) else { throw error("bad number \"\(t.text)\"", t) }
            return .number(v)
        case .duration:
            // A bare duration such as `5m` is not a number.
            throw error("unexpected \(describe(t))", t)
        case .string:
            _ = advance()
            return .string(t.text)
        case .op where t.text == "(":
            _ = advance()
            let e = try expression(minPrecedence: 1)
            try expect(")", "paren expression")
            return .paren(e)
        case .op where t.text == "{":
            return .vectorSelector(try selector(name: nil, at: t))
        case .identifier:
            return try identifierExpression()
        case .eof:
            throw error("unexpected end of input", t)
        default:
            throw error("unexpected \(describe(t))", t)
        }
    }

    mutating func identifierExpression() throws(ParseError) -> Expr {
        let t = peek
        let lower = t.text.lowercased()
        if let op = AggregateOp(rawValue: lower), isOp("(", peek(1)) || isKeyword("by", peek(1)) || isKeyword("without", peek(1)) {
            _ = advance()
            return try aggregate(op, at: t)
        }
        if let f = Functions.all[t.text], isOp("(", peek(1)) {
            _ = advance()
            return try call(f, at: t)
        }
        if isOp("(", peek(1)) {
            throw error("unknown function with name \"\(t.text)\"", t)
        }
        if ["by", "without", "bool", "on", "ignoring", "group_left", "group_right", "offset"].contains(lower) {
            throw error("unexpected \(describe(t))", t)
        }
        _ = advance()
        if isOp("{") { return .vectorSelector(try selector(name: t.text, at: t)) }
        return .vectorSelector(VectorSelector(name: t.text, matchers: [.equal(Labels.metricName, t.text)]))
    }

    mutating func selector(name: String?, at start: Token) throws(ParseError) -> VectorSelector {
        try expect("{", "label matching")
        var matchers: [LabelMatcher] = []
        if let name { matchers.append(.equal(Labels.metricName, name)) }
        while !isOp("}") {
            // A label name, as Prometheus 2.42 has it: an identifier, never a quoted string.
            guard peek.kind == .identifier, isLabelName(peek.text) else {
                throw error("unexpected \(describe(peek)) in label matching, expected label", peek)
            }
            let label = advance()
            let opToken = peek
            guard opToken.kind == .op, let type = LabelMatcher.MatchType(rawValue: opToken.text) else {
                throw error("unexpected \(describe(opToken)) in label matching, expected label matching operator", opToken)
            }
            _ = advance()
            guard peek.kind == .string else {
                throw error("unexpected \(describe(peek)) in label matching, expected string", peek)
            }
            let value = advance().text
            let m: LabelMatcher
            do { m = try LabelMatcher(type, label.text, value) } catch {
                throw self.error("\(error)", label)
            }
            if label.text == Labels.metricName && name != nil {
                throw self.error("metric name must not be set twice: \"\(name ?? "")\" or \"\(value)\"", label)
            }
            matchers.append(m)
            if isOp(",") { _ = advance() } else if !isOp("}") {
                throw error("unexpected \(describe(peek)) in label matching, expected \",\" or \"}\"", peek)
            }
        }
        _ = advance()
        guard matchersSelectSomething(matchers) else {
            throw error("vector selector must contain at least one non-empty matcher", start)
        }
        return VectorSelector(name: name, matchers: matchers)
    }

    mutating func aggregate(_ op: AggregateOp, at t: Token) throws(ParseError) -> Expr {
        var grouping: [String] = []
        var without = false
        var explicit = false
        if isKeyword("by") || isKeyword("without") {
            without = isKeyword("without")
            _ = advance()
            grouping = try labelList()
            explicit = true
        }
        let args = try arguments("aggregation")
        if isKeyword("by") || isKeyword("without") {
            if explicit { throw error("unexpected \(describe(peek)) in aggregation", peek) }
            without = isKeyword("without")
            _ = advance()
            grouping = try labelList()
            explicit = true
        }
        let wanted = op.hasParameter ? 2 : 1
        guard args.count == wanted else {
            throw error(args.isEmpty ? "no arguments for aggregate expression provided"
                        : "wrong number of arguments for aggregate expression provided, expected \(wanted), got \(args.count)", t)
        }
        let expr = args[wanted - 1]
        guard expr.type == .vector else {
            throw error("expected type instant vector in aggregation expression, got \(expr.type.name)", t)
        }
        var parameter: Expr?
        if op.hasParameter {
            let p = args[0]
            let want: ValueType = op == .countValues ? .string : .scalar
            guard p.type == want else {
                throw error("expected type \(want.name) in aggregation parameter, got \(p.type.name)", t)
            }
            parameter = p
        }
        return .aggregate(op, expr, parameter: parameter, grouping: grouping, without: without, explicitGrouping: explicit)
    }

    mutating func call(_ f: FunctionSignature, at t: Token) throws(ParseError) -> Expr {
        let args = try arguments("function call")
        // optional -1: the last argument repeats any number of times, none included.
        let required = f.arguments.count - (f.optional > 0 ? f.optional : (f.optional < 0 ? 1 : 0))
        let tooMany = f.optional >= 0 && args.count > f.arguments.count
        if args.count < required || tooMany {
            let expected = f.optional == 0 ? "\(f.arguments.count)" : (f.optional < 0 ? "at least \(required)" : "\(required) to \(f.arguments.count)")
            throw error("expected \(expected) argument(s) in call to \"\(f.name)\", got \(args.count)", t)
        }
        for (i, a) in args.enumerated() {
            let want = f.arguments[min(i, f.arguments.count - 1)]
            guard a.type == want else {
                throw error("expected type \(want.name) in call to function \"\(f.name)\", got \(a.type.name)", t)
            }
        }
        return .call(f.name, args)
    }

    /// `(expr, expr, …)`.
    mutating func arguments(_ context: String) throws(ParseError) -> [Expr] {
        try expect("(", context)
        var args: [Expr] = []
        while !isOp(")") {
            args.append(try expression(minPrecedence: 1))
            if isOp(",") { _ = advance() } else if !isOp(")") {
                throw error("unexpected \(describe(peek)) in \(context), expected \",\" or \")\"", peek)
            }
        }
        _ = advance()
        return args
    }

    // MARK: - Binary expressions

    func binary(_ op: BinaryOp, _ lhs: Expr, _ rhs: Expr, matching: VectorMatching?, returnBool: Bool,
                at t: Token) throws(ParseError) -> Expr {
        for side in [lhs, rhs] where side.type != .scalar && side.type != .vector {
            throw error("binary expression must contain only scalar and instant vector types", t)
        }
        let bothScalar = lhs.type == .scalar && rhs.type == .scalar
        if returnBool && !op.isComparison {
            throw error("bool modifier can only be used on comparison operators", t)
        }
        if op.isComparison && bothScalar && !returnBool {
            throw error("comparisons between scalars must use BOOL modifier", t)
        }
        if op.isSetOperator && (lhs.type == .scalar || rhs.type == .scalar) {
            throw error("set operator \"\(op.rawValue)\" not allowed in binary scalar expression", t)
        }
        if let m = matching, m.explicit || m.cardinality != .oneToOne && !op.isSetOperator,
           lhs.type == .scalar || rhs.type == .scalar {
            throw error("vector matching only allowed between instant vectors", t)
        }
        return .binary(op, lhs, rhs, matching: matching, returnBool: returnBool)
    }

    // MARK: - Numbers

    /// A PromQL number literal: decimal, scientific, hexadecimal, Inf or NaN.
    static func number(_ s: String) -> Double? {
        let lower = s.lowercased()
        if lower == "inf" { return .infinity }
        if lower == "nan" { return .nan }
        if lower.hasPrefix("0x") { return UInt64(lower.dropFirst(2), radix: 16).map { Double($0) } }
        return Double(s)
    }
}
