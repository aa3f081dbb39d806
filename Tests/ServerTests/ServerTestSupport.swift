import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import HummingbirdTesting
import NIOSSL
import Logging
import Scrape
import ServiceLifecycle
@testable import Server
import TSDB

/// The real server module on a real loopback socket, with a temporary data directory.
final class RunningServer: @unchecked Sendable {
    let server: SextantServer
    let directory: String
    let task: LoopbackServer
    let port: Int

    /// Starts the server; `configure` adjusts its options, and with `scraping` its scrape
    /// manager runs as in `sextant serve` (the configuration file's jobs, or itself).
    static func start(adminAPI: Bool = false, selfScrapeInterval: Int64 = 15_000, scraping: Bool = false,
                      configure: (inout ServerOptions) -> Void = { _ in }) async throws -> RunningServer {
        let (server, dir) = try openTestServer("server", adminAPI: adminAPI) { options in
            options.selfScrapeInterval = selfScrapeInterval
            configure(&options)
        }
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        let app = try server.application { port in continuation.yield(port) }
        let task = LoopbackServer(app)
        var port = 0
        for await p in stream { port = p; break }
        if scraping { server.startAndRunScraping() }
        return RunningServer(server: server, directory: dir, task: task, port: port)
    }

    init(server: SextantServer, directory: String, task: LoopbackServer, port: Int) {
        self.server = server
        self.directory = directory
        self.task = task
        self.port = port
    }

    func stop() async {
        await server.stopScraping()
        await task.stop()
        server.db?.close()
        try? FileManager.default.removeItem(atPath: directory)
    }

    struct Reply {
        let status: Int
        let body: Data
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    func get(_ pathAndQuery: String) async throws -> Reply {
        try await send(URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(pathAndQuery)")!))
    }

    func post(_ path: String, form: [(String, String)]) async throws -> Reply {
        var r = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        r.httpMethod = "POST"
        r.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        r.httpBody = formBody(form)
        return try await send(r)
    }

    func post(_ path: String, body: String) async throws -> Reply {
        var r = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        r.httpMethod = "POST"
        r.httpBody = Data(body.utf8)
        return try await send(r)
    }

    func send(_ r: URLRequest) async throws -> Reply {
        let (data, response) = try await URLSession.shared.data(for: r)
        return Reply(status: (response as? HTTPURLResponse)?.statusCode ?? 0, body: data)
    }
}

/// `name=value&...`, each side percent-encoded, as a form post's body.
func formBody(_ form: [(String, String)]) -> Data {
    Data(form.map { "\(q($0.0))=\(q($0.1))" }.joined(separator: "&").utf8)
}

/// `s` percent-encoded for a query string or form value (only unreserved characters kept).
func q(_ s: String) -> String {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._~")
    return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
}

/// A server a test started. `cancel()` shuts it down gracefully: cancelling its task instead
/// can trap in NIO when a connection is being accepted at that moment ("Deinited
/// NIOAsyncWriter without calling finish()", apple/swift-nio#3481), which scrape loops still
/// connecting make likely.
final class LoopbackServer: Sendable {
    let group: ServiceGroup
    let task: Task<Void, any Error>

    init(_ app: some Service) {
        let group = ServiceGroup(configuration: .init(services: [app], logger: quietLoopbackLogger))
        self.group = group
        task = Task { try await group.run() }
    }

    func cancel() { Task { [group] in await group.triggerGracefulShutdown() } }

    /// Shuts down and waits until the server is gone.
    func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }
}

/// Runs a Hummingbird router on a free loopback port; returns the server and the port.
func startLoopback(_ router: Router<BasicRequestContext>) async -> (task: LoopbackServer, port: Int) {
    await startReportingPort { report in
        Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                    onServerRunning: { report($0.localAddress?.port ?? 0) }, logger: quietLoopbackLogger)
    }
}

/// The same over TLS with a certificate and key (PEM files).
func startTLSLoopback(_ router: Router<BasicRequestContext>, certificate: String, key: String) async throws
    -> (task: LoopbackServer, port: Int) {
    let tls = TLSConfiguration.makeServerConfiguration(
        certificateChain: try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) },
        privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)))
    let server = try HTTPServerBuilder.tls(.http1(), tlsConfiguration: tls)
    return await startReportingPort { report in
        Application(router: router, server: server, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                    onServerRunning: { report($0.localAddress?.port ?? 0) }, logger: quietLoopbackLogger)
    }
}

