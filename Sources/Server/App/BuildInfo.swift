/// What `--version` and /api/v1/status/buildinfo report.
public struct BuildInfo: Sendable {
    public static let current = BuildInfo(version: "0.1.0", revision: "unknown", branch: "main")

    public let version: String
    public let revision: String
    public let branch: String

    /// How this binary was built: `debug` or `release`.
    public var configuration: String {
        #if DEBUG
        "debug"
        #else
        "release"
        #endif
    }

    /// The compiler that built it.
    public var compiler: String {
        #if compiler(>=6.3)
        "Swift 6.3"
        #elseif compiler(>=6.2)
        "Swift 6.2"
        #elseif compiler(>=6.1)
        "Swift 6.1"
        #else
        "Swift 6.0"
        #endif
    }

    /// The target it runs on.
    public var platform: String {
        #if arch(x86_64)
        let arch = "x86_64"
        #elseif arch(arm64)
        let arch = "arm64"
        #else
        let arch = "unknown"
        #endif
        #if os(Linux)
        return arch + "-linux"
        #elseif os(macOS)
        return arch + "-macos"
        #else
        return arch
        #endif
    }

    /// What `sextant --version` prints: `0.1.0 (release build, Swift 6.3, x86_64-linux)`.
    public var versionLine: String { "\(version) (\(configuration) build, \(compiler), \(platform))" }

    var json: [UInt8] {
        var w = JSONWriter()
        w.raw("{\"status\":\"success\",\"data\":{\"version\":")
        w.string(version)
        w.raw(",\"revision\":")
        w.string(revision)
        w.raw(",\"branch\":")
        w.string(branch)
        w.raw(",\"buildUser\":\"\",\"buildDate\":\"\",\"goVersion\":")
        w.string(compiler)
        w.raw("}}")
        return w.bytes
    }
}
