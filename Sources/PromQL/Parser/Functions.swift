/// The argument and return types of a PromQL function (Prometheus 2.42's library).
public struct FunctionSignature: Sendable {
    public let name: String
    public let arguments: [ValueType]
    /// Trailing arguments that may be left out (`-1`: the last argument repeats without limit).
    public let optional: Int
    public let returns: ValueType

    init(_ name: String, _ arguments: [ValueType], optional: Int = 0, returns: ValueType = .vector) {
        self.name = name
        self.arguments = arguments
        self.optional = optional
        self.returns = returns
    }
}

/// Every function the parser accepts.
public enum Functions {
    public static let all: [String: FunctionSignature] = {
        let v = ValueType.vector, m = ValueType.matrix, s = ValueType.scalar, str = ValueType.string
        var list: [FunctionSignature] = [
            .init("abs", [v]), .init("absent", [v]), .init("absent_over_time", [m]),
            .init("avg_over_time", [m]), .init("ceil", [v]), .init("changes", [m]),
            .init("clamp", [v, s, s]), .init("clamp_max", [v, s]), .init("clamp_min", [v, s]),
            .init("count_over_time", [m]), .init("delta", [m]), .init("deriv", [m]), .init("exp", [v]),
            .init("floor", [v]), .init("histogram_quantile", [s, v]), .init("holt_winters", [m, s, s]),
            .init("idelta", [m]), .init("increase", [m]), .init("irate", [m]),
            .init("label_replace", [v, str, str, str, str]), .init("label_join", [v, str, str, str], optional: -1),
            .init("last_over_time", [m]), .init("ln", [v]), .init("log10", [v]), .init("log2", [v]),
            .init("max_over_time", [m]), .init("min_over_time", [m]), .init("predict_linear", [m, s]),
            .init("present_over_time", [m]), .init("quantile_over_time", [s, m]), .init("rate", [m]),
            .init("resets", [m]), .init("round", [v, s], optional: 1), .init("scalar", [v], returns: s),
            .init("sgn", [v]), .init("sort", [v]), .init("sort_desc", [v]), .init("sqrt", [v]),
            .init("stddev_over_time", [m]), .init("stdvar_over_time", [m]), .init("sum_over_time", [m]),
            .init("time", [], returns: s), .init("timestamp", [v]), .init("vector", [s]), .init("pi", [], returns: s),
        ]
        for name in ["days_in_month", "day_of_month", "day_of_week", "day_of_year", "hour", "minute", "month", "year"] {
            list.append(.init(name, [v], optional: 1))
        }
        for name in ["acos", "acosh", "asin", "asinh", "atan", "atanh", "cos", "cosh", "sin", "sinh", "tan", "tanh", "deg", "rad"] {
            list.append(.init(name, [v]))
        }
        return Dictionary(uniqueKeysWithValues: list.map { ($0.name, $0) })
    }()
}
