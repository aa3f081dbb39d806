/// The text form of a label set in a block index: `{name="value",name="value"}`, every label
/// (the metric name too), values escaped as in PromQL strings. Readable with `sqlite3`.
enum LabelsText {
    static func encode(_ labels: Labels) -> String {
        "{" + labels.map { "\($0.name)=\(quoteLabelValue($0.value))" }.joined(separator: ",") + "}"
    }

    /// Parses `encode`'s output; nil on anything else.
    static func decode(_ text: String) -> Labels? {
        var pairs: [Label] = []
        var s = Substring(text).unicodeScalars[...]
        guard s.popFirst() == "{" else { return nil }
        while let c = s.first, c != "}" {
            var name = String.UnicodeScalarView()
            while let c = s.first, c != "=" { name.append(c); s.removeFirst() }
            guard s.popFirst() == "=", s.popFirst() == "\"" else { return nil }
            var value = String.UnicodeScalarView()
            while true {
                guard let c = s.popFirst() else { return nil }
                if c == "\"" { break }
                if c == "\\" {
                    guard let e = s.popFirst() else { return nil }
                    value.append(e == "n" ? "\n" : e)
                } else {
                    value.append(c)
                }
            }
            pairs.append(Label(String(name), String(value)))
            if s.first == "," { s.removeFirst() }
        }
        guard s.popFirst() == "}", s.isEmpty else { return nil }
        return Labels(sorted: pairs)
    }
}
