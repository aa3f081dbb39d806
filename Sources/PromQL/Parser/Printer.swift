import Storage

extension Expr: CustomStringConvertible {
    /// The expression as canonical PromQL text; parsing it gives back an equal AST.
    public var description: String {
        switch self {
        case .number(let v): formatNumberLiteral(v)
        case .string(let s): quoteLabelValue(s)
        case .vectorSelector(let s): s.selectorText + s.modifierText
        case .matrixSelector(let s, let r): s.selectorText + "[\(PrometheusDuration.format(r))]" + s.modifierText
        case .subquery(let e, let r, let step, let offset, let at):
            "\(e)[\(PrometheusDuration.format(r)):\(step.map(PrometheusDuration.format) ?? "")]"
                + VectorSelector(name: nil, matchers: [], offset: offset, at: at).modifierText
        case .call(let name, let args): "\(name)(\(args.map(\.description).joined(separator: ", ")))"
        case .aggregate(let op, let e, let p, let grouping, let without, let explicit):
            aggregateText(op, e, p, grouping, without, explicit)
        case .binary(let op, let l, let r, let m, let b):
            "\(l) \(op.rawValue)\(b ? " bool" : "")\(matchingText(m, op)) \(r)"
        case .negate(let e): "-\(e)"
        case .paren(let e): "(\(e))"
        }
    }

    func aggregateText(_ op: AggregateOp, _ e: Expr, _ p: Expr?, _ grouping: [String], _ without: Bool, _ explicit: Bool) -> String {
        var out = op.rawValue
        if without {
            out += " without (\(grouping.joined(separator: ", "))) "
        } else if explicit {
            out += " by (\(grouping.joined(separator: ", "))) "
        }
        out += "("
        if let p { out += "\(p), " }
        return out + "\(e))"
    }

    func matchingText(_ m: VectorMatching?, _ op: BinaryOp) -> String {
        guard let m, m.explicit || (m.cardinality != .oneToOne && m.cardinality != .manyToMany) else { return "" }
        var out = m.explicit ? " \(m.on ? "on" : "ignoring")(\(m.labels.joined(separator: ", ")))" : ""
        switch m.cardinality {
        case .manyToOne: out += " group_left(\(m.include.joined(separator: ", ")))"
        case .oneToMany: out += " group_right(\(m.include.joined(separator: ", ")))"
        default: break
        }
        return out
    }
}

extension VectorSelector {
    /// `name{matchers}` without modifiers.
    var selectorText: String {
        let rest = matchers.filter { !(name != nil && $0.name == Labels.metricName && $0.type == .equal) }
            .map { "\($0.name)\($0.type.rawValue)\(quoteLabelValue($0.value))" }
        if let name, rest.isEmpty { return name }
        return (name ?? "") + "{" + rest.joined(separator: ", ") + "}"
    }

    /// ` @ …` and ` offset …`.
    var modifierText: String {
        var out = ""
        switch at {
        case .timestamp(let ms)?: out += " @ \(formatSeconds(ms))"
        case .start?: out += " @ start()"
        case .end?: out += " @ end()"
        case nil: break
        }
        if offset > 0 { out += " offset \(PrometheusDuration.format(offset))" }
        if offset < 0 { out += " offset -\(PrometheusDuration.format(-offset))" }
        return out
    }
}

/// Milliseconds as seconds with three decimals (`1.500`).
func formatSeconds(_ ms: Int64) -> String {
    let sign = ms < 0 ? "-" : ""
    let m = ms.magnitude
    let frac = String(m % 1000)
    return "\(sign)\(m / 1000).\(String(repeating: "0", count: 3 - frac.count))\(frac)"
}

/// A number as Go's `%v` prints a float64 (Prometheus' literal printing): shortest digits,
/// exponent form when the exponent is below -4 or at least 21.
public func formatNumberLiteral(_ v: Double) -> String {
    if v.isNaN { return "NaN" }
    if v == .infinity { return "+Inf" }
    if v == -.infinity { return "-Inf" }
    return formatShortest(v, exponentThreshold: 21)
}

/// Shortest round-trip digits; exponent form (`1e+21`, `1e-05`) outside [1e-4, 10^threshold),
/// never with a nil threshold.
public func formatShortest(_ v: Double, exponentThreshold: Int?) -> String {
    if v == 0 { return v.sign == .minus ? "-0" : "0" }
    // Swift's description gives the shortest round-trip digits; re-lay them out.
    var text = "\(v.magnitude)"
    var exponent = 0
    if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
        exponent = Int(text[text.index(after: e)...]) ?? 0
        text = String(text[..<e])
    }
    var intPart = text, fracPart = ""
    if let dot = text.firstIndex(of: ".") {
        intPart = String(text[..<dot])
        fracPart = String(text[text.index(after: dot)...])
    }
    var digits = intPart + fracPart
    var pointAt = intPart.count + exponent       // decimal point position within digits
    while digits.hasPrefix("0") && digits.count > 1 { digits.removeFirst(); pointAt -= 1 }
    while digits.hasSuffix("0") && digits.count > 1 { digits.removeLast() }
    let exp10 = pointAt - 1
    let sign = v.sign == .minus ? "-" : ""
    if let exponentThreshold, exp10 < -4 || exp10 >= exponentThreshold {
        var mantissa = String(digits.first ?? "0")
        if digits.count > 1 { mantissa += "." + digits.dropFirst() }
        let e = abs(exp10)
        return "\(sign)\(mantissa)e\(exp10 < 0 ? "-" : "+")\(e < 10 ? "0" : "")\(e)"
    }
    if pointAt <= 0 { return sign + "0." + String(repeating: "0", count: -pointAt) + digits }
    if pointAt >= digits.count { return sign + digits + String(repeating: "0", count: pointAt - digits.count) }
    let i = digits.index(digits.startIndex, offsetBy: pointAt)
    return sign + digits[..<i] + "." + digits[i...]
}
