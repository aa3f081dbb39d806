import ArgumentParser
import Foundation
import Logging
import PromQL
import Server
import TSDB

/// `sextant serve`: the server, with Prometheus' flag names.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the server: store under --storage.tsdb.path and answer the Prometheus HTTP API.",
        discussion: """
        Examples:
          sextant serve
          sextant serve --storage.tsdb.path /var/lib/sextant --web.listen-address 127.0.0.1:9090
          sextant serve --storage.tsdb.retention.time 30d --query.timeout 1m
        """
    )

    @Option(name: .customLong("config.file"), help: "Prometheus configuration file (scrape configuration).")
    var configFile: String?

    @Option(name: .customLong("storage.tsdb.path"), help: "Where the data is stored.")
    var dataPath = "./data"

    @Option(name: .customLong("storage.tsdb.retention.time"), help: "How long to keep data (e.g. 15d).")
    var retentionTime = "15d"

    @Option(name: .customLong("storage.tsdb.retention.size"), help: "Most bytes to keep (e.g. 512MB, 10GB); none by default.")
    var retentionSize: String?

    @Option(name: .customLong("storage.tsdb.too-far-in-future.time-window"),
            help: "How far ahead of the clock a sample may be stamped; later ones are refused.")
    var futureWindow = "10m"

    @Option(name: .customLong("web.listen-address"), help: "Address to listen on.")
    var listenAddress = "0.0.0.0:9090"

    @Option(name: .customLong("web.external-url"),
            help: "The URL users reach Sextant under (alert templates' $externalURL); default http://HOSTNAME:PORT.")
    var externalURL: String?

    @Option(name: .customLong("rules.alert.for-outage-tolerance"),
            help: "The longest outage after which alerts' 'for' state is restored.")
    var forOutageTolerance = "1h"

    @Option(name: .customLong("rules.alert.for-grace-period"),
            help: "The least time between a restart and an alert with at least this 'for' firing.")
    var forGracePeriod = "10m"

    @Option(name: .customLong("rules.alert.resend-delay"), help: "The least time between two notifications of an alert.")
    var resendDelay = "1m"

    @Option(name: .customLong("alertmanager.notification-queue-capacity"), help: "Most alerts waiting to be sent to Alertmanager.")
    var notificationQueueCapacity = 10_000

    @Option(name: .customLong("query.timeout"), help: "Longest a query may run.")
    var queryTimeout = "2m"

    @Option(name: .customLong("query.max-samples"), help: "Most samples a query may hold at once.")
    var maxSamples = 50_000_000

    @Option(name: .customLong("query.lookback-delta"), help: "How far back an instant selector looks.")
    var lookbackDelta = "5m"

    @Option(name: .customLong("query.max-concurrency"), help: "Most queries evaluated at once.")
    var maxConcurrency = 20

    @Option(name: .customLong("query.max-response-bytes"), help: "Largest query answer sent (e.g. 512MB); larger ones get 422.")
    var maxResponseBytes = "512MB"

    @Option(name: .customLong("web.config.file"), help: "Web configuration (TLS, basic auth, headers) in Prometheus' format.")
    var webConfigFile: String?

    @Flag(name: .customLong("web.enable-admin-api"), help: "Enable the admin endpoints.")
    var enableAdminAPI = false

    @Flag(name: .customLong("web.enable-lifecycle"), help: "Enable shutdown and reload over HTTP (POST /-/quit, /-/reload).")
    var enableLifecycle = false

    @Flag(name: .customLong("web.enable-remote-write-receiver"), help: "Accept remote write requests on POST /api/v1/write.")
    var enableRemoteWriteReceiver = false

    @Option(name: .customLong("storage.remote.read-sample-limit"),
            help: "Most samples one query of a remote read answered with samples may return (0: no limit).")
    var remoteReadSampleLimit = 50_000_000

    @Option(name: .customLong("storage.remote.read-concurrent-limit"), help: "Most remote read requests answered at once.")
    var remoteReadConcurrentLimit = 10

    @Option(name: .customLong("storage.remote.read-max-bytes-in-frame"), help: "Frame size of streamed remote read answers, in bytes.")
    var remoteReadMaxBytesInFrame = 1_048_576

    @Option(name: .customLong("storage.remote.flush-deadline"), help: "How long remote write queues may flush on shutdown.")
    var remoteFlushDeadline = "1m"

    @Option(name: .customLong("log.level"), help: "debug, info, warn or error.")
    var logLevel = "info"

    @Option(name: .customLong("log.format"), help: "logfmt or json.")
    var logFormat = "logfmt"

    func run() async throws {
        var options = ServerOptions()
        options.dataDirectory = dataPath
        guard let (host, port) = Serve.hostPort(listenAddress) else {
            throw ValidationError("--web.listen-address: expected host:port, got \(listenAddress)")
        }
        options.host = host
        options.port = port
        options.db.retentionTime = try Serve.duration(retentionTime, flag: "storage.tsdb.retention.time")
        if let retentionSize { options.db.retentionSize = try Serve.bytes(retentionSize) }
        options.db.head.maxFuture = try Serve.duration(futureWindow, flag: "storage.tsdb.too-far-in-future.time-window")
        options.engine.timeout = .milliseconds(try Serve.duration(queryTimeout, flag: "query.timeout"))
        options.engine.maxSamples = maxSamples
        options.engine.lookbackDelta = try Serve.duration(lookbackDelta, flag: "query.lookback-delta")
        options.maxConcurrency = maxConcurrency
        options.maxResponseBytes = try Serve.bytes(maxResponseBytes, flag: "query.max-response-bytes")
        options.enableAdminAPI = enableAdminAPI
        options.enableLifecycle = enableLifecycle
        options.enableRemoteWriteReceiver = enableRemoteWriteReceiver
        guard remoteReadSampleLimit >= 0 else { throw ValidationError("--storage.remote.read-sample-limit: must not be negative") }
        guard remoteReadConcurrentLimit > 0 else { throw ValidationError("--storage.remote.read-concurrent-limit: must be positive") }
        guard (1024...(256 << 20)).contains(remoteReadMaxBytesInFrame) else {
            throw ValidationError("--storage.remote.read-max-bytes-in-frame: must be between 1024 and 268435456")
        }
        options.remoteReadSampleLimit = remoteReadSampleLimit
        options.remoteReadConcurrentLimit = remoteReadConcurrentLimit
        options.remoteReadMaxBytesInFrame = remoteReadMaxBytesInFrame
        options.remoteFlushDeadline = .milliseconds(try Serve.duration(remoteFlushDeadline, flag: "storage.remote.flush-deadline"))
        options.configFile = configFile
        options.rules.outageTolerance = try Serve.duration(forOutageTolerance, flag: "rules.alert.for-outage-tolerance")
        options.rules.gracePeriod = try Serve.duration(forGracePeriod, flag: "rules.alert.for-grace-period")
        options.rules.resendDelay = try Serve.duration(resendDelay, flag: "rules.alert.resend-delay")
        guard (1...10_000_000).contains(notificationQueueCapacity) else {
            throw ValidationError("--alertmanager.notification-queue-capacity: must be between 1 and 10000000")
        }
        options.notificationQueueCapacity = notificationQueueCapacity
        if let externalURL {
            guard let u = URLComponents(string: externalURL), u.scheme == "http" || u.scheme == "https", u.host != nil else {
                throw ValidationError("--web.external-url: expected an http or https URL, got \(externalURL)")
            }
            options.externalURL = externalURL
        }
        if let webConfigFile {
            do { options.webConfig = try WebConfig.load(file: webConfigFile) } catch {
                throw ValidationError("--web.config.file \(webConfigFile): \(error)")
            }
        }
        options.flags = [
            "config.file": configFile ?? "", "storage.tsdb.path": dataPath,
            "storage.tsdb.retention.time": retentionTime, "storage.tsdb.retention.size": retentionSize ?? "0B",
            "storage.tsdb.too-far-in-future.time-window": futureWindow,
            "web.listen-address": listenAddress, "web.external-url": externalURL ?? "",
            "rules.alert.for-outage-tolerance": forOutageTolerance, "rules.alert.for-grace-period": forGracePeriod,
            "rules.alert.resend-delay": resendDelay,
            "alertmanager.notification-queue-capacity": String(notificationQueueCapacity), "query.timeout": queryTimeout, "query.max-samples": String(maxSamples),
            "query.lookback-delta": lookbackDelta, "query.max-concurrency": String(maxConcurrency),
            "query.max-response-bytes": maxResponseBytes,
            "web.config.file": webConfigFile ?? "", "web.enable-admin-api": String(enableAdminAPI), "web.enable-lifecycle": String(enableLifecycle),
            "web.enable-remote-write-receiver": String(enableRemoteWriteReceiver),
            "storage.remote.read-sample-limit": String(remoteReadSampleLimit),
            "storage.remote.read-concurrent-limit": String(remoteReadConcurrentLimit),
            "storage.remote.read-max-bytes-in-frame": String(remoteReadMaxBytesInFrame),
            "storage.remote.flush-deadline": remoteFlushDeadline,
            "log.level": logLevel, "log.format": logFormat,
        ]
        guard let level = Serve.level(logLevel) else { throw ValidationError("--log.level: expected debug, info, warn or error") }
        guard let format = LineLogHandler.Format(rawValue: logFormat) else { throw ValidationError("--log.format: expected logfmt or json") }
        LoggingSystem.bootstrap { LineLogHandler(label: $0, level: level, format: format) }
        let logger = Logger(label: "sextant")
        logger.info("starting Sextant \(BuildInfo.current.version): data in \(dataPath), listening on \(listenAddress)")
        let server = SextantServer(options: options, logger: logger)
        try await server.run()
    }

    static func hostPort(_ s: String) -> (String, Int)? {
        guard let colon = s.lastIndex(of: ":"), let port = Int(s[s.index(after: colon)...]), (0...65535).contains(port) else { return nil }
        var host = String(s[..<colon])
        if host.isEmpty { host = "0.0.0.0" }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host, port)
    }

    static func duration(_ s: String, flag: String) throws -> Int64 {
        guard let d = PrometheusDuration.parse(s), d > 0 else { throw ValidationError("--\(flag): invalid duration \"\(s)\"") }
        return d
    }

    /// A positive size in Prometheus' units (B, KB, MB, GB, TB: powers of 1024).
    static func bytes(_ s: String, flag: String = "storage.tsdb.retention.size") throws -> Int {
        guard let n = ByteSize.parse(s), n > 0 else { throw ValidationError("--\(flag): invalid size \"\(s)\"") }
        return n
    }

    static func level(_ s: String) -> Logger.Level? {
        switch s {
        case "debug": .debug
        case "info": .info
        case "warn": .warning
        case "error": .error
        default: nil
        }
    }
}
