import Storage
import TSDB

/// Samples on their way to one shard, grouped by series (one `TimeSeries` per series, its
/// samples in WAL order), with the WAL position after the last of them.
struct Batch: Sendable {
    var series: [Prometheus_TimeSeries] = []
    var index: [SeriesRef: Int] = [:]
    var count = 0
    var end = WALPosition(segment: 0, offset: 0)
    var maxTime = Int64.min
    /// When the first sample went in (for `batch_send_deadline`).
    var opened: ContinuousClock.Instant?

    var isEmpty: Bool { count == 0 }

    mutating func add(_ ref: SeriesRef, _ labels: [Prometheus_Label], _ t: Int64, _ v: Double, at position: WALPosition) {
        var s = Prometheus_Sample()
        s.timestamp = t
        s.value = v
        if let i = index[ref] {
            series[i].samples.append(s)
        } else {
            var ts = Prometheus_TimeSeries()
            ts.labels = labels
            ts.samples = [s]
            index[ref] = series.count
            series.append(ts)
        }
        if opened == nil { opened = .now }
        count += 1
        maxTime = max(maxTime, t)
        end = WALPosition(segment: position.segment, offset: position.offset, sample: position.sample + 1)
    }

    /// The request body: a `WriteRequest`, snappy-compressed.
    func encoded() throws -> [UInt8] {
        var request = Prometheus_WriteRequest()
        request.timeseries = series
        return Snappy.compress(try request.serializedBytes() as [UInt8])
    }
}
