import Storage

/// One sample of an instant-vector result.
public struct InstantSample: Sendable, Equatable {
    public var labels: Labels
    public var t: Int64
    public var v: Double

    public init(labels: Labels, t: Int64, v: Double) {
        self.labels = labels
        self.t = t
        self.v = v
    }
}

/// One series of a range-vector (matrix) result.
public struct SeriesPoints: Sendable {
    public var labels: Labels
    public var timestamps: [Int64]
    public var values: [Double]

    public init(labels: Labels, timestamps: [Int64], values: [Double]) {
        self.labels = labels
        self.timestamps = timestamps
        self.values = values
    }
}

/// The result of a query.
public enum QueryValue: Sendable {
    case scalar(t: Int64, v: Double)
    case string(t: Int64, s: String)
    case vector([InstantSample])
    case matrix([SeriesPoints])

    /// The type name the HTTP API uses (`resultType`).
    public var resultType: String {
        switch self {
        case .scalar: "scalar"
        case .string: "string"
        case .vector: "vector"
        case .matrix: "matrix"
        }
    }
}

/// A vector-valued expression evaluated at every step: one value per step where present.
struct StepSeries {
    var labels: Labels
    var values: [Double]
    var present: [Bool]

    init(labels: Labels, steps: Int) {
        self.labels = labels
        values = Array(repeating: 0, count: steps)
        present = Array(repeating: false, count: steps)
    }

    init(labels: Labels, values: [Double], present: [Bool]) {
        self.labels = labels
        self.values = values
        self.present = present
    }

    var isEmpty: Bool { !present.contains(true) }

    @inline(__always)
    mutating func set(_ step: Int, _ v: Double) {
        values[step] = v
        present[step] = true
    }
}

/// Raw samples of one series (a range selector or a subquery result), in time order.
struct RangeSeries {
    var labels: Labels
    var timestamps: [Int64]
    var values: [Double]
}

/// What evaluating a node gives.
enum EvalValue {
    /// One value per step.
    case scalar([Double])
    case vector([StepSeries])
    case string(String)
    /// Only where a range vector is the result (instant queries, subquery operands).
    case matrix([RangeSeries])
}
