import AsyncHTTPClient
import Foundation
import NIOSSL

/// Where and how discovery reaches a Kubernetes API server: its URL, the TLS material to
/// trust it and to present, and the credentials to send. Resolved from `api_server` and the
/// SD config's own HTTP settings, from a `kubeconfig_file`, or, with neither, from the pod's
/// service account (in-cluster).
public struct KubernetesConnection: Sendable {
    /// `scheme://host:port`, without a trailing slash.
    public var server: String
    public var tls = TLSMaterial()
    public var credentials = HTTPClientSettings.Credentials.none
    public var followRedirects = true
    /// The namespace `own_namespace` stands for: the service account's (in a cluster only).
    public var ownNamespace: String?

    /// PEM material, from a file (read when the client is made) or inline (kubeconfig's `-data`).
    public enum PEM: Sendable, Hashable {
        case file(String)
        case bytes([UInt8])
    }

    public struct TLSMaterial: Sendable {
        public var ca: PEM?
        public var certificate: PEM?
        public var key: PEM?
        /// The name the server's certificate is checked against (and sent as SNI).
        public var serverName: String?
        public var insecureSkipVerify = false

        /// NIOSSL's client configuration for this material.
        func configuration() throws -> TLSConfiguration {
            var c = TLSConfiguration.makeClientConfiguration()
            switch ca {
            case .file(let path): c.trustRoots = .file(path)
            case .bytes(let pem): c.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(pem))
            case nil: break
            }
            if let certificate, let key {
                switch certificate {
                case .file(let path): c.certificateChain = try NIOSSLCertificate.fromPEMFile(path).map { .certificate($0) }
                case .bytes(let pem): c.certificateChain = try NIOSSLCertificate.fromPEMBytes(pem).map { .certificate($0) }
                }
                switch key {
                case .file(let path): c.privateKey = .privateKey(try NIOSSLPrivateKey(file: path, format: .pem))
                case .bytes(let pem): c.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: pem, format: .pem))
                }
            }
            if insecureSkipVerify { c.certificateVerification = .none }
            // A watch open when discovery stops is cut, not closed politely: waiting for the
            // server's close_notify (5 s by default) would hold up a reload.
            c.shutdownTimeout = .milliseconds(200)
            return c
        }
    }

    public init(server: String) {
        self.server = server.hasSuffix("/") ? String(server.dropLast()) : server
    }

    /// The service account directory a pod gets.
    public static let serviceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    public struct ResolveError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The connection for an SD config.
    public static func resolve(_ c: KubernetesSDConfig, environment: [String: String] = ProcessInfo.processInfo.environment,
                               serviceAccount: String = serviceAccountDirectory) throws -> KubernetesConnection {
        if let file = c.kubeconfigFile { return try Kubeconfig.load(file).connection() }
        guard let server = c.apiServer else { return try inCluster(environment: environment, serviceAccount: serviceAccount) }
        var connection = KubernetesConnection(server: server)
        connection.credentials = c.http.credentials
        connection.followRedirects = c.http.followRedirects
        connection.tls.ca = c.http.tls.caFile.map { .file($0) }
        connection.tls.certificate = c.http.tls.certFile.map { .file($0) }
        connection.tls.key = c.http.tls.keyFile.map { .file($0) }
        connection.tls.serverName = c.http.tls.serverName
        connection.tls.insecureSkipVerify = c.http.tls.insecureSkipVerify
        return connection
    }

    /// The pod's own settings: `KUBERNETES_SERVICE_HOST`/`PORT`, the service account token
    /// (re-read at every request: projected tokens rotate), its CA and namespace.
    static func inCluster(environment: [String: String], serviceAccount: String) throws -> KubernetesConnection {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty,
              let port = environment["KUBERNETES_SERVICE_PORT"], !port.isEmpty else {
            throw ResolveError(description: "unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined")
        }
        let token = serviceAccount + "/token"
        guard FileManager.default.isReadableFile(atPath: token) else {
            throw ResolveError(description: "in-cluster configuration: cannot read the service account token \(token)")
        }
        var connection = KubernetesConnection(server: "https://\(host.contains(":") ? "[\(host)]" : host):\(port)")
        connection.credentials = .authorization(type: "Bearer", credentials: .file(token))
        let ca = serviceAccount + "/ca.crt"
        if FileManager.default.fileExists(atPath: ca) { connection.tls.ca = .file(ca) }
        connection.ownNamespace = readTrimmed(serviceAccount + "/namespace")
        return connection
    }

    static func readTrimmed(_ path: String) -> String? {
        (try? String(contentsOfFile: path, encoding: .utf8)).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
    }

    /// An HTTP client of its own for this connection: its TLS, its redirect policy, and
    /// `server_name` honoured by addressing the server under that name.
    func makeClient() throws -> (client: HTTPClient, baseURL: String) {
        var config = HTTPClient.Configuration()
        config.redirectConfiguration = followRedirects ? .follow(max: 10, allowCycles: false) : .disallow
        config.timeout.connect = .seconds(10)
        var base = server
        if server.hasPrefix("https://") {
            config.tlsConfiguration = try tls.configuration()
            if let name = tls.serverName, !name.isEmpty, let url = URL(string: server), let host = url.host {
                config.dnsOverride = [name: host]
                base = "https://\(name)" + (url.port.map { ":\($0)" } ?? "")
            }
        }
        return (HTTPClient(eventLoopGroupProvider: .singleton, configuration: config), base)
    }
}
