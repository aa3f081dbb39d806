/// Builds the parse tree from the scanner's pieces, checking what Go's parser checks before
/// anything runs: functions exist, variables are declared before use, `{{end}}`, `{{else}}`,
/// `{{break}}` and `{{continue}}` stand where they may.
struct TemplateParser {
    let name: String
    let text: [UInt8]
    let functions: Set<String>
    var pieces: [TemplatePiece] = []
    var next = 0
    /// Declared variables, innermost scope last.
    var scopes: [[String]] = [["$"]]
    var loops = 0
    /// Blocks and parentheses open around the current position: parsing and running recurse
    /// once per level, so a hostile rule file cannot nest deep enough to overflow the stack.
    var depth = 0
    static let maxDepth = 100

    init(name: String, text: String, functions: Set<String>) {
        self.name = name
        self.text = Array(text.utf8)
        self.functions = functions
    }

    /// A parse error at byte `pos`, as Go words it: `template: NAME:LINE: message`.
    func failure(_ pos: Int, _ message: String) -> TemplateError {
        let line = 1 + text.prefix(max(0, min(pos, text.count))).lazy.filter { $0 == 10 }.count
        return TemplateError("template: \(name):\(line): \(message)")
    }

    mutating func parse() throws(TemplateError) -> [TemplateNode] {
        let fail = failure
        var scanner = TemplateScanner(String(decoding: text, as: UTF8.self), fail: fail)
        pieces = try scanner.pieces()
        let (nodes, end) = try list()
        if let end { throw failure(end.pos, "unexpected {{\(end.word)}}") }
        return nodes
    }

    /// Nodes up to an `{{end}}` or `{{else …}}` (returned with its remaining tokens), or to
    /// the end of the text (nil).
    private mutating func list() throws(TemplateError) -> ([TemplateNode], (word: String, rest: [TemplateToken], pos: Int)?) {
        var nodes: [TemplateNode] = []
        while next < pieces.count {
            let piece = pieces[next]
            next += 1
            switch piece {
            case .text(let s): nodes.append(.text(s))
            case .action(let tokens, let pos):
                guard case .identifier(let word)? = tokens.first?.kind else {
                    nodes.append(.action(try pipeline(tokens[...], pos: pos, declares: true)))
                    continue
                }
                switch word {
                case "end", "else": return (nodes, (word, Array(tokens.dropFirst()), pos))
                case "if": nodes.append(try branch(.ifBranch, tokens.dropFirst(), pos: pos))
                case "range": nodes.append(try branch(.rangeLoop, tokens.dropFirst(), pos: pos))
                case "with": nodes.append(try branch(.withBranch, tokens.dropFirst(), pos: pos))
                case "break", "continue":
                    guard loops > 0 else { throw failure(pos, "{{\(word)}} outside {{range}}") }
                    guard tokens.count == 1 else { throw failure(pos, "unexpected token in {{\(word)}}") }
                    nodes.append(word == "break" ? .breakLoop : .continueLoop)
                case "define", "template", "block":
                    throw failure(pos, "{{\(word)}} is not supported in Sextant's templates")
                default:
                    nodes.append(.action(try pipeline(tokens[...], pos: pos, declares: true)))
                }
            }
        }
        return (nodes, nil)
    }

    /// `if`, `range` or `with`: its pipeline, body, and `else` part (`else if` and `else with`
    /// nest another branch in it).
    private mutating func branch(_ kind: BranchKind, _ tokens: ArraySlice<TemplateToken>,
                                 pos: Int) throws(TemplateError) -> TemplateNode {
        try enter(pos)
        scopes.append([])
        defer { scopes.removeLast(); depth -= 1 }
        let p = try pipeline(tokens, pos: pos, declares: true, ranging: kind == .rangeLoop)
        if kind == .rangeLoop { loops += 1 }
        let (body, end) = try list()
        if kind == .rangeLoop { loops -= 1 }
        guard let end else { throw failure(text.count, "unexpected EOF") }
        guard end.word == "else" else {
            guard end.rest.isEmpty else { throw failure(end.pos, "unexpected token in {{end}}") }
            return .branch(kind, p, body: body, otherwise: [])
        }
        if case .identifier(let w)? = end.rest.first?.kind, w == "if" || w == "with", kind != .rangeLoop {
            let nested = try branch(w == "if" ? .ifBranch : .withBranch, end.rest.dropFirst(), pos: end.pos)
            return .branch(kind, p, body: body, otherwise: [nested])
        }
        guard end.rest.isEmpty else { throw failure(end.pos, "unexpected token in {{else}}") }
        let (otherwise, close) = try list()
        guard let close else { throw failure(text.count, "unexpected EOF") }
        guard close.word == "end", close.rest.isEmpty else { throw failure(close.pos, "expected end; found {{\(close.word)}}") }
        return .branch(kind, p, body: body, otherwise: otherwise)
    }

    private mutating func enter(_ pos: Int) throws(TemplateError) {
        depth += 1
        guard depth <= Self.maxDepth else { throw failure(pos, "nested deeper than \(Self.maxDepth) levels") }
    }

    // MARK: pipelines

