import Exposition
import Scrape
import Synchronization
import TSDB

/// The store, once open: the server listens while the WAL replays, answering 503 until then.
public final class StorageState: Sendable {
    private let db = Locked<DB?>(nil)

    public init() {}

    func set(_ value: DB) { db.withLock { $0 = value } }

    /// The open store; `unavailable` until the WAL has been replayed.
    func get() throws(APIError) -> DB {
        guard let d = db.withLock({ $0 }) else {
            throw APIError(kind: .unavailable, message: "the storage is not ready yet: the WAL is being replayed")
        }
        return d
    }

    public var current: DB? { db.withLock { $0 } }
}

/// TYPE, HELP and UNIT of metric families, from imported text (and later from scrapes).
public final class MetadataStore: Sendable {
    public typealias Entry = MetricMetadata

    private let entries = Locked<[String: Entry]>([:])
    /// Most metric families remembered: a stream of ever-new names cannot grow it further
    /// (later new names are dropped and counted).
    public let capacity: Int
    private let droppedCount = Atomic<Int>(0)

    public init(capacity: Int = 100_000) { self.capacity = capacity }

    /// Metric families whose metadata was dropped because the store was full.
    public var dropped: Int { droppedCount.load(ordering: .relaxed) }

    /// Reads `# TYPE name type`, `# HELP name text`, `# UNIT name unit` lines.
    func record(commentLine line: ArraySlice<UInt8>) {
        guard let c = MetricMetadata.comment(line) else { return }
        let full = entries.withLock { e -> Bool in
            guard e[c.metric] != nil || e.count < capacity else { return true }
            e[c.metric, default: Entry()].set(c.kind, c.text)
            return false
        }
        if full { droppedCount.add(1, ordering: .relaxed) }
    }

    /// Sets one family's metadata (as a remote write sender sent it).
    func record(metric: String, _ entry: Entry) {
        let full = entries.withLock { e -> Bool in
            guard e[metric] != nil || e.count < capacity else { return true }
            e[metric] = entry
            return false
        }
        if full { droppedCount.add(1, ordering: .relaxed) }
    }

    public var all: [String: Entry] { entries.withLock { $0 } }
}
