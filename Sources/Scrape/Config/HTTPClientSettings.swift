import Foundation
import Storage

/// The HTTP client settings Prometheus shares between scrape jobs and service discovery:
/// `basic_auth`, `authorization`, the older `bearer_token` and `bearer_token_file`,
/// `tls_config` and `follow_redirects`, validated as Prometheus validates them (one kind of
/// credentials at most, one of a value and its file).
public struct HTTPClientSettings: Sendable, Hashable {
    /// A secret given inline or as a file; files are read when a request is made, so a
    /// rotated token (a projected service account token, for one) is picked up.
    public enum Secret: Sendable, Hashable {
        case inline(String)
        case file(String)

        /// The value; a file's content without surrounding white space.
        public func read() throws -> String {
            switch self {
            case .inline(let value): return value
            case .file(let path):
                do { return try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) } catch {
                    throw SecretError(path: path)
                }
            }
        }
    }

    public struct SecretError: Error, CustomStringConvertible {
        public let path: String
        public var description: String { "unable to read credentials file \(path)" }
    }

    public enum Credentials: Sendable, Hashable {
        case none
        case basic(username: String, password: Secret)
        case authorization(type: String, credentials: Secret)

        /// The `Authorization` header, files read now; nil for none.
        public func header() throws -> String? {
            switch self {
            case .none: return nil
            case .basic(let user, let password):
                return "Basic " + Data("\(user):\(try password.read())".utf8).base64EncodedString()
            case .authorization(let type, let secret):
                return "\(type) \(try secret.read())"
            }
        }
    }

    public var credentials = Credentials.none
    public var tls = ScrapeTLS()
    public var followRedirects = true

    public init() {}

    /// The keys these settings take in a mapping that holds them.
    static let keys = ["basic_auth", "authorization", "bearer_token", "bearer_token_file", "tls_config", "follow_redirects"]

    /// True when nothing was configured (in-cluster Kubernetes discovery requires it).
    public var isDefault: Bool { self == HTTPClientSettings() }

    /// The `Authorization` header to send, files read now; nil without credentials.
    public func authorizationHeader() throws -> String? { try credentials.header() }

    /// Parses the settings from the mapping `m` of `node`.
    static func parse(_ m: [String: Node], _ node: Node) throws(ConfigError) -> HTTPClientSettings {
        var s = HTTPClientSettings()
        if m["bearer_token"] != nil && m["bearer_token_file"] != nil {
            throw node.error("at most one of bearer_token & bearer_token_file must be configured")
        }
        if m["basic_auth"] != nil && (m["bearer_token"] != nil || m["bearer_token_file"] != nil) {
            throw node.error("at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured")
        }
        if m["authorization"] != nil && (m["bearer_token"] != nil || m["bearer_token_file"] != nil) {
            throw node.error("authorization is not compatible with bearer_token & bearer_token_file")
        }
        if m["authorization"] != nil && m["basic_auth"] != nil {
            throw node.error("at most one of basic_auth, oauth2 & authorization must be configured")
        }
        if let b = m["basic_auth"] {
            let bm = try b.map(["username", "password", "password_file"])
            let password = try secret(bm, value: "password", file: "password_file", b, what: "basic_auth password")
            s.credentials = .basic(username: try bm["username"]?.string() ?? "", password: password ?? .inline(""))
        }
        if let a = m["authorization"] {
            let am = try a.map(["type", "credentials", "credentials_file"])
            let type = try am["type"]?.string() ?? "Bearer"
            if type.lowercased() == "basic" {
                throw (am["type"] ?? a).error("authorization type cannot be set to \"basic\", use \"basic_auth\" instead")
            }
            let credentials = try secret(am, value: "credentials", file: "credentials_file", a, what: "authorization credentials")
            s.credentials = .authorization(type: type.isEmpty ? "Bearer" : type, credentials: credentials ?? .inline(""))
        }
        if let bearer = try secret(m, value: "bearer_token", file: "bearer_token_file", node, what: "bearer_token") {
            s.credentials = .authorization(type: "Bearer", credentials: bearer)
        }
        if let t = m["tls_config"] { s.tls = try ScrapeTLS.parse(t) }
        s.followRedirects = try m["follow_redirects"]?.bool() ?? true
        return s
    }

    /// `value` or `file` of a mapping (not both). A file is read when a request is made, as
    /// Prometheus does: one that is missing fails those requests, not the configuration (a
    /// service account token may appear after the process starts).
    static func secret(_ m: [String: Node], value: String, file: String, _ node: Node, what: String) throws(ConfigError) -> Secret? {
        if m[value] != nil && m[file] != nil { throw node.error("at most one of \(what) & \(file) must be configured") }
        if let v = m[value] { return .inline(try v.string()) }
        guard let f = m[file] else { return nil }
        return .file(try f.string())
    }
}

extension ScrapeTLS {
    /// `tls_config`: `ca_file`, `cert_file`, `key_file`, `server_name`, `insecure_skip_verify`.
    static func parse(_ node: Node) throws(ConfigError) -> ScrapeTLS {
        let tm = try node.map(["ca_file", "cert_file", "key_file", "server_name", "insecure_skip_verify"])
        var tls = ScrapeTLS()
        tls.caFile = try tm["ca_file"]?.string()
        tls.certFile = try tm["cert_file"]?.string()
        tls.keyFile = try tm["key_file"]?.string()
        tls.serverName = try tm["server_name"]?.string()
        tls.insecureSkipVerify = try tm["insecure_skip_verify"]?.bool() ?? false
        if (tls.certFile == nil) != (tls.keyFile == nil) {
            throw node.error("exactly one of key or key_file and cert or cert_file must be configured when a client certificate is configured")
        }
        return tls
    }
}
