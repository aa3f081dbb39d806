/// One `kubernetes_sd_configs` entry, every field Prometheus reads, validated as Prometheus
/// validates it.
public struct KubernetesSDConfig: Sendable, Hashable {
    public enum Role: String, Sendable, CaseIterable {
        case pod, node, service, endpoints, endpointslice, ingress

        /// The selector roles a discovery role accepts (`selectors[].role`).
        var selectorRoles: Set<Role> {
            switch self {
            case .endpoints: return [.pod, .service, .endpoints]
            case .endpointslice: return [.pod, .service, .endpointslice]
            default: return [self]
            }
        }
    }

    /// A label and field selector for the objects of one role.
    public struct Selector: Sendable, Hashable {
        public var role: Role
        public var label: String?
        public var field: String?
    }

    public var role = Role.pod
    public var apiServer: String?
    public var kubeconfigFile: String?
    /// Namespaces to watch; empty (and no own namespace) means every namespace.
    public var namespaces: [String] = []
    public var ownNamespace = false
    public var selectors: [Selector] = []
    /// `attach_metadata: {node: true}`: pod targets get their node's labels.
    public var attachNodeMetadata = false
    /// Credentials and TLS for the API server: never the scrape job's.
    public var http = HTTPClientSettings()

    public init() {}

    /// The selector given for objects of `role`, if any.
    public func selector(for role: Role) -> Selector? { selectors.first { $0.role == role } }

    static let keys = ["role", "api_server", "kubeconfig_file", "namespaces", "selectors", "attach_metadata"] + HTTPClientSettings.keys

    static func parse(_ node: Node) throws(ConfigError) -> KubernetesSDConfig {
        let m = try node.map(keys)
        var c = KubernetesSDConfig()
        let roleText = try m["role"]?.string() ?? ""
        guard !roleText.isEmpty else { throw node.error("role missing (one of: pod, service, endpoints, endpointslice, node, ingress)") }
        guard let role = Role(rawValue: roleText) else { throw (m["role"] ?? node).error("unknown Kubernetes SD role \"\(roleText)\"") }
        c.role = role
        c.apiServer = try m["api_server"]?.string()
        c.kubeconfigFile = try m["kubeconfig_file"]?.string()
        c.http = try HTTPClientSettings.parse(m, node)
        try c.validateConnection(node)
        if let ns = m["namespaces"] {
            let nm = try ns.map(["names", "own_namespace"])
            c.namespaces = try (nm["names"]?.list() ?? []).map { (x) throws(ConfigError) in try x.string() }
            c.ownNamespace = try nm["own_namespace"]?.bool() ?? false
            if c.ownNamespace, c.apiServer != nil { throw ns.error("cannot use 'api_server' and 'namespaces.own_namespace' simultaneously") }
            if c.ownNamespace, c.kubeconfigFile != nil {
                throw ns.error("cannot use 'kubeconfig_file' and 'namespaces.own_namespace' simultaneously")
            }
        }
        for s in try m["selectors"]?.list() ?? [] {
            let selector = try parseSelector(s, for: role)
            if c.selector(for: selector.role) != nil { throw s.error("duplicated selector role: \(selector.role.rawValue)") }
            c.selectors.append(selector)
        }
        if let a = m["attach_metadata"] {
            c.attachNodeMetadata = try a.map(["node"])["node"]?.bool() ?? false
        }
        return c
    }

    func validateConnection(_ node: Node) throws(ConfigError) {
        if apiServer != nil && kubeconfigFile != nil {
            throw node.error("cannot use 'kubeconfig_file' and 'api_server' simultaneously")
        }
        if let server = apiServer, !(server.hasPrefix("http://") || server.hasPrefix("https://")) {
            throw node.error("api_server \"\(server)\" is not an http or https URL")
        }
        if apiServer == nil && !http.isDefault {
            throw node.error(kubeconfigFile == nil
                ? "to use custom HTTP client configuration please provide the 'api_server' URL explicitly"
                : "cannot use a custom HTTP client configuration together with 'kubeconfig_file'")
        }
    }

    static func parseSelector(_ node: Node, for role: Role) throws(ConfigError) -> Selector {
        let sm = try node.map(["role", "label", "field"])
        let text = try sm["role"]?.string() ?? ""
        guard let selectorRole = Role(rawValue: text) else { throw (sm["role"] ?? node).error("invalid selector role: \(text)") }
        guard role.selectorRoles.contains(selectorRole) else {
            let allowed = role.selectorRoles.map(\.rawValue).sorted().joined(separator: ", ")
            throw node.error("\(role.rawValue) role supports only \(allowed) selectors")
        }
        let label = try sm["label"]?.string()
        let field = try sm["field"]?.string()
        for (kind, text) in [("label", label), ("field", field)] {
            if let text, let problem = SelectorSyntax.problem(in: text) {
                throw (sm[kind] ?? node).error("invalid \(kind) selector \"\(text)\": \(problem)")
            }
        }
        return Selector(role: selectorRole, label: label, field: field)
    }
}

/// A light check of Kubernetes selector syntax (comma-separated requirements such as `a=b`,
/// `a!=b`, `a in (x,y)`, `!a`), enough to refuse what the API server would refuse at every
/// list.
enum SelectorSyntax {
    static func problem(in text: String) -> String? {
        var depth = 0
        for ch in text {
            if ch == "(" { depth += 1 }
            if ch == ")" { depth -= 1 }
            if depth < 0 || depth > 1 { return "unbalanced parentheses" }
        }
        if depth != 0 { return "unbalanced parentheses" }
        if text.contains(where: { $0 == "\n" || $0 == "\0" }) { return "control character" }
        return nil
    }
}
