/// What `--version` and /api/v1/status/buildinfo report.
public struct BuildInfo: Sendable {
    public static let current = BuildInfo(version: "0.1.0", revision: "unknown", branch: "main")

    public let version: String
    public let revision: String
    public let branch: String

    var json: [UInt8] {
        var w = JSONWriter()
        w.raw("{\"status\":\"success\",\"data\":{\"version\":")
        w.string(version)
        w.raw(",\"revision\":")
        w.string(revision)
        w.raw(",\"branch\":")
        w.string(branch)
        w.raw(",\"buildUser\":\"\",\"buildDate\":\"\",\"goVersion\":")
        w.string("swift6")
        w.raw("}}")
        return w.bytes
    }
}
