@testable import TSDB


/// The Prometheus stale marker.
let staleNaN = Double(bitPattern: 0x7ff0_0000_0000_0002)

/// Values that break naive float codecs.
let hostileValues: [Double] = [
    staleNaN, .nan, Double(bitPattern: 0x7ff8_0000_0000_0001), Double(bitPattern: 0xfff8_0000_0000_0000),
    Double(bitPattern: 0x7ff4_0000_dead_beef), .infinity, -.infinity, -0.0, 0.0,
    .leastNonzeroMagnitude, -.leastNonzeroMagnitude, Double.leastNormalMagnitude.nextDown,
    .greatestFiniteMagnitude, -.greatestFiniteMagnitude, 1, 2, 3, 1e300, -1e-300, 0.1, 0.2, 0.30000000000000004,
    9_007_199_254_740_994, 123_456.789, .pi,
]

func decodeAll(_ chunk: Chunk) -> (ts: [Int64], vs: [UInt64], error: ChunkError?) {
    var it = chunk.makeIterator()
    var ts: [Int64] = [], vs: [UInt64] = []
    while it.next() {
        let (t, v) = it.at()
        ts.append(t)
        vs.append(v.bitPattern)
    }
    return (ts, vs, it.error)
}
