import Exposition
import Foundation
import Hummingbird
import Scrape
import TSDB

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
        // Repeated series skip label parsing, as a scrape cache does; the cache is bounded
        // whatever the body holds, and new series are held to the import limits.
        var ingester = LineIngester(format: .text, limits: .importDefaults, cacheCapacity: 100_000)

        func reject(_ error: any Error) {
            rejected += 1
            if reasons.count < 10 { reasons.append("\(error)") }
        }
        func line(_ bytes: ArraySlice<UInt8>) {
            do {
                let read = try ingester.ingest(bytes, time: { $0 ?? now },
                                               create: { labels, t, v in try app.append(labels, t, v) },
                                               append: { ref, t, v in try app.append(ref, t, v) })
                switch read {
                case .sample: pending += 1
                case .comment(let text): metadata.record(commentLine: text)
                case .blank: break
                }
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
