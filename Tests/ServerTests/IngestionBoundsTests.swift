import Foundation
import Testing
@testable import Server

/// What one import request or a stream of metadata can make the server hold is bounded.
@Suite struct IngestionBoundsTests {
    @Test func importRefusesOversizedSeriesAndKeepsTheRest() async throws {
        try await InProcessServer.with { s in
            let manyLabels = "wide{" + (0..<100).map { "l\($0)=\"v\"" }.joined(separator: ",") + "} 1"
            let longName = "long{" + String(repeating: "n", count: 2000) + "=\"v\"} 1"
            let longValue = "long{l=\"" + String(repeating: "v", count: 20_000) + "\"} 1"
            let future = "later 1 \(Int64(Date().timeIntervalSince1970 * 1000) + 3_600_000)"
            let reply = try await s.post("/api/v1/import/prometheus", body: [manyLabels, longName, longValue, future, "fine 1"].joined(separator: "\n") + "\n")
            let data = reply.json["data"] as? [String: Any]
            #expect(data?["accepted"] as? Int == 1)
            #expect(data?["rejected"] as? Int == 4)
            let errors = (data?["errors"] as? [String]) ?? []
            // In Prometheus' words for its scrape limits.
            #expect(errors.contains { $0 == "label_limit exceeded (metric: wide, number of labels: 101, limit: 64)" }, "\(errors)")
            #expect(errors.contains { $0.hasPrefix("label_name_length_limit exceeded (metric: long, label name: nnnn") && $0.hasSuffix("limit: 1024)") })
            #expect(errors.contains { $0 == "label_value_length_limit exceeded (metric: long, label name: l, limit: 16384)" })
            #expect(errors.contains { $0 == "too far in the future" })
            let metrics = try await s.get("/metrics")
            #expect(metrics.text.contains("sextant_tsdb_too_far_in_future_samples_total 1"))
        }
    }

    @Test func metadataKeepsAtMostItsCapacity() {
        let store = MetadataStore(capacity: 2)
        for name in ["a", "b", "c", "d"] { store.record(commentLine: Array("# TYPE \(name) counter".utf8)[...]) }
        store.record(commentLine: Array("# HELP a still updated".utf8)[...])
        #expect(store.all.keys.sorted() == ["a", "b"])
        #expect(store.all["a"]?.help == "still updated")
        #expect(store.dropped == 2)
    }
}
