import Storage
import TSDB

/// Samples on their way to one shard, with the WAL position after the last of them.
///
/// The request is written straight to protobuf bytes rather than through swift-protobuf's
/// generated messages: each series' labels are encoded once, when its series record is read
/// (`WireLabelStore`), and a batch copies those bytes into its own buffer (profiled: building
/// and serializing `Prometheus_TimeSeries` values took most of the queue's CPU, and an object
/// per series cost a retain and a release per sample). The bytes decode to the same
/// `WriteRequest` (tested against swift-protobuf); samples of one series are grouped into one
/// `TimeSeries`, in WAL order.
struct Batch: Sendable {
    /// Every series' encoded labels, in order of first appearance; series `i` ends at `labelEnds[i]`.
    private var labelBytes: [UInt8] = []
    private var labelEnds: [Int] = []
    /// Per sample: its series' index, time and value.
    private var owners: [Int32] = []
    private var times: [Int64] = []
    private var values: [Double] = []
    var end = WALPosition(segment: 0, offset: 0)
    var maxTime = Int64.min
    /// When the first sample went in (for `batch_send_deadline`).
    var opened: ContinuousClock.Instant?

    /// `capacity`: the samples the batch will hold (`max_samples_per_send`), reserved up
    /// front; `labelCapacity`: label bytes to reserve (the shard's previous batch's).
    init(capacity: Int = 0, labelCapacity: Int = 0) {
        labelBytes.reserveCapacity(labelCapacity)
        labelEnds.reserveCapacity(capacity)
        owners.reserveCapacity(capacity)
        times.reserveCapacity(capacity)
        values.reserveCapacity(capacity)
    }

    var count: Int { times.count }
    var isEmpty: Bool { times.isEmpty }
    var seriesCount: Int { labelEnds.count }

    /// The next batch for the same shard: as much room as this one used.
    func successor(capacity: Int) -> Batch {
        Batch(capacity: capacity, labelCapacity: min(labelBytes.count, 64 << 20))
    }

    /// Adds a series by its encoded labels; returns its index for `add`, which the caller
    /// calls with it at once (every series has a sample: `protobuf()` relies on it). The
    /// caller remembers which series a batch already has (the reader does it per series slot,
    /// without a dictionary per batch).
    mutating func addSeries(_ labels: UnsafeBufferPointer<UInt8>) -> Int32 {
        labelBytes.append(contentsOf: labels)
        labelEnds.append(labelBytes.count)
        return Int32(truncatingIfNeeded: labelEnds.count - 1)
    }

    mutating func addSeries(_ wire: WireSeries) -> Int32 {
        wire.labels.withUnsafeBufferPointer { addSeries($0) }
    }

    @inline(__always)
    mutating func add(owner: Int32, _ t: Int64, _ v: Double, at position: WALPosition) {
        // (Not `opened == nil`: `ContinuousClock.Instant` is resilient, and comparing its
        // optional per sample went through value witnesses and a memmove.)
        if times.isEmpty { opened = .now }
        owners.append(owner)
        times.append(t)
        values.append(v)
        if t > maxTime { maxTime = t }
        end = WALPosition(segment: position.segment, offset: position.offset, sample: position.sample &+ 1)
    }

    /// The `WriteRequest` as protobuf bytes.
    func protobuf() -> [UInt8] {
        let n = labelEnds.count
        guard n > 0 else { return [] }
        if n == times.count {
            // Every series once (the usual batch when sending keeps up): sample i is series i's.
            return write(order: nil, starts: nil)
        }
        // Samples grouped by series (a counting sort keeps each series' WAL order).
        var starts = [Int](repeating: 0, count: n + 1)
        for o in owners { starts[Int(o) + 1] += 1 }
        for i in 0..<n { starts[i + 1] += starts[i] }
        var order = [Int](repeating: 0, count: owners.count)
        var fill = starts
        for (k, o) in owners.enumerated() {
            order[fill[Int(o)]] = k
            fill[Int(o)] += 1
        }
        return write(order: order, starts: starts)
    }

    /// Writes the request: series `i`'s samples are `order[starts[i]..<starts[i+1]]`, or
    /// just sample `i` when `order` is nil.
    private func write(order: [Int]?, starts: [Int]?) -> [UInt8] {
        let n = labelEnds.count
        func samples(of i: Int) -> Range<Int> {
            guard let starts else { return i..<(i + 1) }
            return starts[i]..<starts[i + 1]
        }
        @inline(__always) func sample(_ j: Int) -> Int { order?[j] ?? j }
        var inner = [Int](repeating: 0, count: n)
        var total = 0
        for i in 0..<n {
            var size = labelEnds[i] - (i == 0 ? 0 : labelEnds[i - 1])
            for j in samples(of: i) {
                let s = Wire.sampleSize(times[sample(j)])
                size += 1 + Wire.varintSize(UInt64(s)) + s
            }
            inner[i] = size
            total += 1 + Wire.varintSize(UInt64(size)) + size
        }
        return [UInt8](unsafeUninitializedCapacity: total) { out, written in
            guard let p = out.baseAddress else { return }
            var at = 0
            labelBytes.withUnsafeBufferPointer { labels in
                guard let l = labels.baseAddress else { return }
                for i in 0..<n {
                    p[at] = 0x0A                                       // WriteRequest.timeseries
                    at += 1
                    Wire.put(UInt64(inner[i]), p, &at)
                    let from = i == 0 ? 0 : labelEnds[i - 1]
                    (p + at).update(from: l + from, count: labelEnds[i] - from)
                    at += labelEnds[i] - from
                    for j in samples(of: i) {
                        let k = sample(j)
                        let t = times[k]
                        p[at] = 0x12                                   // TimeSeries.samples
                        p[at + 1] = UInt8(truncatingIfNeeded: Wire.sampleSize(t))
                        p[at + 2] = 0x09                               // Sample.value, fixed64
                        at += 3
                        UnsafeMutableRawPointer(p + at).storeBytes(of: values[k].bitPattern.littleEndian, as: UInt64.self)
                        at += 8
                        if t != 0 {
                            p[at] = 0x10                               // Sample.timestamp, varint
                            at += 1
                            Wire.put(UInt64(bitPattern: t), p, &at)
                        }
                    }
                }
            }
            written = at
        }
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

    /// Writes `v` as a varint at `p[at]` and moves `at` past it (the caller sized the buffer).
    @inline(__always)
    static func put(_ v: UInt64, _ p: UnsafeMutablePointer<UInt8>, _ at: inout Int) {
        var v = v
        while v >= 0x80 {
            p[at] = UInt8(truncatingIfNeeded: v) | 0x80
            at += 1
            v >>= 7
        }
        p[at] = UInt8(v)
        at += 1
    }

    /// The value always (so -0.0 keeps its sign), the timestamp unless 0. At most 20 bytes,
    /// so its length is one varint byte.
    static func sampleSize(_ t: Int64) -> Int {
        9 + (t == 0 ? 0 : 1 + varintSize(UInt64(bitPattern: t)))
    }
}
