import TSDB
import Workloads

/// Generated scrape-like data with labels: counters, gauges and constants of `series` series
/// on 100 instances, one sample every 15 s (±50 ms) for the duration.
struct BenchData {
    let data: ScrapeLikeData
    let labels: [Labels]
    let samplesPerSeries: Int

    init(series: Int, duration: Int64) {
        samplesPerSeries = max(1, Int(duration / 15_000))
        let data = ScrapeLikeData(series: series, samples: samplesPerSeries)
        self.data = data
        labels = data.series.indices.map { i in
            let name = switch data.series[i].kind {
            case .counter: "bench_requests_total"
            case .gauge: "bench_temperature_celsius"
            case .constant: "bench_build_info"
            }
            return Labels([Label(Labels.metricName, name), Label("instance", "host-\(i % 100)"),
                           Label("job", "bench"), Label("series", "\(i)")])
        }
    }

    var sampleCount: Int { data.sampleCount }
    var start: Int64 { data.series.first?.timestamps.first ?? 0 }
    var end: Int64 { data.series.map { $0.timestamps.last ?? 0 }.max() ?? 0 }
}