let quietLoopbackLogger: Logger = {
    var logger = Logger(label: "loopback")
    logger.logLevel = .critical
    return logger
}()

/// Starts the application `make` builds (handing it the callback that reports its port) and
/// waits for the port.
func startReportingPort<App: ApplicationProtocol>(_ make: (@escaping @Sendable (Int) -> Void) -> App) async
    -> (task: LoopbackServer, port: Int) {
    let (stream, continuation) = AsyncStream<Int>.makeStream()
    let app = make { continuation.yield($0) }
    let task = LoopbackServer(app)
    var port = 0
    for await p in stream { port = p; break }
    return (task, port)
}

/// A scrape manager whose loops run (its service started), as `sextant serve` runs it.
func runningScrapeManager(storage: any Appendable) -> ScrapeManager {
    let manager = ScrapeManager(storage: storage, logger: Logger(label: "test"))
    Task { await manager.run() }
    return manager
}

/// A discovery manager whose providers run (its service started).
func runningDiscovery(_ discovery: DiscoveryManager) -> DiscoveryManager {
    Task { await discovery.run() }
    return discovery
}

extension SextantServer {
    /// Sets up scraping and runs it in the background, as the server's scraping service does.
    func startAndRunScraping() {
        startScraping()
        Task { await runScraping() }
    }
}

/// The server's router driven in process (HummingbirdTesting's router framework): no socket,
/// no port, no HTTP parsing, for the tests where the socket is not the point. `RunningServer`
/// is the same server on a real loopback socket, for the rest.
struct InProcessServer: Sendable {
    let server: SextantServer
    let directory: String
    let client: any TestClientProtocol

    /// A server on a fresh data directory, driven in process for the length of `body`.
    static func with<R: Sendable>(adminAPI: Bool = false, configure: (inout ServerOptions) -> Void = { _ in },
                                  _ body: @Sendable (InProcessServer) async throws -> R) async throws -> R {
        let (server, dir) = try openTestServer("inprocess", adminAPI: adminAPI, configure: configure)
        defer {
            server.db?.close()
            try? FileManager.default.removeItem(atPath: dir)
        }
        let app = Application(router: server.router(), logger: server.logger)
        return try await app.test(.router) { client in
            try await body(InProcessServer(server: server, directory: dir, client: client))
        }
    }

    func get(_ pathAndQuery: String) async throws -> RunningServer.Reply {
        try await send(pathAndQuery, method: .get, headers: [:], body: nil)
    }

    func post(_ path: String, form: [(String, String)]) async throws -> RunningServer.Reply {
        let body = form.map { "\(q($0.0))=\(q($0.1))" }.joined(separator: "&")
        return try await send(path, method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                              body: ByteBuffer(string: body))
    }

    func post(_ path: String, body: String) async throws -> RunningServer.Reply {
        try await send(path, method: .post, headers: [:], body: ByteBuffer(string: body))
    }

    func send(_ uri: String, method: HTTPRequest.Method, headers: HTTPFields, body: ByteBuffer?) async throws -> RunningServer.Reply {
        let response = try await client.execute(uri: uri, method: method, headers: headers, body: body)
        return RunningServer.Reply(status: Int(response.status.code), body: Data(buffer: response.body))
    }
}

/// A server on a fresh data directory with its store open: the options every test server
/// shares (loopback, any port, admin API as asked, lifecycle endpoints on), then `configure`.
func openTestServer(_ kind: String, adminAPI: Bool, configure: (inout ServerOptions) -> Void) throws
    -> (server: SextantServer, directory: String) {
    let dir = NSTemporaryDirectory() + "sextant-\(kind)-\(UUID().uuidString)"
    var options = ServerOptions()
    options.host = "127.0.0.1"
    options.port = 0
    options.dataDirectory = dir
    options.enableAdminAPI = adminAPI
    options.enableLifecycle = true
    configure(&options)
    var logger = Logger(label: "test")
    logger.logLevel = .warning
    let server = SextantServer(options: options, logger: logger)
    try server.openStorage()
    return (server, dir)
}
