import Foundation
import Storage

/// Why a template function call failed: its arguments (`wrong number of args for …`), or the
/// function itself (`error calling NAME: …`).
enum TemplateCallError: Error {
    case arguments(String)
    case failed(String)
}

/// The functions a template may call: Go's builtins and those Prometheus adds to alert
/// templates, with Go's argument checks and messages.
enum TemplateCalls {
    static let names: Set<String> = [
        "and", "or", "not", "len", "index", "print", "printf", "println", "html", "js", "urlquery",
        "eq", "ne", "lt", "le", "gt", "ge",
        "query", "first", "label", "value", "strvalue", "args", "reReplaceAll", "safeHtml", "match",
        "title", "toUpper", "toLower", "graphLink", "tableLink", "sortByLabel", "humanize", "humanize1024",
        "humanizeDuration", "humanizePercentage", "humanizeTimestamp", "toTime", "pathPrefix", "externalURL",
        "parseDuration", "stripPort", "stripDomain",
    ]

    static func call(_ name: String, _ a: [TemplateValue], _ env: TemplateEnvironment) throws(TemplateCallError) -> TemplateValue {
        switch name {
        case "not": try want(a, 1, name); return .bool(!a[0].isTrue)
        case "len": try want(a, 1, name); return try length(a[0])
        case "index": return try index(a, name)
        case "print": return .string(GoFormat.sprint(a))
        case "println": return .string(GoFormat.sprintln(a))
        case "printf":
            guard let format = a.first else { throw .arguments("wrong number of args for printf: want at least 1 got 0") }
            return .string(GoFormat.sprintf(try text(format), Array(a.dropFirst())))
        case "html": return .string(TemplateFunctions.html(joined(a)))
        case "js": return .string(TemplateFunctions.js(joined(a)))
        case "urlquery": return .string(TemplateFunctions.queryEscape(joined(a)))
        case "eq", "ne", "lt", "le", "gt", "ge": return .bool(try compare(name, a))
        default: return try prometheus(name, a, env)
        }
    }

    /// The functions Prometheus adds (template/template.go).
    private static func prometheus(_ name: String, _ a: [TemplateValue], _ env: TemplateEnvironment) throws(TemplateCallError) -> TemplateValue {
        switch name {
        case "query": try want(a, 1, name); return try query(text(a[0]), env)
        case "first": try want(a, 1, name); return try first(a[0])
        case "label": try want(a, 2, name); return a[1].member("Labels")?.member(try text(a[0])) ?? .string("")
        case "value": try want(a, 1, name); return try sampleField(a[0], "Value")
        case "strvalue": try want(a, 1, name); return a[0].member("Labels")?.member("__value__") ?? .string("")
        case "args": return .map(Dictionary(uniqueKeysWithValues: a.enumerated().map { ("arg\($0.offset)", $0.element) }))
        case "reReplaceAll": try want(a, 3, name); return .string(try replaceAll(text(a[0]), text(a[1]), text(a[2])))
        case "safeHtml": try want(a, 1, name); return .string(try text(a[0]))
        case "match": try want(a, 2, name); return .bool(try matches(text(a[0]), text(a[1])))
        case "title": try want(a, 1, name); return .string(TemplateFunctions.title(try text(a[0])))
        case "toUpper": try want(a, 1, name); return .string(try text(a[0]).uppercased())
        case "toLower": try want(a, 1, name); return .string(try text(a[0]).lowercased())
        case "graphLink": try want(a, 1, name); return .string(TemplateFunctions.graphLink(try text(a[0])))
        case "tableLink": try want(a, 1, name); return .string(TemplateFunctions.tableLink(try text(a[0])))
        case "sortByLabel": try want(a, 2, name); return try sortByLabel(text(a[0]), a[1])
        case "pathPrefix", "externalURL":
            try want(a, 0, name)
            guard let url = env.externalURL else { throw .failed("runtime error: invalid memory address or nil pointer dereference") }
            return .string(name == "externalURL" ? url : (URLComponents(string: url)?.path ?? ""))
        case "parseDuration":
            try want(a, 1, name)
            let s = try text(a[0])
            return .float(try wrap { try TemplateFunctions.parseDuration(s) })
        case "stripPort": try want(a, 1, name); return .string(TemplateFunctions.stripPort(try text(a[0])))
        case "stripDomain": try want(a, 1, name); return .string(TemplateFunctions.stripDomain(try text(a[0])))
        default: return try humanizing(name, a)
        }
    }

