import Storage

/// A label or annotation value of an alerting rule, as Prometheus expands it: the text with
/// `$labels`, `$externalLabels`, `$externalURL` and `$value` declared before it, parsed once
/// when the rule file is read (so errors name the file and rule), run for each alert at each
/// evaluation. A failed run leaves `<error expanding template: …>` as the value.
public struct AlertTemplate: Sendable {
    /// What Prometheus puts before every alert template, on the same line.
    static let header = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}"

    public let source: String
    /// Nil when the text has no action (it expands to itself).
    let template: Template?

    public init(_ source: String, alertName: String) throws(TemplateError) {
        self.source = source
        template = source.contains("{{") ? try Template(Self.header + source, name: "__alert_" + alertName) : nil
    }

    /// The text for one alert: `labels` and `value` are the rule result's sample;
    /// `$externalURL` is `externalURL` when given, else the environment's.
    public func expand(labels: Labels, value: Double, externalLabels: Labels, externalURL: String? = nil,
                       in environment: TemplateEnvironment) -> String {
        guard let template else { return source }
        let data = TemplateValue.record(
            typeName: "struct { Labels map[string]string; ExternalLabels map[string]string; ExternalURL string; Value float64 }",
            fields: [
                ("Labels", .labels(labels.map { ($0.name, $0.value) })),
                ("ExternalLabels", .labels(externalLabels.map { ($0.name, $0.value) })),
                ("ExternalURL", .string(externalURL ?? environment.externalURL ?? "")),
                ("Value", .float(value)),
            ])
        do {
            return try template.execute(data, in: environment)
        } catch {
            return "<error expanding template: error executing template \(template.name): \(error.description)>"
        }
    }
}

/// What alert templates reach beyond their alert: the server's external labels and URL.
public struct AlertContext: Sendable {
    public var externalLabels: Labels
    public var externalURL: String?
    /// Whether the template functions `externalURL` and `pathPrefix` see `externalURL` too.
    /// promtool's rule unit tests give the test's external_url to `$externalURL` only: there
    /// those functions fail.
    public var urlFunctions: Bool

    public init(externalLabels: Labels = .empty, externalURL: String? = nil, urlFunctions: Bool = true) {
        self.externalLabels = externalLabels
        self.externalURL = externalURL
        self.urlFunctions = urlFunctions
    }
}
