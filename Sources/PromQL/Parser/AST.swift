import Storage

/// The type of a PromQL expression's value.
public enum ValueType: String, Sendable {
    case scalar, vector, matrix, string

    /// The name Prometheus uses in messages and the API.
    public var name: String {
        switch self {
        case .scalar: "scalar"
        case .vector: "instant vector"
        case .matrix: "range vector"
        case .string: "string"
        }
    }
}

/// `@` modifier of a selector or subquery.
public enum AtModifier: Sendable, Equatable {
    case timestamp(Int64)
    case start
    case end
}

/// A vector selector: matchers plus time modifiers.
public struct VectorSelector: Sendable, Equatable {
    /// The metric name as written before the braces, if any (it is also among the matchers).
    public var name: String?
    public var matchers: [LabelMatcher]
    /// Milliseconds; positive looks back.
    public var offset: Int64 = 0
    public var at: AtModifier?
}

/// Binary operators, lowest precedence first.
public enum BinaryOp: String, Sendable, CaseIterable {
    case or, and, unless
    case eql = "==", neq = "!=", gtr = ">", lss = "<", gte = ">=", lte = "<="
    case add = "+", sub = "-"
    case mul = "*", div = "/", mod = "%", atan2
    case pow = "^"

    var precedence: Int {
        switch self {
        case .or: 1
        case .and, .unless: 2
        case .eql, .neq, .gtr, .lss, .gte, .lte: 3
        case .add, .sub: 4
        case .mul, .div, .mod, .atan2: 5
        case .pow: 6
        }
    }

    var isComparison: Bool { precedence == 3 }
    var isSetOperator: Bool { precedence <= 2 }
    var rightAssociative: Bool { self == .pow }
}

/// How the two sides of a binary operation between vectors are matched.
public struct VectorMatching: Sendable, Equatable {
    public enum Cardinality: Sendable, Equatable { case oneToOne, manyToOne, oneToMany, manyToMany }
    public var cardinality: Cardinality = .oneToOne
    /// `on(...)` when true, `ignoring(...)` otherwise.
    public var on = false
    public var labels: [String] = []
    /// Extra labels of `group_left(...)` / `group_right(...)`.
    public var include: [String] = []
    /// Whether `on`/`ignoring` was written (even with an empty list).
    public var explicit = false
}

/// Aggregation operators.
public enum AggregateOp: String, Sendable, CaseIterable {
    case sum, avg, count, min, max, group, stddev, stdvar, topk, bottomk, quantile
    case countValues = "count_values"

    var hasParameter: Bool { self == .topk || self == .bottomk || self == .quantile || self == .countValues }
}

/// A parsed PromQL expression.
public indirect enum Expr: Sendable, Equatable {
    case number(Double)
    case string(String)
    case vectorSelector(VectorSelector)
    /// A range vector selector: the selector and its range in milliseconds.
    case matrixSelector(VectorSelector, range: Int64)
    /// `expr[range:step]` with its own offset and `@`; a nil step means the default.
    case subquery(Expr, range: Int64, step: Int64?, offset: Int64, at: AtModifier?)
    case call(String, [Expr])
    case aggregate(AggregateOp, Expr, parameter: Expr?, grouping: [String], without: Bool, explicitGrouping: Bool)
    case binary(BinaryOp, Expr, Expr, matching: VectorMatching?, returnBool: Bool)
    /// Unary minus (unary plus is dropped by the parser).
    case negate(Expr)
    case paren(Expr)

    /// The type of the expression's value.
    public var type: ValueType {
        switch self {
        case .number: .scalar
        case .string: .string
        case .vectorSelector: .vector
        case .matrixSelector, .subquery: .matrix
        case .call(let name, _): Functions.all[name]?.returns ?? .vector
        case .aggregate: .vector
        case .binary(_, let l, let r, _, _): l.type == .scalar && r.type == .scalar ? .scalar : .vector
        case .negate(let e), .paren(let e): e.type
        }
    }

    public static func == (a: Expr, b: Expr) -> Bool {
        switch (a, b) {
        case (.number(let x), .number(let y)): (x.isNaN && y.isNaN) || x.bitPattern == y.bitPattern
        case (.string(let x), .string(let y)): x == y
        case (.vectorSelector(let x), .vectorSelector(let y)): x == y
        case (.matrixSelector(let x, let r1), .matrixSelector(let y, let r2)): x == y && r1 == r2
        case (.subquery(let e1, let r1, let s1, let o1, let a1), .subquery(let e2, let r2, let s2, let o2, let a2)):
            e1 == e2 && r1 == r2 && s1 == s2 && o1 == o2 && a1 == a2
        case (.call(let n1, let a1), .call(let n2, let a2)): n1 == n2 && a1 == a2
        case (.aggregate(let o1, let e1, let p1, let g1, let w1, let x1), .aggregate(let o2, let e2, let p2, let g2, let w2, let x2)):
            o1 == o2 && e1 == e2 && p1 == p2 && g1 == g2 && w1 == w2 && x1 == x2
        case (.binary(let o1, let l1, let r1, let m1, let b1), .binary(let o2, let l2, let r2, let m2, let b2)):
            o1 == o2 && l1 == l2 && r1 == r2 && m1 == m2 && b1 == b2
        case (.negate(let x), .negate(let y)): x == y
        case (.paren(let x), .paren(let y)): x == y
        default: false
        }
    }
}