    private static func humanizing(_ name: String, _ a: [TemplateValue]) throws(TemplateCallError) -> TemplateValue {
        try want(a, 1, name)
        let v = a[0]
        switch name {
        case "humanize": return .string(try wrap { try TemplateFunctions.humanize(v) })
        case "humanize1024": return .string(try wrap { try TemplateFunctions.humanize1024(v) })
        case "humanizeDuration": return .string(try wrap { try TemplateFunctions.humanizeDuration(v) })
        case "humanizePercentage": return .string(try wrap { try TemplateFunctions.humanizePercentage(v) })
        case "humanizeTimestamp": return .string(try wrap { try TemplateFunctions.humanizeTimestamp(v) })
        case "toTime":
            let seconds = try wrap { try TemplateFunctions.toFloat(v) }
            guard seconds.isFinite else { throw .failed("value is NaN or Inf") }
            return .string(try wrap { try TemplateFunctions.humanizeTimestamp(.float(seconds)) })
        default: throw .arguments("function \"\(name)\" not defined")
        }
    }

    // MARK: arguments

    private static func want(_ a: [TemplateValue], _ n: Int, _ name: String) throws(TemplateCallError) {
        guard a.count == n else { throw .arguments("wrong number of args for \(name): want \(n) got \(a.count)") }
    }

    /// A `string` parameter: anything else is refused as Go refuses it.
    private static func text(_ v: TemplateValue) throws(TemplateCallError) -> String {
        guard case .string(let s) = v else { throw .arguments("wrong type for value; expected string; got \(v.goType)") }
        return s
    }

    /// A function of `TemplateFunctions`, its error as the call's.
    private static func wrap<T>(_ body: () throws -> T) throws(TemplateCallError) -> T {
        do { return try body() } catch { throw .failed((error as? TemplateFunctionError)?.message ?? "\(error)") }
    }

    /// The argument of `html`, `js` and `urlquery`: a lone string as it is, else `fmt.Sprint`.
    private static func joined(_ a: [TemplateValue]) -> String {
        if a.count == 1, case .string(let s) = a[0] { return s }
        return GoFormat.sprint(a)
    }

    // MARK: builtins

    private static func length(_ v: TemplateValue) throws(TemplateCallError) -> TemplateValue {
        switch v {
        case .string(let s): .int(s.utf8.count)
        case .list(let l): .int(l.count)
        case .map(let m): .int(m.count)
        default: throw .failed("len of type \(v.goType)")
        }
    }

    private static func index(_ a: [TemplateValue], _ name: String) throws(TemplateCallError) -> TemplateValue {
        guard var item = a.first else { throw .arguments("wrong number of args for index: want at least 1 got 0") }
        for key in a.dropFirst() {
            switch (item, key) {
            case (.map(let m), .string(let k)): item = m[k] ?? .string("")
            case (.list(let l), .int(let i)):
                guard i >= 0, i < l.count else { throw .failed("index out of range: \(i)") }
                item = l[i]
            case (.none, _): throw .failed("index of untyped nil")
            default: throw .failed("can't index item of type \(item.goType)")
            }
        }
        return item
    }

    /// `eq` (true when the first equals any of the rest), `ne`, `lt`, `le`, `gt`, `ge`, over
    /// values of one basic kind as Go compares them (an int and a float are incompatible).
    private static func compare(_ name: String, _ a: [TemplateValue]) throws(TemplateCallError) -> Bool {
        if name == "eq" {
            guard a.count >= 2 else { throw .failed("missing argument for comparison") }
            for other in a.dropFirst() where try order(a[0], other, equalityOnly: true) == 0 { return true }
            return false
        }
        try want(a, 2, name)
        let o = try order(a[0], a[1], equalityOnly: name == "ne")
        switch name {
        case "ne": return o != 0
        case "lt": return o < 0
        case "le": return o <= 0
        case "gt": return o > 0
        default: return o >= 0
        }
    }

    /// -1, 0 or 1 (for equality alone, 0 or 1).
    private static func order(_ x: TemplateValue, _ y: TemplateValue, equalityOnly: Bool) throws(TemplateCallError) -> Int {
        func sign<T: Comparable>(_ p: T, _ q: T) -> Int { p < q ? -1 : (p == q ? 0 : 1) }
        switch (x, y) {
        case (.int(let p), .int(let q)): return sign(p, q)
        case (.float(let p), .float(let q)): return p == q ? 0 : (p < q ? -1 : 1)
        case (.string(let p), .string(let q)):
            return p == q ? 0 : (Array(p.utf8).lexicographicallyPrecedes(Array(q.utf8)) ? -1 : 1)
        case (.bool(let p), .bool(let q)):
            guard equalityOnly else { throw .failed("invalid type for comparison") }
            return p == q ? 0 : 1
        case (.map, _), (.list, _), (_, .map), (_, .list): throw .failed("invalid type for comparison")
        default: throw .failed("incompatible types for comparison")
        }
    }

    // MARK: queries

