@testable import PromQL

/// The extra cases Prometheus' test harness derives from every `eval instant`: the expression
/// with `@ <eval time>` on every selector and subquery (nothing inside a subquery is
/// touched), evaluated at other times, where it must give the same result.
enum AtModifierCases {
    /// Functions whose result depends on the evaluation time even with `@` arguments: an
    /// expression calling one (outside subqueries) gets no `@` cases.
    static let unsafeFunctions: Set<String> = [
        "days_in_month", "day_of_month", "day_of_week", "day_of_year", "hour", "minute", "month", "year",
        "predict_linear", "time", "timestamp",
    ]

    /// The expression pinned at `t`, with the times to evaluate it at; empty when unsafe.
    static func cases(_ text: String, at t: Int64) -> [(expression: String, time: Int64)] {
        guard let expr = try? Parser.parse(text), let pinned = pin(expr, at: t) else { return [] }
        let times: [Int64] = t == 0 ? [-1000, 0, 1000] : [-10 * t, 0, t / 5, t, 10 * t]
        return times.map { (pinned.description, $0) }
    }

    /// `e` with `@ t` set where none is; nil when `e` calls an unsafe function.
    static func pin(_ e: Expr, at t: Int64) -> Expr? {
        switch e {
        case .number, .string: return e
        case .vectorSelector(var s):
            if s.at == nil { s.at = .timestamp(t) }
            return .vectorSelector(s)
        case .matrixSelector(var s, let range):
            if s.at == nil { s.at = .timestamp(t) }
            return .matrixSelector(s, range: range)
        case .subquery(let inner, let range, let step, let offset, let at):
            return .subquery(inner, range: range, step: step, offset: offset, at: at ?? .timestamp(t))
        case .call(let name, let args):
            guard !unsafeFunctions.contains(name) else { return nil }
            var pinned: [Expr] = []
            for a in args {
                guard let p = pin(a, at: t) else { return nil }
                pinned.append(p)
            }
            return .call(name, pinned)
        case .aggregate(let op, let inner, let parameter, let grouping, let without, let explicit):
            guard let i = pin(inner, at: t) else { return nil }
            var p: Expr?
            if let parameter {
                guard let pp = pin(parameter, at: t) else { return nil }
                p = pp
            }
            return .aggregate(op, i, parameter: p, grouping: grouping, without: without, explicitGrouping: explicit)
        case .binary(let op, let l, let r, let matching, let returnBool):
            guard let pl = pin(l, at: t), let pr = pin(r, at: t) else { return nil }
            return .binary(op, pl, pr, matching: matching, returnBool: returnBool)
        case .negate(let inner):
            return pin(inner, at: t).map { .negate($0) }
        case .paren(let inner):
            return pin(inner, at: t).map { .paren($0) }
        }
    }
}
