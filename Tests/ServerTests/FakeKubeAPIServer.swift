import Foundation
import Hummingbird
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import Synchronization
import Testing
import TestSupport

/// A Kubernetes API server stand-in that behaves like a real one where discovery can tell:
/// TLS with a certificate from a test CA, bearer tokens (unknown: 401; a token scoped to some
/// namespaces: 403 elsewhere), lists paginated by `limit`/`continue` in the real JSON shapes,
/// watches streamed from a resource version with bookmarks that the server ends after a while,
/// 410 Gone for versions it compacted away (as an ERROR event, or as a status on request),
/// and expired continue tokens. Tests change objects while discovery runs.
final class FakeKubeAPIServer: Sendable {
    struct Event {
        var version: Int
        var path: String
        var namespace: String?
        var type: String
        var json: String
    }

    struct Stored {
        var namespace: String?
        var labels: [String: String]
        var json: String
    }

    /// One request as received: for checking that every one carried valid credentials.
    struct Seen {
        var path: String
        var query: [String: String]
        var authorization: String?
        var status: Int
    }

    struct State {
        var version = 100
        /// Objects by collection path (`api/v1/pods`) and `namespace/name`.
        var objects: [String: [String: Stored]] = [:]
        var events: [Event] = []
        /// Watches from an older version get 410 Gone (and so do continue tokens).
        var oldestVersion = 0
        /// Token → namespaces it may read (nil: all).
        var tokens: [String: Set<String>?] = [:]
        var requests: [Seen] = []
        /// The server ends every watch after this long (real servers do, at timeoutSeconds).
        var watchSeconds = 30.0
        /// Watches started before this generation end at once (to force a re-watch).
        var watchGeneration = 0
        /// Answer 410 to a watch as an HTTP status instead of an ERROR event.
        var goneAsStatus = false
        /// The next requests fail with these statuses (and Retry-After seconds), one each.
        var failures: [(status: Int, retryAfter: Int?)] = []
    }

    let backend = Backend()
    var state: Backend { backend }
    let task: LoopbackServer
    let port: Int

    /// The cluster's state, behind one lock.
    final class Backend: Sendable {
        let state = Mutex(State())
        func withLock<R>(_ body: (inout State) -> R) -> R { state.withLock { body(&$0) } }
    }

    /// Serves with `certificate`/`key` (PEM files) on a loopback port.
    init(certificate: String, key: String) async throws {
        let router = Router()
        let backend = self.backend
        router.get("**") { request, _ -> Response in
            Self.handle(request, backend)
        }
        (task, port) = try await startTLSLoopback(router, certificate: certificate, key: key)
    }

    func stop() { task.cancel() }

    // MARK: Changing the cluster

    /// Adds or replaces an object (its `metadata.resourceVersion` set), with its watch event.
    @discardableResult
    func put(_ collection: String, _ object: [String: Any]) -> Int {
        state.withLock { s in
            s.version += 1
            var object = object
            var meta = object["metadata"] as? [String: Any] ?? [:]
            meta["resourceVersion"] = String(s.version)
            object["metadata"] = meta
            let namespace = meta["namespace"] as? String
            let key = (namespace ?? "") + "/" + (meta["name"] as? String ?? "")
            let json = Self.json(object)
            let type = s.objects[collection]?[key] == nil ? "ADDED" : "MODIFIED"
            s.objects[collection, default: [:]][key] = Stored(namespace: namespace, labels: meta["labels"] as? [String: String] ?? [:], json: json)
            s.events.append(Event(version: s.version, path: collection, namespace: namespace, type: type, json: json))
            return s.version
        }
    }

    /// Deletes an object; `silently` leaves no watch event (as if compacted away: only a new
    /// list can tell).
    func delete(_ collection: String, namespace: String?, name: String, silently: Bool = false) {
        state.withLock { s in
            guard let stored = s.objects[collection]?.removeValue(forKey: (namespace ?? "") + "/" + name) else { return }
            s.version += 1
            if !silently {
                s.events.append(Event(version: s.version, path: collection, namespace: namespace, type: "DELETED", json: stored.json))
            }
        }
    }

    /// Forgets history up to now: watches from older versions get 410 Gone; open watches end.
    func compact() {
        state.withLock { s in
            s.oldestVersion = s.version
            s.watchGeneration += 1
        }
    }

    /// Ends every open watch (clients watch again from their last version).
    func endWatches() { state.withLock { $0.watchGeneration += 1 } }

    func allow(_ token: String, namespaces: Set<String>? = nil) {
        state.withLock { s in s.tokens.updateValue(namespaces, forKey: token) }
    }

