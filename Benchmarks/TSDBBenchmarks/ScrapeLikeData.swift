import TSDB

/// Scrape-like series: 15 s interval with ±50 ms uniform jitter; 40% counters rising by small
/// integers, 30% gauges with 2-3 decimals (a random walk), 30% constants.
struct ScrapeLikeData {
    enum Kind: String, CaseIterable { case counter, gauge, constant }

    struct Series {
        let kind: Kind
        let timestamps: [Int64]
        let values: [Double]
    }

    let series: [Series]
    var sampleCount: Int { series.reduce(0) { $0 + $1.timestamps.count } }

    init(series count: Int, samples: Int, seed: UInt64 = 42, jitter: Int64 = 50) {
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
    func chunks(size: Int = 120, only: ChunkEncoding? = nil, kind: Kind? = nil) -> [Chunk] {
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
