/// TYPE, HELP and UNIT of a metric family, as exposition comments give them.
public struct MetricMetadata: Sendable, Equatable {
    public var type = "unknown"
    public var help = ""
    public var unit = ""

    public init(type: String = "unknown", help: String = "", unit: String = "") {
        self.type = type
        self.help = help
        self.unit = unit
    }

    /// The family a `# TYPE`, `# HELP` or `# UNIT` comment line (from its `#`) describes, and
    /// what it says; nil for any other comment.
    public static func comment(_ line: ArraySlice<UInt8>) -> (kind: String, metric: String, text: String)? {
        guard case .metadata(let kind, let metric, let text)? = TextParser.metadata(line) else { return nil }
        return (kind, metric, text)
    }

    /// Takes what a comment says (`kind` is TYPE, HELP or UNIT): HELP text is unescaped (`\\`
    /// and `\n`, as the text format writes them; other escapes stay as written).
    public mutating func set(_ kind: String, _ text: String) {
        switch kind {
        case "TYPE": type = text
        case "HELP": help = Self.unescapeHelp(text)
        case "UNIT": unit = text
        default: break
        }
    }

    /// HELP text with `\\` and `\n` read, left to right (so `\\n` is a backslash and an `n`).
    static func unescapeHelp(_ text: String) -> String {
        guard text.utf8.contains(UInt8(ascii: "\\")) else { return text }
        var out = "", escaped = false
        for c in text {
            if escaped {
                switch c {
                case "n": out.append("\n")
                case "\\": out.append("\\")
                default: out.append("\\"); out.append(c)
                }
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else {
                out.append(c)
            }
        }
        if escaped { out.append("\\") }
        return out
    }
}
