import TSDB

/// Scrape-like series for benchmarks: 15 s interval with uniform jitter (±50 ms by default);
/// 40% counters rising by small integers, 30% gauges with 2-3 decimals (a random walk), 30%
/// constants. Deterministic for a seed.
public struct ScrapeLikeData: Sendable {
    public enum Kind: String, CaseIterable, Sendable { case counter, gauge, constant }

    public struct Series: Sendable {
        public let kind: Kind
        public let timestamps: [Int64]
        public let values: [Double]
    }

    public let series: [Series]
    public var sampleCount: Int { series.reduce(0) { $0 + $1.timestamps.count } }

    public init(series count: Int, samples: Int, seed: UInt64 = 42, jitter: Int64 = 50) {
        var rng = SplitMix64(seed: seed)
        series = (0..<count).map { i in
            let kind: Kind = i % 10 < 4 ? .counter : (i % 10 < 7 ? .gauge : .constant)
            var t: Int64 = 1_764_000_000_000 + Int64(rng.next() % 15_000)
            var ts: [Int64] = [], vs: [Double] = []
            var counter = Double(rng.next() % 100_000)
            let maxStep = rng.next() % 10 + 1
            let decimals = 2 + Int(rng.next() % 2)
            let scale = decimals == 2 ? 100.0 : 1000.0
            var gauge = Double(rng.next() % 10_000)
            let constant = Double(rng.next() % 64)
            for _ in 0..<samples {
                let j = jitter == 0 ? 0 : Int64(rng.next() % UInt64(2 * jitter + 1)) - jitter
                ts.append(t + j)
                t += 15_000
                switch kind {
                case .counter:
                    counter += Double(rng.next() % maxStep)
                    vs.append(counter)
                case .gauge:
                    gauge += Double(Int(rng.next() % 2001) - 1000) / scale
                    gauge = (gauge * scale).rounded() / scale
                    vs.append(gauge)
                case .constant:
                    vs.append(constant)
                }
            }
            return Series(kind: kind, timestamps: ts, values: vs)
        }
    }

    /// Each series cut into chunks of `size` samples.
    public func chunks(size: Int = 120, only: ChunkEncoding? = nil, kind: Kind? = nil) -> [Chunk] {
        var out: [Chunk] = []
        for s in series where kind == nil || s.kind == kind {
            var start = 0
            while start < s.timestamps.count {
                let end = min(start + size, s.timestamps.count)
                out.append(ChunkEncoder.encode(timestamps: Array(s.timestamps[start..<end]),
                                               values: Array(s.values[start..<end]), only: only))
                start = end
            }
        }
        return out
    }
}

/// A small seeded generator (SplitMix64), so generated data and property tests reproduce.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