    private mutating func pipeline(_ tokens: ArraySlice<TemplateToken>, pos: Int, declares: Bool,
                                   ranging: Bool = false) throws(TemplateError) -> TemplatePipeline {
        var p = TemplatePipeline(pos: tokens.first?.pos ?? pos)
        var rest = tokens
        if declares, let (names, assigns, after) = declaration(tokens) {
            guard names.count == 1 || ranging else { throw failure(pos, "too many declarations in command") }
            if assigns {
                for n in names where !isDeclared(n) { throw failure(pos, "undefined variable \"$\(n)\"") }
            } else {
                for n in names { scopes[scopes.count - 1].append(n) }
            }
            p.variables = names
            p.assigns = assigns
            rest = after
        }
        var index = rest.startIndex
        p.commands = try commands(rest, &index, pos: pos)
        guard index == rest.endIndex else { throw failure(rest[index].pos, "unexpected \(describe(rest[index])) in operand") }
        return p
    }

    /// `$x :=`, `$i, $e :=` or `$x =` at the start of a pipeline.
    private func declaration(_ t: ArraySlice<TemplateToken>) -> ([String], Bool, ArraySlice<TemplateToken>)? {
        var names: [String] = [], j = t.startIndex
        while j < t.endIndex, case .variable(let n) = t[j].kind {
            names.append(n)
            j += 1
            guard j < t.endIndex else { return nil }
            if t[j].kind == .comma { j += 1; continue }
            if t[j].kind == .declare { return (names, false, t[(j + 1)...]) }
            if t[j].kind == .assign { return (names, true, t[(j + 1)...]) }
            return nil
        }
        return nil
    }

    private func isDeclared(_ name: String) -> Bool { scopes.contains { $0.contains(name) } }

    /// Commands separated by `|`, up to a `)` or the end.
    private mutating func commands(_ t: ArraySlice<TemplateToken>, _ j: inout Int,
                                   pos: Int) throws(TemplateError) -> [TemplateCommand] {
        var out: [TemplateCommand] = []
        while true {
            var args: [TemplateOperand] = []
            let start = j < t.endIndex ? t[j].pos : pos
            while j < t.endIndex, t[j].kind != .pipe, t[j].kind != .rightParen {
                args.append(try operand(t, &j))
            }
            guard !args.isEmpty else { throw failure(start, "missing value for command") }
            if args.count > 1, !isFunction(args[0]) {
                throw failure(start, "can't give argument to non-function \(describe(args[0]))")
            }
            out.append(TemplateCommand(pos: start, end: t[j - 1].end, args: args))
            guard j < t.endIndex, t[j].kind == .pipe else { return out }
            j += 1
        }
    }

    private func isFunction(_ o: TemplateOperand) -> Bool {
        if case .function = o { return true }
        return false
    }

    /// One operand and the fields chained onto it.
    private mutating func operand(_ t: ArraySlice<TemplateToken>, _ j: inout Int) throws(TemplateError) -> TemplateOperand {
        let token = t[j]
        j += 1
        var base: TemplateOperand
        switch token.kind {
        case .dot: base = .dot
        case .field(let f): base = .fields(.dot, [f], pos: token.pos)
        case .variable(let n):
            guard isDeclared(n) else { throw failure(token.pos, "undefined variable \"$\(n)\"") }
            base = .variable(n, pos: token.pos)
        case .string(let s): base = .literal(.string(s))
        case .number(let n): base = .literal(try number(n, at: token.pos))
        case .identifier(let w):
            switch w {
            case "true", "false": base = .literal(.bool(w == "true"))
            case "nil": base = .literal(.none)
            default:
                guard functions.contains(w) else { throw failure(token.pos, "function \"\(w)\" not defined") }
                base = .function(w, pos: token.pos)
            }
        case .leftParen:
            try enter(token.pos)
            defer { depth -= 1 }
            var p = TemplatePipeline(pos: token.pos)
            p.commands = try commands(t, &j, pos: token.pos)
            guard j < t.endIndex, t[j].kind == .rightParen else { throw failure(token.pos, "unclosed left paren") }
            j += 1
            base = .pipeline(p)
        default:
            throw failure(token.pos, "unexpected \(describe(token)) in operand")
        }
        var chain: [String] = [], end = t[j - 1].end
        while j < t.endIndex, case .field(let f) = t[j].kind, t[j].pos == end {
            chain.append(f)
            end = t[j].end
            j += 1
        }
        return chain.isEmpty ? base : .fields(base, chain, pos: token.pos)
    }

    /// A number literal: an integer when it reads as one, else a float (Go's ideal constants).
    private func number(_ s: String, at pos: Int) throws(TemplateError) -> TemplateValue {
        let body = s.hasPrefix("+") ? String(s.dropFirst()) : s
        if let i = Int(body) { return .int(i) }
        if let d = Double(body), d.isFinite { return .float(d) }
        throw failure(pos, "bad number syntax: \"\(s)\"")
    }

    private func describe(_ t: TemplateToken) -> String {
        switch t.kind {
        case .rightParen: "\")\""
        case .leftParen: "\"(\""
        case .pipe: "\"|\""
        case .comma: "\",\""
        case .declare: "\":=\""
        case .assign: "\"=\""
        default: String(decoding: text[max(0, t.pos)..<min(t.end, text.count)], as: UTF8.self)
        }
    }

    private func describe(_ o: TemplateOperand) -> String {
        switch o {
        case .dot: "."
        case .literal(.string(let s)): GoFormat.quote(s)
        case .literal(let v): v.printed
        case .variable(let n, _): "$" + n
        case .function(let n, _): n
        case .pipeline: "(…)"
        case .fields(let b, let f, _): (b.isDot ? "" : describe(b)) + f.map { "." + $0 }.joined()
        }
    }
}

extension TemplateOperand {
    var isDot: Bool {
        if case .dot = self { return true }
        return false
    }
}
