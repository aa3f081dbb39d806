/// kubernetes_sd_configs (role pod), as configured; discovery itself follows.
public struct KubernetesSDConfig: Sendable {
    public var role = "pod"
    public var apiServer: String?
    public var namespaces: [String] = []
    public var ownNamespace = false
    public var labelSelector: String?
    public var fieldSelector: String?

    static func parse(_ node: Node) throws(ConfigError) -> KubernetesSDConfig {
        let m = try node.map(["role", "api_server", "namespaces", "selectors", "kubeconfig_file", "basic_auth",
                              "authorization", "bearer_token", "bearer_token_file", "tls_config", "follow_redirects"])
        var c = KubernetesSDConfig()
        c.role = try m["role"]?.string() ?? ""
        guard c.role == "pod" else { throw (m["role"] ?? node).error("role \"\(c.role)\" is not supported (pod is)") }
        c.apiServer = try m["api_server"]?.string()
        if let ns = m["namespaces"] {
            let nm = try ns.map(["names", "own_namespace"])
            c.namespaces = try (nm["names"]?.list() ?? []).map { (x) throws(ConfigError) in try x.string() }
            c.ownNamespace = try nm["own_namespace"]?.bool() ?? false
        }
        for s in try m["selectors"]?.list() ?? [] {
            let sm = try s.map(["role", "label", "field"])
            c.labelSelector = try sm["label"]?.string()
            c.fieldSelector = try sm["field"]?.string()
        }
        return c
    }
}
