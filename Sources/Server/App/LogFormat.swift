import Foundation
import Logging

/// Log lines in Prometheus' formats, to standard error: logfmt (`ts=… level=… msg=…`) or JSON.
public struct LineLogHandler: LogHandler {
    public enum Format: String, Sendable { case logfmt, json }

    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    let label: String
    let format: Format

    public init(label: String, level: Logger.Level, format: Format) {
        self.label = label
        logLevel = level
        self.format = format
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [(String, String)] = [("ts", ISO8601DateFormatter().string(from: Date())),
                                          ("level", event.level.rawValue), ("caller", label)]
        for (k, v) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) { fields.append((k, "\(v)")) }
        fields.append(("msg", "\(event.message)"))
        let line: String
        switch format {
        case .json:
            let body = fields.map { "\"\($0.0)\":\(jsonString($0.1))" }.joined(separator: ",")
            line = "{\(body)}\n"
        case .logfmt:
            line = fields.map { k, v in
                v.contains(" ") || v.contains("\"") || v.contains("=") || v.isEmpty ? "\(k)=\(jsonString(v))" : "\(k)=\(v)"
            }.joined(separator: " ") + "\n"
        }
        FileHandle.standardError.write(Data(line.utf8))
    }

    func jsonString(_ s: String) -> String {
        var w = JSONWriter()
        w.string(s)
        return String(decoding: w.bytes, as: UTF8.self)
    }
}
