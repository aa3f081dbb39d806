import Foundation
import Yams

/// A kubeconfig file (`kubeconfig_file`): the current context's cluster and user. Paths in
/// it are relative to the file's directory, as kubectl reads them. Exec and auth-provider
/// plugins are refused with a clear error: they would run programs.
struct Kubeconfig {
    var server: String
    var cluster: [String: Any]
    var user: [String: Any]
    var directory: String

    struct LoadError: Error, CustomStringConvertible {
        let description: String
    }

    static func load(_ path: String) throws -> Kubeconfig {
        func fail(_ message: String) -> LoadError { LoadError(description: "kubeconfig \(path): \(message)") }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw fail("cannot read the file") }
        guard let root = (try? Yams.load(yaml: text)) as? [String: Any] else { throw fail("not a YAML mapping") }
        guard let current = root["current-context"] as? String, !current.isEmpty else { throw fail("no current-context") }
        guard let context = named(root["contexts"], current, "context") else { throw fail("context \"\(current)\" not found") }
        let clusterName = context["cluster"] as? String ?? ""
        guard let cluster = named(root["clusters"], clusterName, "cluster") else { throw fail("cluster \"\(clusterName)\" not found") }
        guard let server = cluster["server"] as? String, !server.isEmpty else { throw fail("cluster \"\(clusterName)\" has no server") }
        let userName = context["user"] as? String ?? ""
        let user = named(root["users"], userName, "user") ?? [:]
        if user["exec"] != nil || user["auth-provider"] != nil {
            throw fail("user \"\(userName)\": exec and auth-provider credentials are not supported; use a token, a token file or a client certificate")
        }
        return Kubeconfig(server: server, cluster: cluster, user: user,
                          directory: (path as NSString).deletingLastPathComponent)
    }

    /// The `field` mapping of the entry called `name` in a kubeconfig list.
    static func named(_ list: Any?, _ name: String, _ field: String) -> [String: Any]? {
        for entry in list as? [[String: Any]] ?? [] where entry["name"] as? String == name {
            return entry[field] as? [String: Any] ?? [:]
        }
        return nil
    }

    func connection() throws -> KubernetesConnection {
        var c = KubernetesConnection(server: server)
        c.tls.ca = try pem(cluster, file: "certificate-authority", data: "certificate-authority-data")
        c.tls.certificate = try pem(user, file: "client-certificate", data: "client-certificate-data")
        c.tls.key = try pem(user, file: "client-key", data: "client-key-data")
        c.tls.insecureSkipVerify = cluster["insecure-skip-tls-verify"] as? Bool ?? false
        c.tls.serverName = cluster["tls-server-name"] as? String
        if let token = user["token"] as? String, !token.isEmpty {
            c.credentials = .authorization(type: "Bearer", credentials: .inline(token))
        } else if let file = user["tokenFile"] as? String, !file.isEmpty {
            c.credentials = .authorization(type: "Bearer", credentials: .file(resolve(file)))
        } else if let name = user["username"] as? String {
            c.credentials = .basic(username: name, password: .inline(user["password"] as? String ?? ""))
        }
        return c
    }

    /// PEM from a path (relative to the kubeconfig) or base64 data.
    func pem(_ map: [String: Any], file: String, data: String) throws -> KubernetesConnection.PEM? {
        if let encoded = map[data] as? String, !encoded.isEmpty {
            guard let bytes = Data(base64Encoded: encoded, options: .ignoreUnknownCharacters) else {
                throw LoadError(description: "kubeconfig: \(data) is not base64")
            }
            return .bytes(Array(bytes))
        }
        return (map[file] as? String).flatMap { $0.isEmpty ? nil : .file(resolve($0)) }
    }

    func resolve(_ path: String) -> String {
        path.hasPrefix("/") || directory.isEmpty ? path : directory + "/" + path
    }
}
