/// A template in Go's text/template syntax, parsed once: the subset Prometheus' alert templates
/// use (actions, pipelines, variables, `if`/`else if`/`else`, `range` with `break` and
/// `continue`, `with`, comments, trim markers) and the functions of `TemplateCalls`.
/// `define`, `template` and `block` are refused when parsing, with that reason.
public struct Template: Sendable {
    public let name: String
    let text: [UInt8]
    let nodes: [TemplateNode]

    /// Parses `text`; errors as Go words them (`template: NAME:LINE: …`).
    public init(_ text: String, name: String) throws(TemplateError) {
        var parser = TemplateParser(name: name, text: text, functions: TemplateCalls.names)
        nodes = try parser.parse()
        self.name = name
        self.text = parser.text
    }

    /// The text the template writes with `data` as `.` and `$`.
    public func execute(_ data: TemplateValue, in environment: TemplateEnvironment) throws(TemplateError) -> String {
        var run = TemplateExecution(template: self, environment: environment, variables: [("$", data)])
        _ = try run.run(nodes, dot: data)
        return run.output
    }

    /// The template's text from `pos` to `end`.
    func source(_ pos: Int, _ end: Int) -> String {
        let from = max(0, min(pos, text.count))
        return String(decoding: text[from..<max(from, min(end, text.count))], as: UTF8.self)
    }

    /// `template: NAME:LINE:COL: executing "NAME" at <node>: message`, the position as Go
    /// counts it (line from 1, column in bytes from the line's start).
    func executionError(at pos: Int, node: String, _ message: String) -> TemplateError {
        let before = text.prefix(max(0, min(pos, text.count)))
        let line = 1 + before.lazy.filter { $0 == 10 }.count
        let column = before.count - ((before.lastIndex(of: 10)).map { $0 + 1 } ?? 0)
        return TemplateError("template: \(name):\(line):\(column): executing \"\(name)\" at <\(node)>: \(message)")
    }
}

/// What a template's functions reach beyond their arguments.
public struct TemplateEnvironment {
    /// `--web.external-url` (for `externalURL` and `pathPrefix`); nil: those functions fail.
    public var externalURL: String?
    /// Runs `query "expr"`: an instant query at the rule's evaluation time.
    public var query: ((String) throws -> [TemplateValue])?
    /// The most one template may write; beyond it the expansion fails.
    public var maxOutputBytes: Int

    public init(externalURL: String? = nil, query: ((String) throws -> [TemplateValue])? = nil,
                maxOutputBytes: Int = 1 << 20) {
        self.externalURL = externalURL
        self.query = query
        self.maxOutputBytes = maxOutputBytes
    }
}

/// One run of a template: its variables and output.
struct TemplateExecution {
    enum Flow { case normal, breakLoop, continueLoop }

    let template: Template
    let environment: TemplateEnvironment
    var variables: [(name: String, value: TemplateValue)]
    var output = ""

    mutating func run(_ nodes: [TemplateNode], dot: TemplateValue) throws(TemplateError) -> Flow {
        for node in nodes {
            switch node {
            case .text(let s): try write(s, at: 0)
            case .action(let p):
                let v = try pipeline(p, dot: dot, declaring: true)
                if p.variables.isEmpty { try write(v.printed, at: p.pos) }
            case .branch(let kind, let p, let body, let otherwise):
                let mark = variables.count
                defer { variables.removeSubrange(mark...) }
                let flow = kind == .rangeLoop
                    ? try range(p, body, otherwise, dot: dot)
                    : try choose(kind, p, body, otherwise, dot: dot)
                if flow != .normal { return flow }
            case .breakLoop: return .breakLoop
            case .continueLoop: return .continueLoop
            }
        }
        return .normal
    }

    private mutating func write(_ s: String, at pos: Int) throws(TemplateError) {
        guard output.utf8.count + s.utf8.count <= environment.maxOutputBytes else {
            throw template.executionError(at: pos, node: "output", "the template wrote more than \(environment.maxOutputBytes) bytes")
        }
        output += s
    }

    /// `if` and `with`: the body when the pipeline's value is true (as `.` for `with`), else
    /// the `else` part.
    private mutating func choose(_ kind: BranchKind, _ p: TemplatePipeline, _ body: [TemplateNode],
                                 _ otherwise: [TemplateNode], dot: TemplateValue) throws(TemplateError) -> Flow {
        let v = try pipeline(p, dot: dot, declaring: true)
        if v.isTrue { return try run(body, dot: kind == .withBranch ? v : dot) }
        return try run(otherwise, dot: dot)
    }

