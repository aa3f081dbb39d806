import Yams

extension PrometheusConfig {
    /// Keys whose values are secrets wherever they appear in a configuration (Prometheus'
    /// `Secret` fields: basic auth passwords, authorization credentials, bearer tokens, OAuth2
    /// client secrets).
    static let secretKeys: Set<String> = ["password", "credentials", "bearer_token", "client_secret"]

    /// The configuration text with every secret value replaced by `<secret>`, as Prometheus
    /// shows its configuration; text that is not YAML is withheld whole.
    public static func redacted(_ text: String) -> String {
        guard let node = try? Yams.compose(yaml: text) else { return "# configuration withheld: not valid YAML\n" }
        return (try? Yams.serialize(node: redact(node))) ?? "# configuration withheld\n"
    }

    static func redact(_ node: Yams.Node) -> Yams.Node {
        switch node {
        case .mapping(let mapping):
            var pairs: [(Yams.Node, Yams.Node)] = []
            for (key, value) in mapping {
                if let k = key.string, secretKeys.contains(k), value.scalar != nil {
                    pairs.append((key, Yams.Node("<secret>")))
                } else {
                    pairs.append((key, redact(value)))
                }
            }
            return .mapping(Yams.Node.Mapping(pairs, mapping.tag, mapping.style))
        case .sequence(let sequence):
            return .sequence(Yams.Node.Sequence(sequence.map(redact), sequence.tag, sequence.style))
        default:
            return node
        }
    }
}
