import Exposition
import Foundation
import Hummingbird
import Scrape
import TSDB

/// Bounds on a new series sent to the import endpoint (scrapes have their own, per job:
/// `label_limit`, `label_name_length_limit`, `label_value_length_limit`).
enum ImportLimits {
    static let maxLabels = 64
    static let maxNameLength = 1024
    static let maxValueLength = 16 << 10

    struct Exceeded: Error, CustomStringConvertible {
        let description: String
    }

    static func check(_ labels: Labels) throws(Exceeded) {
        guard labels.count <= maxLabels else {
            throw Exceeded(description: "\(labels.count) labels, more than the \(maxLabels) allowed: \(String(describing: labels).prefix(200))")
        }
        for l in labels {
            if l.name.utf8.count > maxNameLength {
                throw Exceeded(description: "label name of \(l.name.utf8.count) bytes, more than the \(maxNameLength) allowed")
            }
            if l.value.utf8.count > maxValueLength {
                throw Exceeded(description: "value of label \(l.name) has \(l.value.utf8.count) bytes, more than the \(maxValueLength) allowed")
            }
        }
    }
}

extension PrometheusAPI {
    /// POST /api/v1/import/prometheus: text-format lines with optional millisecond timestamps,
    /// read as the body streams in and committed in batches. A bad line costs only itself.
    /// The answer counts what was accepted (committed to the WAL) and rejected, with the
    /// first reasons.
    func importText(_ request: Request) async throws(APIError) -> [UInt8] {
        let app = try db.appender()
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        var accepted = 0, rejected = 0, pending = 0
        var reasons: [String] = []
        var lines = LineSplitter()
        // The series text of a line (everything before the value) to its ref, so repeated
        // series skip label parsing, as a scrape cache does.
        var refs = SeriesTextCache(capacity: 100_000)     // bounded whatever the body holds

        func reject(_ error: any Error) {
            rejected += 1
            if reasons.count < 10 { reasons.append("\(error)") }
        }
        func line(_ bytes: ArraySlice<UInt8>) {
            guard let first = bytes.first(where: { $0 != 32 && $0 != 9 }) else { return }
            if first == UInt8(ascii: "#") {
                metadata.record(commentLine: Substring(decoding: bytes, as: UTF8.self))
                return
            }
            if let split = SampleLineParser.seriesEnd(bytes), let ref = refs.ref(for: bytes[..<split]) {
                do {
                    let (value, timestamp) = try SampleLineParser.valueAndTimestamp(bytes[split...])
                    try app.append(ref, timestamp ?? now, value)
                    pending += 1
                } catch {
                    reject(error)
                }
                return
            }
            do {
                let text = Substring(decoding: bytes, as: UTF8.self)
                guard let sample = try SampleLineParser.parse(text) else { return }
                try ImportLimits.check(sample.labels)
                let ref = try app.append(sample.labels, sample.timestamp ?? now, sample.value)
                if let split = SampleLineParser.seriesEnd(bytes) { refs.insert(bytes[..<split], ref) }
                pending += 1
            } catch {
                reject(error)
            }
        }
        func commit() throws(APIError) {
            do { try app.commit() } catch {
                throw APIError(kind: .unavailable, message: "committing imported samples: \(error); \(accepted) samples were committed before")
            }
            accepted += pending
            pending = 0
        }

        do {
            for try await buffer in request.body {
                try lines.feed(buffer.readableBytesView) { (bytes) throws(APIError) in
                    line(bytes)
                    if pending >= 10_000 { try commit() }
                }
                if lines.pending > SampleLineParser.maxLineLength {
                    app.rollback()
                    throw APIError.badData("a line longer than \(SampleLineParser.maxLineLength >> 20) MiB; \(accepted) samples were committed before it")
                }
            }
        } catch let e as APIError {
            throw e
        } catch {
            app.rollback()
            throw .badData("reading the request body: \(error)")
        }
        lines.finish { line($0) }
        try commit()
        var w = JSONWriter()
        w.raw("{\"accepted\":\(accepted),\"rejected\":\(rejected),\"errors\":")
        w.strings(reasons)
        w.raw("}")
        return w.bytes
    }
}
