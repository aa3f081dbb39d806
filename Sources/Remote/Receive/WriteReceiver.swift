import Foundation
import SwiftProtobuf
import Storage

/// The receiving half of remote write 1.0: decodes a snappy-compressed `WriteRequest` and
/// appends its samples, each checked as the import endpoint checks its lines.
///
/// Unlike Prometheus 2.42, which rolls the whole request back on its first bad sample, a bad
/// sample or series costs only itself: the rest is committed, and the answer names what was
/// refused so that the sender drops (not retries) a batch that can never succeed.
public struct WriteReceiver: Sendable {
    /// Largest compressed body taken (`--storage.remote.write-max-bytes`-like bound).
    public var maxBodyBytes: Int
    /// Largest decoded request: checked from the snappy header before allocating.
    public var maxDecodedBytes: Int
    /// What a new series is held to (the import endpoint's defaults).
    public var limits: LabelLimits

    public init(maxBodyBytes: Int = 32 << 20, maxDecodedBytes: Int = 256 << 20, limits: LabelLimits = .importDefaults) {
        self.maxBodyBytes = maxBodyBytes
        self.maxDecodedBytes = maxDecodedBytes
        self.limits = limits
    }

    /// What became of a request.
    public struct Outcome: Sendable, Equatable {
        public var accepted = 0
        public var rejected = 0
        /// The first reasons for refusals (at most ten).
        public var reasons: [String] = []
        /// Metric metadata the request carried (field 3).
        public var metadata: [(name: String, metadata: WireMetadata)] = []

        public static func == (a: Outcome, b: Outcome) -> Bool {
            a.accepted == b.accepted && a.rejected == b.rejected && a.reasons == b.reasons
        }

        mutating func reject(_ count: Int, _ reason: @autoclosure () -> String) {
            rejected += count
            if reasons.count < 10 { reasons.append(reason()) }
        }
    }

    /// TYPE, HELP and UNIT of one metric family, as a sender sent them.
    public struct WireMetadata: Sendable, Equatable {
        public var type: String
        public var help: String
        public var unit: String
    }

    /// Decodes a body: snappy block, then protobuf.
    public func decode(_ body: some ContiguousBytes) throws(InvalidWireData) -> Prometheus_WriteRequest {
        let size = body.withUnsafeBytes { $0.count }
        guard size <= maxBodyBytes else {
            throw InvalidWireData(description: "request body of \(size) bytes is larger than the limit of \(maxBodyBytes)")
        }
        let bytes: [UInt8]
        do { bytes = try Snappy.decompress(body, limit: maxDecodedBytes) } catch {
            throw InvalidWireData(description: "decoding the snappy body: \(error)")
        }
        do { return try Prometheus_WriteRequest(serializedBytes: bytes) } catch {
            throw InvalidWireData(description: "decoding the protobuf WriteRequest: \(error)")
        }
    }

    /// Appends every acceptable sample of `request` to `app` (the caller commits). Series with
    /// bad labels, samples the store refuses and native histograms are counted as rejected.
    public func append(_ request: Prometheus_WriteRequest, to app: any Appender) -> Outcome {
        var outcome = Outcome()
        for series in request.timeseries {
            if !series.histograms.isEmpty {
                outcome.reject(series.histograms.count, "native histograms are not supported (\(series.histograms.count) dropped)")
            }
            guard !series.samples.isEmpty else { continue }
            let labels: Labels
            do { labels = try Labels(wire: series.labels, limits: limits) } catch {
                outcome.reject(series.samples.count, "\(error)")
                continue
            }
            var ref: SeriesRef?
            for s in series.samples {
                do {
                    if let r = ref {
                        try app.append(r, s.timestamp, s.value)
                    } else {
                        ref = try app.append(labels, s.timestamp, s.value)
                    }
                    outcome.accepted += 1
                } catch {
                    outcome.reject(1, "\(error) (series \(labels), timestamp \(s.timestamp))")
                }
            }
        }
        for m in request.metadata where !m.metricFamilyName.isEmpty {
            outcome.metadata.append((m.metricFamilyName, WireMetadata(type: m.type.exposition, help: m.help, unit: m.unit)))
        }
        return outcome
    }
}

extension Prometheus_MetricMetadata.MetricType {
    /// The type named as the text exposition format names it (`unknown` for anything else).
    public init(exposition name: String) {
        self = switch name {
        case "counter": .counter
        case "gauge": .gauge
        case "histogram": .histogram
        case "gaugehistogram": .gaugehistogram
        case "summary": .summary
        case "info": .info
        case "stateset": .stateset
        default: .unknown
        }
    }

    /// The type's name in the text exposition format.
    public var exposition: String {
        switch self {
        case .counter: "counter"
        case .gauge: "gauge"
        case .histogram: "histogram"
        case .gaugehistogram: "gaugehistogram"
        case .summary: "summary"
        case .info: "info"
        case .stateset: "stateset"
        case .unknown, .UNRECOGNIZED: "unknown"
        }
    }
}
