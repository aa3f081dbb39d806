/// Bounds on one series' labels, as Prometheus' `label_limit`, `label_name_length_limit` and
/// `label_value_length_limit` (lengths in bytes); 0 is no bound. Scrapes take theirs from the
/// job, importers have defaults.
public struct LabelLimits: Sendable, Hashable {
    public var labels: Int
    public var nameLength: Int
    public var valueLength: Int

    public init(labels: Int = 0, nameLength: Int = 0, valueLength: Int = 0) {
        self.labels = labels
        self.nameLength = nameLength
        self.valueLength = valueLength
    }

    /// What the import endpoint and `sextant import` hold a new series to.
    public static let importDefaults = LabelLimits(labels: 64, nameLength: 1024, valueLength: 16 << 10)

    public var isUnbounded: Bool { labels == 0 && nameLength == 0 && valueLength == 0 }

    /// Throws, in Prometheus' words, when `series` breaks a bound.
    public func check(_ series: Labels) throws(LabelLimitError) {
        if labels > 0 && series.count > labels {
            throw LabelLimitError(description: "label_limit exceeded (metric: \(series.metricName ?? ""), number of labels: \(series.count), limit: \(labels))")
        }
        guard nameLength > 0 || valueLength > 0 else { return }
        for l in series {
            if nameLength > 0 && l.name.utf8.count > nameLength {
                throw LabelLimitError(description: "label_name_length_limit exceeded (metric: \(series.metricName ?? ""), label name: \(l.name.prefix(256)), limit: \(nameLength))")
            }
            if valueLength > 0 && l.value.utf8.count > valueLength {
                throw LabelLimitError(description: "label_value_length_limit exceeded (metric: \(series.metricName ?? ""), label name: \(l.name.prefix(256)), limit: \(valueLength))")
            }
        }
    }
}

/// A series that broke a `LabelLimits` bound.
public struct LabelLimitError: Error, Sendable, CustomStringConvertible {
    public let description: String
}