    /// `range`: the body once per element of a list (or value of a map, in key order), with
    /// the declared variables set to the index (key) and element; the `else` part when empty.
    private mutating func range(_ p: TemplatePipeline, _ body: [TemplateNode], _ otherwise: [TemplateNode],
                                dot: TemplateValue) throws(TemplateError) -> Flow {
        let items: [(TemplateValue, TemplateValue)]
        switch try pipeline(p, dot: dot, declaring: false) {
        case .list(let l): items = l.enumerated().map { (.int($0.offset), $0.element) }
        case .map(let m): items = m.keys.sorted().map { (.string($0), m[$0] ?? .none) }
        case .int(let n) where n >= 0: items = (0..<n).map { (.int($0), .int($0)) }
        case .none: items = []
        case let other:
            throw template.executionError(at: p.pos, node: "range", "range can't iterate over \(other.printed)")
        }
        if items.isEmpty { return try run(otherwise, dot: dot) }
        let mark = variables.count
        for (key, element) in items {
            variables.removeSubrange(mark...)
            if p.variables.count == 2 {
                variables.append((p.variables[0], key))
                variables.append((p.variables[1], element))
            } else if let v = p.variables.first {
                variables.append((v, element))
            }
            if try run(body, dot: element) == .breakLoop { break }
        }
        return .normal
    }

    // MARK: pipelines

    private mutating func pipeline(_ p: TemplatePipeline, dot: TemplateValue,
                                   declaring: Bool) throws(TemplateError) -> TemplateValue {
        var value: TemplateValue?
        for c in p.commands { value = try command(c, dot: dot, piped: value) }
        let result = value ?? .none
        if declaring, let name = p.variables.first {
            if p.assigns, let i = variables.lastIndex(where: { $0.name == name }) {
                variables[i].value = result
            } else {
                variables.append((name, result))
            }
        }
        return result
    }

    private mutating func command(_ c: TemplateCommand, dot: TemplateValue,
                                  piped: TemplateValue?) throws(TemplateError) -> TemplateValue {
        guard let first = c.args.first else { return .none }
        if case .function(let name, let pos) = first {
            return try call(name, at: pos, node: template.source(c.pos, c.end), Array(c.args.dropFirst()),
                            dot: dot, piped: piped)
        }
        guard piped == nil else {
            throw template.executionError(at: c.pos, node: "pipeline", "can't give argument to non-function")
        }
        return try operand(first, dot: dot)
    }

    private mutating func operand(_ o: TemplateOperand, dot: TemplateValue) throws(TemplateError) -> TemplateValue {
        switch o {
        case .dot: return dot
        case .literal(let v): return v
        case .variable(let name, let pos):
            guard let v = variables.last(where: { $0.name == name })?.value else {
                throw template.executionError(at: pos, node: "$" + name, "undefined variable: $\(name)")
            }
            return v
        case .function(let name, let pos): return try call(name, at: pos, node: name, [], dot: dot, piped: nil)
        case .pipeline(let p): return try pipeline(p, dot: dot, declaring: false)
        case .fields(let base, let names, let pos):
            var v = try operand(base, dot: dot)
            for name in names {
                guard let next = v.member(name) else {
                    let why = if case .none = v { "nil pointer evaluating interface {}.\(name)" }
                              else { "can't evaluate field \(name) in type \(v.goType)" }
                    throw template.executionError(at: pos, node: describe(base) + "." + names.joined(separator: "."), why)
                }
                v = next
            }
            return v
        }
    }

    private func describe(_ o: TemplateOperand) -> String {
        switch o {
        case .variable(let n, _): "$" + n
        case .pipeline(let p): p.commands.first.map { "(" + template.source($0.pos, p.commands.last?.end ?? $0.end) + ")" } ?? ""
        default: ""
        }
    }

    /// Calls function `name` with `args` (and the piped value last); `and` and `or` evaluate
    /// their arguments only as far as they need.
    private mutating func call(_ name: String, at pos: Int, node: String, _ args: [TemplateOperand], dot: TemplateValue,
                               piped: TemplateValue?) throws(TemplateError) -> TemplateValue {
        if name == "and" || name == "or" {
            let count = args.count + (piped == nil ? 0 : 1)
            guard count >= 1 else {
                throw template.executionError(at: pos, node: node, "wrong number of args for \(name): want at least 1 got 0")
            }
            var last = TemplateValue.none
            for i in 0..<count {
                last = i < args.count ? try operand(args[i], dot: dot) : (piped ?? .none)
                if last.isTrue != (name == "and") { return last }
            }
            return last
        }
        var values: [TemplateValue] = []
        values.reserveCapacity(args.count + 1)
        for a in args { values.append(try operand(a, dot: dot)) }
        if let piped { values.append(piped) }
        do {
            return try TemplateCalls.call(name, values, environment)
        } catch {
            switch error {
            case .arguments(let message): throw template.executionError(at: pos, node: node, message)
            case .failed(let message): throw template.executionError(at: pos, node: node, "error calling \(name): \(message)")
            }
        }
    }
}
