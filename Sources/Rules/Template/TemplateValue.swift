/// A value inside an alert template: what Go's text/template would hold for Prometheus'
/// template data (`$labels` a map of strings, `$value` a float64, `query` results as lists
/// of samples), printed the way Go's `fmt.Print` prints those types.
public indirect enum TemplateValue: Sendable {
    case string(String)
    case float(Double)
    case int(Int)
    case bool(Bool)
    /// A Go map (label sets, `args`); printed with sorted keys.
    case map([String: TemplateValue])
    /// A Go slice (`query` results).
    case list([TemplateValue])
    /// A Go struct: named fields in order (`typeName` for errors, as Go names the type).
    case record(typeName: String, fields: [(name: String, value: TemplateValue)])
    /// Go's untyped nil.
    case none

    /// A label set as `map[string]string`.
    public static func labels(_ pairs: [(name: String, value: String)]) -> TemplateValue {
        .map(Dictionary(pairs.map { ($0.name, TemplateValue.string($0.value)) }, uniquingKeysWith: { _, b in b }))
    }

    /// One sample of a `query` result: fields `Labels` and `Value`.
    public static func sample(labels: [(name: String, value: String)], value: Double) -> TemplateValue {
        .record(typeName: "*template.sample", fields: [("Labels", .labels(labels)), ("Value", .float(value))])
    }

    /// Go's type name, for error messages.
    public var goType: String {
        switch self {
        case .string: "string"
        case .float: "float64"
        case .int: "int"
        case .bool: "bool"
        case .map: "map[string]string"
        case .list: "template.queryResult"
        case .record(let name, _): name
        case .none: "<nil>"
        }
    }

    /// Truth as text/template decides it: false, 0, nil and empty strings, maps and lists are false.
    public var isTrue: Bool {
        switch self {
        case .string(let s): !s.isEmpty
        case .float(let v): v != 0
        case .int(let v): v != 0
        case .bool(let b): b
        case .map(let m): !m.isEmpty
        case .list(let l): !l.isEmpty
        case .record: true
        case .none: false
        }
    }

    /// The field or map key `name`, as `.name` reaches it; nil when a struct has no such field.
    /// A missing map key is the zero value (Prometheus' templates use `missingkey=zero`).
    public func member(_ name: String) -> TemplateValue? {
        switch self {
        case .map(let m): m[name] ?? .string("")
        case .record(_, let fields): fields.first { $0.name == name }?.value
        default: nil
        }
    }

    /// The value as `fmt.Print` writes it (`%v`).
    public var printed: String {
        switch self {
        case .string(let s): s
        case .float(let v): GoFormat.shortest(v)
        case .int(let v): String(v)
        case .bool(let b): b ? "true" : "false"
        case .map(let m): "map[" + m.keys.sorted().map { "\($0):\(m[$0]?.printed ?? "")" }.joined(separator: " ") + "]"
        case .list(let l): "[" + l.map(\.printed).joined(separator: " ") + "]"
        case .record(_, let fields): "{" + fields.map(\.value.printed).joined(separator: " ") + "}"
        case .none: "<nil>"
        }
    }
}
