@testable import TSDB

/// A small, seeded generator so every property test is reproducible.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

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
