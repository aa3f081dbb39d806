import Storage

/// Cardinality figures of the head, for /api/v1/status/tsdb.
public struct HeadCardinality: Sendable {
    public struct Entry: Sendable, Equatable {
        public var name: String
        public var value: Int
    }

    public var numSeries: Int
    public var numLabelPairs: Int
    public var chunkCount: Int
    public var minTime: Int64
    public var maxTime: Int64
    public var seriesCountByMetricName: [Entry]
    public var labelValueCountByLabelName: [Entry]
    public var memoryInBytesByLabelName: [Entry]
    public var seriesCountByLabelValuePair: [Entry]
}

extension Head {
    /// Counts from the head's postings: the `top` largest of each list, largest first.
    public func cardinality(top: Int = 10) -> HeadCardinality {
        let index = postings.state.withLock { $0.index }
        var byMetric: [HeadCardinality.Entry] = []
        var valueCounts: [HeadCardinality.Entry] = []
        var memory: [HeadCardinality.Entry] = []
        var pairs: [HeadCardinality.Entry] = []
        var pairCount = 0
        for (name, values) in index {
            valueCounts.append(.init(name: name, value: values.count))
            var bytes = 0
            for (value, refs) in values {
                bytes += value.utf8.count * refs.count
                pairCount += 1
                pairs.append(.init(name: "\(name)=\(value)", value: refs.count))
                if name == Labels.metricName { byMetric.append(.init(name: value, value: refs.count)) }
            }
            memory.append(.init(name: name, value: bytes))
        }
        func topN(_ list: [HeadCardinality.Entry]) -> [HeadCardinality.Entry] {
            Array(list.sorted { $0.value != $1.value ? $0.value > $1.value : $0.name < $1.name }.prefix(top))
        }
        var chunks = 0
        for i in 0..<stripes.count {
            stripes.withLock(i) { s in
                for list in s.byHash.values { for m in list { chunks += m.sealed.count + (m.open.count > 0 ? 1 : 0) } }
            }
        }
        let st = stats
        return HeadCardinality(numSeries: st.series, numLabelPairs: pairCount, chunkCount: chunks,
                               minTime: st.minTime, maxTime: st.maxTime,
                               seriesCountByMetricName: topN(byMetric), labelValueCountByLabelName: topN(valueCounts),
                               memoryInBytesByLabelName: topN(memory), seriesCountByLabelValuePair: topN(pairs))
    }
}

extension Head {
    /// Chunks and samples held in the head (reads every sealed chunk's header: for tools such
    /// as `sextant inspect`, not for paths that run often).
    public func contentCounts() -> (chunks: Int, samples: Int) {
        var chunks = 0, samples = 0
        for i in 0..<stripes.count {
            stripes.withLock(i) { s in
                for list in s.byHash.values {
                    for m in list {
                        chunks += m.sealed.count + (m.open.count > 0 ? 1 : 0)
                        samples += m.open.count
                        for c in m.sealed { samples += (try? c.chunk.header().count) ?? 0 }
                    }
                }
            }
        }
        return (chunks, samples)
    }
}