    func revoke(_ token: String) { state.withLock { _ = $0.tokens.removeValue(forKey: token) } }

    var requests: [Seen] { state.withLock { $0.requests } }

    // MARK: Serving

    static func handle(_ request: Request, _ state: Backend) -> Response {
        var query: [String: String] = [:]
        for entry in request.uri.queryParameters { query[String(entry.key)] = String(entry.value) }
        let (collection, namespace) = parse(request.uri.path)
        let authorization = request.headers[.authorization]
        let status = state.withLock { s -> (Int, String)? in
            let token = authorization.flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
            var failure: (Int, String)?
            if let token, let scope = s.tokens[token] {
                if let scope, !(namespace.map { scope.contains($0) } ?? false) {
                    failure = (403, "forbidden: cannot list resource in namespace \"\(namespace ?? "")\"")
                }
            } else {
                failure = (401, "Unauthorized")
            }
            if failure == nil && collection == nil { failure = (404, "the server could not find the requested resource") }
            if failure == nil, !s.failures.isEmpty {
                let f = s.failures.removeFirst()
                failure = (f.status, f.retryAfter.map { "retry after \($0)" } ?? "injected failure")
            }
            s.requests.append(Seen(path: request.uri.path, query: query, authorization: authorization, status: failure?.0 ?? 200))
            return failure
        }
        if let (code, message) = status {
            var response = statusResponse(code, message)
            if message.hasPrefix("retry after "), let seconds = Int(message.dropFirst(12)) {
                response.headers[.retryAfter] = String(seconds)
            }
            return response
        }
        guard let collection else { return statusResponse(404, "not found") }
        if query["watch"] == "1" || query["watch"] == "true" {
            return watch(collection, namespace: namespace, query: query, state)
        }
        return list(collection, namespace: namespace, query: query, state)
    }

    /// `/api/v1/[namespaces/<ns>/]<plural>`, `/apis/<g>/<v>/[namespaces/<ns>/]<plural>` →
    /// (`api/v1/<plural>`, namespace).
    static func parse(_ path: String) -> (String?, String?) {
        var parts = path.split(separator: "/").map(String.init)
        let prefixCount = parts.first == "api" ? 2 : 3
        guard parts.count > prefixCount else { return (nil, nil) }
        let prefix = parts[..<prefixCount].joined(separator: "/")
        parts.removeFirst(prefixCount)
        if parts.count == 3 && parts[0] == "namespaces" { return (prefix + "/" + parts[2], parts[1]) }
        return parts.count == 1 ? (prefix + "/" + parts[0], nil) : (nil, nil)
    }

    static func matches(_ labels: [String: String], _ selector: String?) -> Bool {
        guard let selector, !selector.isEmpty else { return true }
        return selector.split(separator: ",").allSatisfy { req in
            let kv = req.split(separator: "=", maxSplits: 1).map(String.init)
            return kv.count == 2 && labels[kv[0]] == kv[1]
        }
    }