    private static func query(_ expr: String, _ env: TemplateEnvironment) throws(TemplateCallError) -> TemplateValue {
        guard let run = env.query else { throw .failed("queries are not available here") }
        do { return .list(try run(expr)) } catch { throw .failed("\(error)") }
    }

    private static func first(_ v: TemplateValue) throws(TemplateCallError) -> TemplateValue {
        guard case .list(let l) = v else { throw .arguments("wrong type for value; expected template.queryResult; got \(v.goType)") }
        guard let f = l.first else { throw .failed("first() called on vector with no elements") }
        return f
    }

    private static func sampleField(_ v: TemplateValue, _ field: String) throws(TemplateCallError) -> TemplateValue {
        guard case .record = v, let f = v.member(field) else {
            if case .none = v { throw .failed("runtime error: invalid memory address or nil pointer dereference") }
            throw .arguments("wrong type for value; expected *template.sample; got \(v.goType)")
        }
        return f
    }

    private static func sortByLabel(_ label: String, _ v: TemplateValue) throws(TemplateCallError) -> TemplateValue {
        guard case .list(let l) = v else { throw .arguments("wrong type for value; expected template.queryResult; got \(v.goType)") }
        let keyed = l.enumerated().map { (key: $0.element.member("Labels")?.member(label)?.printed ?? "", i: $0.offset, v: $0.element) }
        return .list(keyed.sorted { $0.key != $1.key ? $0.key < $1.key : $0.i < $1.i }.map(\.v))
    }

    // MARK: regular expressions

    private static func regex(_ pattern: String) throws(TemplateCallError) -> RE2Regex {
        do { return try RE2Regex(pattern) } catch { throw .failed("regexp: Compile(\(GoFormat.quote(pattern))): \(error.reason)") }
    }

    /// Go's `regexp.MatchString`: a match anywhere in `s`.
    private static func matches(_ pattern: String, _ s: String) throws(TemplateCallError) -> Bool {
        try regex(pattern).firstMatch(in: s, from: 0) != nil
    }

    /// Go's `ReplaceAllString`: every non-overlapping match replaced by `template` with `$1`,
    /// `${1}`, `${name}` and `$$` expanded; an empty match right after a match is skipped.
    private static func replaceAll(_ pattern: String, _ template: String, _ s: String) throws(TemplateCallError) -> String {
        let re = try regex(pattern)
        let src = Array(s.utf8)
        var out: [UInt8] = [], last = 0, search = 0
        while search <= src.count, let m = re.firstMatch(in: s, from: search), let whole = m[0] {
            out.append(contentsOf: src[last..<whole.lowerBound])
            if whole.upperBound > last || whole.lowerBound == 0 {
                out.append(contentsOf: expand(template, groups: m, in: src, regex: re))
            }
            last = whole.upperBound
            let width = search < src.count ? utf8Width(src[search]) : 1
            search = search + width > whole.upperBound ? search + width : max(search + 1, whole.upperBound)
        }
        out.append(contentsOf: src[min(last, src.count)...])
        return String(decoding: out, as: UTF8.self)
    }

    private static func utf8Width(_ lead: UInt8) -> Int {
        lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1
    }

    /// A replacement template with `$n`, `${n}`, `$name`, `${name}` and `$$` expanded.
    private static func expand(_ template: String, groups: [Range<Int>?], in src: [UInt8], regex: RE2Regex) -> [UInt8] {
        let t = Array(template.utf8)
        var out: [UInt8] = [], i = 0
        func isNameByte(_ c: UInt8) -> Bool { (c >= 48 && c <= 57) || (c | 0x20 >= 97 && c | 0x20 <= 122) || c == 95 }
        while i < t.count {
            guard t[i] == UInt8(ascii: "$"), i + 1 < t.count else { out.append(t[i]); i += 1; continue }
            if t[i + 1] == UInt8(ascii: "$") { out.append(t[i]); i += 2; continue }
            var j = i + 1, braced = false
            if t[j] == UInt8(ascii: "{") { braced = true; j += 1 }
            let start = j
            while j < t.count, isNameByte(t[j]) { j += 1 }
            let name = String(decoding: t[start..<j], as: UTF8.self)
            if braced { guard j < t.count, t[j] == UInt8(ascii: "}") else { out.append(t[i]); i += 1; continue }; j += 1 }
            guard !name.isEmpty else { out.append(t[i]); i += 1; continue }
            let g = Int(name) ?? regex.groupIndex(named: name)
            if let g, g >= 0, g < groups.count, let r = groups[g] { out.append(contentsOf: src[r]) }
            i = j
        }
        return out
    }
}

extension TemplateValue {
    var isString: Bool {
        if case .string = self { return true }
        return false
    }
}
