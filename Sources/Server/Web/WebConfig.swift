import Foundation
import NIOSSL
import Yams

/// Prometheus' web configuration file (`--web.config.file`, the exporter-toolkit format):
/// TLS for the HTTP endpoints, basic auth users with bcrypt hashes, extra response headers.
///
/// ```yaml
/// tls_server_config:
///   cert_file: server.crt        # relative paths are relative to this file
///   key_file: server.key
///   client_auth_type: RequireAndVerifyClientCert
///   client_ca_file: clients.crt
///   min_version: TLS12
/// basic_auth_users:
///   alice: $2y$10$...            # bcrypt (htpasswd -B)
/// http_server_config:
///   headers:
///     X-Frame-Options: deny
/// ```
///
/// Every unknown key is an error, as in Prometheus; so is a bcrypt hash that is not one.
public struct WebConfig: Sendable, Equatable {
    public var tls: WebTLS?
    /// User name to bcrypt hash.
    public var basicAuthUsers: [String: String] = [:]
    /// Headers added to every response.
    public var headers: [String: String] = [:]

    public init() {}

    /// TLS for the web endpoints.
    public struct WebTLS: Sendable, Equatable {
        public var certFile = ""
        public var keyFile = ""
        public var clientCAFile: String?
        public var clientAuth = ClientAuth.none
        public var minVersion: TLSVersion?
        public var maxVersion: TLSVersion?

        /// Which client certificates are asked for (Go's `tls.ClientAuthType`, of which these
        /// three can be had from NIOSSL).
        public enum ClientAuth: String, Sendable {
            case none = "NoClientCert"
            case verifyIfGiven = "VerifyClientCertIfGiven"
            case requireAndVerify = "RequireAndVerifyClientCert"
        }

        /// The server's TLS configuration; throws when a file cannot be read.
        public func serverConfiguration() throws -> TLSConfiguration {
            let chain = try NIOSSLCertificate.fromPEMFile(certFile).map { NIOSSLCertificateSource.certificate($0) }
            let key = try NIOSSLPrivateKey(file: keyFile, format: .pem)
            var c = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
            if let clientCAFile { c.trustRoots = .file(clientCAFile) }
            switch clientAuth {
            case .none: c.certificateVerification = .none
            case .verifyIfGiven: c.certificateVerification = .optionalVerification
            case .requireAndVerify: c.certificateVerification = .noHostnameVerification
            }
            if let minVersion { c.minimumTLSVersion = minVersion }
            if let maxVersion { c.maximumTLSVersion = maxVersion }
            return c
        }
    }

    static let versions: [String: TLSVersion] = ["TLS10": .tlsv1, "TLS11": .tlsv11, "TLS12": .tlsv12, "TLS13": .tlsv13]

    /// Reads and checks the file at `path`.
    public static func load(file path: String) throws(WebConfigError) -> WebConfig {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw WebConfigError(path: "", message: "cannot read \(path): \(error.localizedDescription)")
        }
        let directory = (path as NSString).deletingLastPathComponent
        return try parse(text, directory: directory.isEmpty ? "." : directory)
    }

    /// Parses and checks YAML; file paths are taken relative to `directory`.
    public static func parse(_ yaml: String, directory: String) throws(WebConfigError) -> WebConfig {
        let root: Any?
        do { root = try Yams.load(yaml: yaml) } catch { throw WebConfigError(path: "", message: "invalid YAML: \(error)") }
        var config = WebConfig()
        guard let root else { return config }
        let top = try mapping(root, "", allowed: ["tls_server_config", "basic_auth_users", "http_server_config"])
        if let tls = top["tls_server_config"] {
            config.tls = try parseTLS(tls, directory: directory)
        }
        if let users = top["basic_auth_users"] {
            for (user, hash) in try mapping(users, "basic_auth_users", allowed: nil) {
                let path = "basic_auth_users.\(user)"
                guard let hash = hash as? String, isBcryptHash(hash) else {
                    throw WebConfigError(path: path, message: "not a bcrypt hash (generate one with htpasswd -nBC 10 \"\" | tr -d ':\\n')")
                }
                config.basicAuthUsers[user] = hash
            }
        }
        if let server = top["http_server_config"] {
            let fields = try mapping(server, "http_server_config", allowed: ["headers", "http2"])
            if let headers = fields["headers"] {
                for (name, value) in try mapping(headers, "http_server_config.headers", allowed: nil) {
                    guard let value = value as? String, !name.isEmpty else {
                        throw WebConfigError(path: "http_server_config.headers.\(name)", message: "expected a string")
                    }
                    config.headers[name] = value
                }
            }
        }
        return config
    }

    static func parseTLS(_ node: Any, directory: String) throws(WebConfigError) -> WebTLS {
        let path = "tls_server_config"
        let fields = try mapping(node, path, allowed: ["cert_file", "key_file", "client_ca_file", "client_auth_type",
                                                       "min_version", "max_version"])
        func string(_ key: String) throws(WebConfigError) -> String? {
            guard let v = fields[key] else { return nil }
            guard let s = v as? String else { throw WebConfigError(path: "\(path).\(key)", message: "expected a string") }
            return s
        }
        func file(_ key: String) throws(WebConfigError) -> String? {
            guard let f = try string(key), !f.isEmpty else { return nil }
            return f.hasPrefix("/") ? f : directory + "/" + f
        }
        var tls = WebTLS()
        guard let cert = try file("cert_file"), let key = try file("key_file") else {
            throw WebConfigError(path: path, message: "cert_file and key_file are both required")
        }
        tls.certFile = cert
        tls.keyFile = key
        tls.clientCAFile = try file("client_ca_file")
        if let auth = try string("client_auth_type") {
            guard let a = WebTLS.ClientAuth(rawValue: auth) else {
                throw WebConfigError(path: "\(path).client_auth_type",
                                     message: "\"\(auth)\" is not supported: NoClientCert, VerifyClientCertIfGiven or RequireAndVerifyClientCert")
            }
            tls.clientAuth = a
        }
        if tls.clientAuth != .none, tls.clientCAFile == nil {
            throw WebConfigError(path: "\(path).client_ca_file", message: "required when client_auth_type verifies client certificates")
        }
        for (key, keyPath) in [("min_version", \WebTLS.minVersion), ("max_version", \WebTLS.maxVersion)] {
            guard let v = try string(key) else { continue }
            guard let version = versions[v] else {
                throw WebConfigError(path: "\(path).\(key)", message: "unknown TLS version: \(v)")
            }
            tls[keyPath: keyPath] = version
        }
        return tls
    }

    static func mapping(_ node: Any, _ path: String, allowed: Set<String>?) throws(WebConfigError) -> [String: Any] {
        if node is NSNull { return [:] }
        guard let d = node as? [String: Any] else { throw WebConfigError(path: path, message: "expected a mapping") }
        if let allowed, let unknown = d.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw WebConfigError(path: path.isEmpty ? unknown : "\(path).\(unknown)", message: "field \(unknown) not found in type")
        }
        return d
    }

    /// `$2a$`, `$2b$` or `$2y$`, a two-digit cost, and 53 characters of salt and hash.
    static func isBcryptHash(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard b.count == 60, b[0] == 36, b[1] == 50, [97, 98, 121].contains(b[2]), b[3] == 36, b[6] == 36 else { return false }
        return b[4] >= 48 && b[4] <= 57 && b[5] >= 48 && b[5] <= 57
    }
}

/// A web configuration error, with the path of the offending key.
public struct WebConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public let path: String
    public let message: String
    public var description: String { path.isEmpty ? message : "\(path): \(message)" }
}
