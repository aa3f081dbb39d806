import Storage

/// A series or matcher on the wire that Sextant does not take.
public struct InvalidWireData: Error, Sendable, CustomStringConvertible {
    public let description: String
}

extension Labels {
    /// The labels of a received series: names checked, empty values dropped (an empty value
    /// is an absent label), sorted, names unique, within `limits`.
    public init(wire: [Prometheus_Label], limits: LabelLimits) throws(InvalidWireData) {
        var pairs: [Label] = []
        pairs.reserveCapacity(wire.count)
        for l in wire where !l.value.isEmpty {
            guard isValidLabelName(l.name) else {
                throw InvalidWireData(description: "invalid label name \(quoteLabelValue(String(l.name.prefix(256))))")
            }
            pairs.append(Label(l.name, l.value))
        }
        guard !pairs.isEmpty else { throw InvalidWireData(description: "empty label set") }
        pairs.sort { $0.name < $1.name }
        for i in pairs.indices.dropFirst() where pairs[i].name == pairs[i - 1].name {
            throw InvalidWireData(description: "label name \(quoteLabelValue(pairs[i].name)) is not unique")
        }
        let labels = Labels(sorted: pairs)
        do { try limits.check(labels) } catch { throw InvalidWireData(description: error.description) }
        self = labels
    }

    /// The labels as protobuf labels, in order.
    public var wire: [Prometheus_Label] {
        map { l in
            var w = Prometheus_Label()
            w.name = l.name
            w.value = l.value
            return w
        }
    }
}

extension LabelMatcher {
    /// A matcher of a remote read query.
    public init(wire: Prometheus_LabelMatcher) throws(InvalidWireData) {
        let type: MatchType = switch wire.type {
        case .eq: .equal
        case .neq: .notEqual
        case .re: .regexMatch
        case .nre: .regexNoMatch
        case .UNRECOGNIZED(let n): throw InvalidWireData(description: "unknown label matcher type \(n)")
        }
        do { try self.init(type, wire.name, wire.value) } catch {
            throw InvalidWireData(description: error.description)
        }
    }

    /// This matcher on the wire.
    public var wire: Prometheus_LabelMatcher {
        var w = Prometheus_LabelMatcher()
        w.type = switch type {
        case .equal: .eq
        case .notEqual: .neq
        case .regexMatch: .re
        case .regexNoMatch: .nre
        }
        w.name = name
        w.value = value
        return w
    }
}
