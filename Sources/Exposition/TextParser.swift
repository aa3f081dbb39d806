import Foundation
import Storage

/// One entry of an exposition body in the Prometheus text format (0.0.4).
public enum TextEntry {
    /// A sample: the raw series text (`name{labels}` as sent, the key of a series cache),
    /// value and optional millisecond timestamp.
    case sample(series: ArraySlice<UInt8>, value: Double, timestamp: Int64?)
    /// `# TYPE`, `# HELP` or `# UNIT` of a family.
    case metadata(kind: String, metric: String, text: String)
}

/// Walks a text-format body line by line without copying it: a sample gives its series text
/// as a slice of the body; labels are parsed only when the caller asks (on a cache miss).
public struct TextParser {
    let body: [UInt8]
    var offset = 0
    public private(set) var lineNumber = 0
    /// Whether `# TYPE`, `# HELP` and `# UNIT` lines come out as entries; when not, they only
    /// feed `commentDigest`, and `metadata(of:)` reads them when the digest changes.
    let yieldsMetadata: Bool
    /// A hash of every comment line passed so far: equal digests, equal metadata.
    public private(set) var commentDigest: UInt64 = 0

    public init(_ body: [UInt8], metadata: Bool = true) {
        self.body = body
        yieldsMetadata = metadata
    }

    /// Whether the last sample's series was the one `known` offered.
    public private(set) var matchedKnown = false

    /// The next entry, nil at the end; a malformed line throws (the whole scrape fails, as in
    /// Prometheus).
    public mutating func next() throws(ExpositionError) -> TextEntry? {
        try next(known: { _ in nil })
    }

    /// `next()` for a caller that can guess the coming series (a scrape cache: targets list
    /// their series in the same order every time). `known` gets a sample line's bytes from
    /// its first non-blank and answers the length of the series text it expected when the
    /// line starts with it; the series is then checked at its end only instead of scanned,
    /// and `matchedKnown` is set. The entries are the same either way.
    public mutating func next(known: (UnsafeBufferPointer<UInt8>) -> Int?) throws(ExpositionError) -> TextEntry? {
        switch try nextLine(known: known) {
        case .sample(let series, let value, let timestamp): .sample(series: body[series], value: value, timestamp: timestamp)
        case .metadata(let entry): entry
        case nil: nil
        }
    }

    /// An entry with the series as offsets into the body: reading one takes no reference to
    /// the body, which matters once per sample.
    public enum Line {
        case sample(series: Range<Int>, value: Double, timestamp: Int64?)
        case metadata(TextEntry)
    }

    /// What one line of the body holds: a sample, the trimmed range of a comment, or nothing.
    private enum Scanned {
        case sample(Line)
        case comment(Range<Int>)
        case blank
    }

    /// The next entry as a `Line` (see `next(known:)`).
    public mutating func nextLine(known: (UnsafeBufferPointer<UInt8>) -> Int?) throws(ExpositionError) -> Line? {
        while offset < body.count {
            let start = offset
            let end = lineEnd(from: start)
            offset = end + 1
            lineNumber += 1
            let number = lineNumber
            var matched = false
            let scanned = try body.withUnsafeBufferPointer { (b) throws(ExpositionError) -> Scanned in
                var stop = end
                if stop > start && b[stop - 1] == 13 { stop -= 1 }
                var first = start
                while first < stop && (b[first] == 32 || b[first] == 9) { first += 1 }
                guard first < stop else { return .blank }
                guard b[first] != UInt8(ascii: "#") else { return .comment(first..<stop) }
                let line = UnsafeBufferPointer(rebasing: b[first..<stop])
                let fast = known(line).flatMap { SampleLineParser.seriesEnd(line, known: $0) }
                matched = fast != nil
                guard let split = fast ?? SampleLineParser.seriesEnd(line) else {
                    throw ExpositionError(line: number, message: "expected a value after the series: \(String(decoding: line.prefix(120), as: UTF8.self))")
                }
                do throws(SampleLineError) {
                    let (value, timestamp) = try SampleLineParser.valueAndTimestamp(UnsafeBufferPointer(rebasing: line[split...]))
                    return .sample(.sample(series: first..<(first + split), value: value, timestamp: timestamp))
                } catch {
                    throw ExpositionError(line: number, message: error.message)
                }
            }
            matchedKnown = matched
            switch scanned {
            case .sample(let sample): return sample
            case .comment(let comment):
                if yieldsMetadata {
                    if let m = Self.metadata(body[comment]) { return .metadata(m) }
                } else {
                    commentDigest = (commentDigest ^ SeriesTextCache.hash(body[comment])) &* 0x9E37_79B9_7F4A_7C15
                }
            case .blank: continue
            }
        }
        return nil
    }

    /// Where the line starting at `start` ends: the next newline or the end of the body.
    func lineEnd(from start: Int) -> Int {
        body.withUnsafeBytes { raw in
            guard let base = raw.baseAddress, start < raw.count,
                  let hit = memchr(base + start, 10, raw.count - start) else { return raw.count }
            return base.distance(to: UnsafeRawPointer(hit))
        }
    }

    /// Every `# TYPE`, `# HELP` and `# UNIT` entry of a body, in order, up to its first
    /// malformed line (a scrape reads them from bodies that parsed).
    public static func metadata(of body: [UInt8]) -> [TextEntry] {
        var parser = TextParser(body)
        var out: [TextEntry] = []
        while let line = try? parser.nextLine(known: { _ in nil }) {
            if case .metadata(let m) = line { out.append(m) }
        }
        return out
    }

    static func metadata(_ line: ArraySlice<UInt8>) -> TextEntry? {
        let parts = line.split(separator: 32, maxSplits: 3, omittingEmptySubsequences: true)
        guard parts.count >= 3 else { return nil }
        let kind = String(decoding: parts[1], as: UTF8.self)
        guard kind == "TYPE" || kind == "HELP" || kind == "UNIT" else { return nil }
        return .metadata(kind: kind, metric: String(decoding: parts[2], as: UTF8.self),
                         text: parts.count > 3 ? String(decoding: parts[3], as: UTF8.self) : "")
    }

    /// The labels of a series text (metric name included as `__name__`).
    public static func labels(of series: ArraySlice<UInt8>) throws(ExpositionError) -> Labels {
        let parsed: SampleLine?
        do { parsed = try SampleLineParser.parse(Substring(decoding: series, as: UTF8.self) + " 0") } catch {
            throw ExpositionError(line: 0, message: error.message)
        }
        guard let parsed else { throw ExpositionError(line: 0, message: "empty series") }
        return parsed.labels
    }
}