    static func list(_ collection: String, namespace: String?, query: [String: String], _ state: Backend) -> Response {
        let limit = query["limit"].flatMap(Int.init) ?? 0
        return state.withLock { s in
            var offset = 0
            if let token = query["continue"] {
                let parts = token.split(separator: ".").compactMap { Int($0) }
                guard parts.count == 2, parts[1] >= s.oldestVersion else {
                    return statusResponse(410, "The provided continue parameter is too old to display a consistent list result.")
                }
                offset = parts[0]
            }
            let selector = query["labelSelector"]
            var all: [(key: String, value: Stored)] = []
            for (key, stored) in s.objects[collection] ?? [:] where namespace == nil || stored.namespace == namespace {
                if matches(stored.labels, selector) { all.append((key, stored)) }
            }
            all.sort { $0.key < $1.key }
            let end = limit > 0 ? min(all.count, offset + limit) : all.count
            let page = offset < end ? all[offset..<end].map(\.value.json) : []
            var meta = #""resourceVersion":"\#(s.version)""#
            if end < all.count { meta += #","continue":"\#(end).\#(s.version)""# }
            let body = #"{"kind":"List","apiVersion":"v1","metadata":{\#(meta)},"items":[\#(page.joined(separator: ","))]}"#
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
        }
    }

    static func watch(_ collection: String, namespace: String?, query: [String: String], _ state: Backend) -> Response {
        let from = query["resourceVersion"].flatMap(Int.init) ?? 0
        let (gone, asStatus, generation, seconds) = state.withLock { s in
            (from < s.oldestVersion, s.goneAsStatus, s.watchGeneration, s.watchSeconds)
        }
        if gone && asStatus { return statusResponse(410, "too old resource version: \(from)") }
        let timeout = min(Double(query["timeoutSeconds"].flatMap(Int.init) ?? 1800), seconds)
        let bookmarks = query["allowWatchBookmarks"] == "true"
        let body = ResponseBody { writer in
            if gone {
                let status = #"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"too old resource version: \#(from)","reason":"Expired","code":410}"#
                try await writer.write(ByteBuffer(string: #"{"type":"ERROR","object":\#(status)}"# + "\n"))
                try await writer.finish(nil)
                return
            }
            var cursor = from
            let end = ContinuousClock.now + .milliseconds(Int64(timeout * 1000))
            var lastBookmark = ContinuousClock.now
            while ContinuousClock.now < end {
                let (events, current, ended) = state.withLock { s in
                    (s.events.filter { $0.version > cursor && $0.path == collection && (namespace == nil || $0.namespace == namespace) },
                     s.version, s.watchGeneration != generation)
                }
                if ended { break }
                for e in events {
                    try await writer.write(ByteBuffer(string: #"{"type":"\#(e.type)","object":\#(e.json)}"# + "\n"))
                    cursor = max(cursor, e.version)
                }
                if bookmarks && ContinuousClock.now - lastBookmark > .milliseconds(500) {
                    let kind = #"{"kind":"Bookmark","apiVersion":"v1","metadata":{"resourceVersion":"\#(current)"}}"#
                    try await writer.write(ByteBuffer(string: #"{"type":"BOOKMARK","object":\#(kind)}"# + "\n"))
                    cursor = max(cursor, current)
                    lastBookmark = ContinuousClock.now
                }
                try await Task.sleep(for: .milliseconds(10))
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "application/json"], body: body)
    }

    static func statusResponse(_ code: Int, _ message: String) -> Response {
        let reason = [401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 410: "Expired"][code] ?? "InternalError"
        let body = #"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"\#(message)","reason":"\#(reason)","code":\#(code)}"#
        return Response(status: .init(code: code), headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    static func json(_ object: [String: Any]) -> String {
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    // MARK: Objects in the API's shapes

    static func pod(_ name: String, namespace: String = "default", ip: String?, ports: [(String, Int)] = [("http", 8080)],
                    labels: [String: String] = ["app": "web"], annotations: [String: String] = [:], node: String = "node-1",
                    ready: Bool = true, phase: String = "Running") -> [String: Any] {
        var status: [String: Any] = ["phase": phase, "hostIP": "10.0.0.1",
                                     "conditions": [["type": "Ready", "status": ready ? "True" : "False"]],
                                     "containerStatuses": [["name": "main", "containerID": "containerd://abc123"]]]
        if let ip { status["podIP"] = ip }
        return [
            "kind": "Pod", "apiVersion": "v1",
            "metadata": ["name": name, "namespace": namespace, "uid": "uid-\(name)", "labels": labels, "annotations": annotations,
                         "ownerReferences": [["apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-5d9", "uid": "rs1", "controller": true]]],
            "spec": ["nodeName": node, "containers": [["name": "main", "image": "web:1.0",
                                                        "ports": ports.map { ["name": $0.0, "containerPort": $0.1, "protocol": "TCP"] }]]],
            "status": status,
        ]
    }
}

/// A test CA and two server certificates it signed, written into `dir`: `ca.crt`;
/// `server.crt`/`server.key` for `127.0.0.1` and `kubernetes.default.svc`; `named.crt`/
/// `named.key` for `kubernetes.default.svc` only (reached at 127.0.0.1, it verifies only
/// under that name: `server_name`).
func makeTestCA(in dir: String) throws {
    func run(_ arguments: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        p.arguments = arguments
        p.standardError = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        try #require(p.terminationStatus == 0, "openssl \(arguments.first ?? "") failed")
    }
    try run(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", dir + "/ca.key", "-out", dir + "/ca.crt", "-days", "1",
             "-subj", "/CN=test-kubernetes-ca"])
    for (name, san) in [("server", "IP:127.0.0.1,DNS:kubernetes.default.svc"), ("named", "DNS:kubernetes.default.svc")] {
        try run(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "\(dir)/\(name).key", "-out", "\(dir)/\(name).csr",
                 "-subj", "/CN=kube-apiserver"])
        try "subjectAltName=\(san)\n".write(toFile: "\(dir)/\(name).ext", atomically: true, encoding: .utf8)
        try run(["x509", "-req", "-in", "\(dir)/\(name).csr", "-CA", dir + "/ca.crt", "-CAkey", dir + "/ca.key", "-CAcreateserial",
                 "-out", "\(dir)/\(name).crt", "-days", "1", "-extfile", "\(dir)/\(name).ext"])
    }
}
