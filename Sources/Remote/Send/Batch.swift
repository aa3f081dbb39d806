import Storage
import TSDB

/// Samples on their way to one shard, with the WAL position after the last of them.
///
/// The request is written straight to protobuf bytes rather than through swift-protobuf's
/// generated messages: each series' labels are encoded once, when its series record is read
/// (`WireSeries`), and a batch copies them (profiled: building and serializing
/// `Prometheus_TimeSeries` values took most of the queue's CPU). The bytes decode to the same
/// `WriteRequest` (tested against swift-protobuf); samples of one series are grouped into one
/// `TimeSeries`, in WAL order.
struct Batch: Sendable {
    /// Series in order of first appearance.
    private(set) var series: [WireSeries] = []
    /// Per sample: its series' index in `series`, time and value.
    private var owners: [Int32] = []
    private var times: [Int64] = []
    private var values: [Double] = []
    var end = WALPosition(segment: 0, offset: 0)
    var maxTime = Int64.min
    /// When the first sample went in (for `batch_send_deadline`).
    var opened: ContinuousClock.Instant?

    var count: Int { times.count }
    var isEmpty: Bool { times.isEmpty }

    /// Adds a series; returns its index for `add`. The caller remembers which series a batch
    /// already has (the reader does it per series slot, without a dictionary per batch).
    mutating func addSeries(_ wire: WireSeries) -> Int32 {
        series.append(wire)
        return Int32(series.count - 1)
    }

    mutating func add(owner: Int32, _ t: Int64, _ v: Double, at position: WALPosition) {
        if opened == nil { opened = .now }
        owners.append(owner)
        times.append(t)
        values.append(v)
        if t > maxTime { maxTime = t }
        end = WALPosition(segment: position.segment, offset: position.offset, sample: position.sample + 1)
    }

    /// The `WriteRequest` as protobuf bytes.
    func protobuf() -> [UInt8] {
        // Samples grouped by series (a counting sort keeps each series' WAL order).
        var starts = [Int](repeating: 0, count: series.count + 1)
        var sampleBytes = [Int](repeating: 0, count: series.count)
        for (k, o) in owners.enumerated() {
            starts[Int(o) + 1] += 1
            let size = Wire.sampleSize(times[k])
            sampleBytes[Int(o)] += 1 + Wire.varintSize(UInt64(size)) + size
        }
        for i in 0..<series.count { starts[i + 1] += starts[i] }
        var order = [Int](repeating: 0, count: owners.count)
        var fill = starts
        for (k, o) in owners.enumerated() {
            order[fill[Int(o)]] = k
            fill[Int(o)] += 1
        }
        var total = 0
        for (i, s) in series.enumerated() {
            let inner = s.labels.count + sampleBytes[i]
            total += 1 + Wire.varintSize(UInt64(inner)) + inner
        }
        var out: [UInt8] = []
        out.reserveCapacity(total)
        for (i, s) in series.enumerated() {
            out.append(0x0A)                                   // WriteRequest.timeseries
            Wire.appendVarint(UInt64(s.labels.count + sampleBytes[i]), to: &out)
            out.append(contentsOf: s.labels)
            for k in order[starts[i]..<starts[i + 1]] {
                let size = Wire.sampleSize(times[k])
                out.append(0x12)                               // TimeSeries.samples
                Wire.appendVarint(UInt64(size), to: &out)
                out.append(0x09)                               // Sample.value, fixed64
                withUnsafeBytes(of: values[k].bitPattern.littleEndian) { out.append(contentsOf: $0) }
                if times[k] != 0 {
                    out.append(0x10)                           // Sample.timestamp, varint
                    Wire.appendVarint(UInt64(bitPattern: times[k]), to: &out)
                }
            }
        }
        return out
    }

    /// The request body: the `WriteRequest`, snappy-compressed.
    func encoded() -> [UInt8] { Snappy.compress(protobuf()) }
}

/// A series' labels, encoded once as the `labels` fields of a `TimeSeries`.
struct WireSeries: Sendable {
    let labels: [UInt8]

    init(_ labels: Labels) {
        var out: [UInt8] = []
        for l in labels {
            let name = l.name.utf8.count, value = l.value.utf8.count
            let inner = 1 + Wire.varintSize(UInt64(name)) + name + 1 + Wire.varintSize(UInt64(value)) + value
            out.append(0x0A)                                   // TimeSeries.labels
            Wire.appendVarint(UInt64(inner), to: &out)
            out.append(0x0A)                                   // Label.name
            Wire.appendVarint(UInt64(name), to: &out)
            out.append(contentsOf: l.name.utf8)
            out.append(0x12)                                   // Label.value
            Wire.appendVarint(UInt64(value), to: &out)
            out.append(contentsOf: l.value.utf8)
        }
        self.labels = out
    }
}

/// Protobuf's varints (TSDB's LEB128) and the size of a `Sample`.
enum Wire {
    static func varintSize(_ v: UInt64) -> Int { Varint.unsignedSize(v) }

    static func appendVarint(_ v: UInt64, to out: inout [UInt8]) { Varint.appendUnsigned(v, to: &out) }

    /// The value always (so -0.0 keeps its sign), the timestamp unless 0.
    static func sampleSize(_ t: Int64) -> Int {
        9 + (t == 0 ? 0 : 1 + varintSize(UInt64(bitPattern: t)))
    }
}
