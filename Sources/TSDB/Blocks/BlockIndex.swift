import Foundation
import Synchronization
import Storage

/// Why a block could not be opened or read.
public enum BlockError: Error, Sendable, CustomStringConvertible {
    case meta(String)
    case index(String)
    case chunks(String)

    public var description: String {
        switch self {
        case .meta(let m): "bad meta.json: \(m)"
        case .index(let m): "bad index: \(m)"
        case .chunks(let m): "bad chunk files: \(m)"
        }
    }
}

/// A series' chunk reference in a block index.
struct BlockChunkRef {
    var minTime: Int64
    var maxTime: Int64
    var ref: UInt64
}

/// The SQLite schema of a block index (docs/format/index.md).
enum BlockIndexSchema {
    static let create = """
    CREATE TABLE symbols (id INTEGER PRIMARY KEY, symbol TEXT NOT NULL UNIQUE);
    CREATE TABLE series (id INTEGER PRIMARY KEY, labels BLOB NOT NULL, chunks BLOB NOT NULL);
    CREATE TABLE postings (name INTEGER NOT NULL, value INTEGER NOT NULL, series BLOB NOT NULL,
                           PRIMARY KEY (name, value)) WITHOUT ROWID;
    CREATE VIEW postings_readable AS
        SELECT n.symbol AS name, v.symbol AS value, p.series AS series
        FROM postings p JOIN symbols n ON n.id = p.name JOIN symbols v ON v.id = p.value;
    CREATE VIEW series_readable AS
        SELECT s.id AS id,
               (WITH RECURSIVE ids(pos, b, acc, shift, n, id) AS (
                    SELECT 1, (instr('0123456789ABCDEF', substr(hex(substr(s.labels, 1, 1)), 1, 1)) * 16 + instr('0123456789ABCDEF', substr(hex(substr(s.labels, 1, 1)), 2, 1)) - 17), 0, 1, -1, NULL
                    UNION ALL
                    SELECT pos + 1, (instr('0123456789ABCDEF', substr(hex(substr(s.labels, pos + 1, 1)), 1, 1)) * 16 + instr('0123456789ABCDEF', substr(hex(substr(s.labels, pos + 1, 1)), 2, 1)) - 17),
                           CASE WHEN b >= 128 THEN acc + (b - 128) * shift ELSE 0 END,
                           CASE WHEN b >= 128 THEN shift * 128 ELSE 1 END,
                           CASE WHEN b >= 128 THEN n ELSE n + 1 END,
                           CASE WHEN b >= 128 THEN NULL ELSE acc + b * shift END
                    FROM ids WHERE pos <= length(s.labels))
                SELECT '{' || group_concat(n.symbol || '=' || json_quote(v.symbol), ',') || '}'
                FROM ids a JOIN ids b ON b.n = a.n + 1 AND b.id IS NOT NULL
                JOIN symbols n ON n.id = a.id JOIN symbols v ON v.id = b.id
                WHERE a.id IS NOT NULL AND a.n % 2 = 0) AS labels,
               length(s.chunks) AS chunk_bytes
        FROM series s;
    """

    /// Labels as symbol ids, name and value alternating, each a uvarint. (Indexes written
    /// before kept them as a JSON array of the ids, `[3,17,5,20]`; `decodeLabels(json:)`
    /// reads those.)
    static func encodeLabels(_ labels: Labels, _ ids: [String: Int64]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(labels.count * 4)
        // A symbol missing from `ids` cannot happen (they come from the same labels); were it
        // to, the id written names no symbol and reading reports the row as malformed.
        for l in labels {
            Varint.appendUnsigned(ids[l.name].map { UInt64($0) } ?? .max, to: &out)
            Varint.appendUnsigned(ids[l.value].map { UInt64($0) } ?? .max, to: &out)
        }
        return out
    }

    /// The label set of `encodeLabels`' bytes; nil when malformed or naming unknown symbols.
    static func decodeLabels(_ bytes: UnsafeRawBufferPointer, symbol: (Int64) -> String?) -> Labels? {
        var c = ByteCursor(bytes)
        var pairs: [Label] = []
        pairs.reserveCapacity(8)
        while c.remaining > 0 {
            guard let n = c.readUnsigned(), let v = c.readUnsigned(), n < UInt64(Int64.max), v < UInt64(Int64.max),
                  let name = symbol(Int64(n)), let value = symbol(Int64(v)) else { return nil }
            pairs.append(Label(name, value))
        }
        return Labels(sorted: pairs)
    }

    /// The label set of an older index's JSON text; nil when malformed or naming unknown symbols.
    static func decodeLabels(json text: String, symbol: (Int64) -> String?) -> Labels? {
        var utf8 = text
        return utf8.withUTF8 { bytes -> Labels? in
            guard bytes.count >= 2, bytes[0] == UInt8(ascii: "["), bytes[bytes.count - 1] == UInt8(ascii: "]") else { return nil }
            var pairs: [Label] = []
            var i = 1, name: String?
            let end = bytes.count - 1
            while i < end {
                var id: Int64 = 0, digits = 0
                while i < end, bytes[i] >= 48, bytes[i] <= 57, digits < 18 {
                    id = id * 10 + Int64(bytes[i] - 48)
                    digits += 1
                    i += 1
                }
                guard digits > 0, i == end || bytes[i] == UInt8(ascii: ","), let s = symbol(id) else { return nil }
                i += 1
                if let n = name {
                    pairs.append(Label(n, s))
                    name = nil
                } else {
                    name = s
                }
            }
            guard name == nil, i == end + 1 || end == 1 else { return nil }
            return Labels(sorted: pairs)
        }
    }

    /// Chunk refs: count, then per chunk the min time (zigzag, from the previous chunk's max
    /// time), the span, and the ref as a delta from the previous ref.
    static func encodeChunks(_ chunks: [BlockChunkRef]) -> [UInt8] {
        var out: [UInt8] = []
        Varint.appendUnsigned(UInt64(chunks.count), to: &out)
        var prevMax: Int64 = 0, prevRef: UInt64 = 0
        for c in chunks {
            Varint.appendSigned(c.minTime &- prevMax, to: &out)
            Varint.appendUnsigned(UInt64(bitPattern: c.maxTime &- c.minTime), to: &out)
            Varint.appendUnsigned(c.ref &- prevRef, to: &out)
            prevMax = c.maxTime
            prevRef = c.ref
        }
        return out
    }

    static func decodeChunks(_ bytes: UnsafeRawBufferPointer) -> [BlockChunkRef]? {
        var c = ByteCursor(bytes)
        guard let n = c.readUnsigned(), n <= UInt64(bytes.count) else { return nil }
        var out: [BlockChunkRef] = []
        out.reserveCapacity(Int(n))
        var prevMax: Int64 = 0, prevRef: UInt64 = 0
        for _ in 0..<n {
            guard let dmin = c.readSigned(), let span = c.readUnsigned(), let dref = c.readUnsigned() else { return nil }
            let minTime = prevMax &+ dmin
            let r = BlockChunkRef(minTime: minTime, maxTime: minTime &+ Int64(bitPattern: span), ref: prevRef &+ dref)
            out.append(r)
            prevMax = r.maxTime
            prevRef = r.ref
        }
        return out
    }

    /// Sorted refs as deltas (uvarint).
    static func encodeRefs(_ refs: [SeriesRef]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(refs.count * 2)
        var prev: UInt64 = 0
        for r in refs {
            Varint.appendUnsigned(r &- prev, to: &out)
            prev = r
        }
        return out
    }

    static func decodeRefs(_ bytes: UnsafeRawBufferPointer) -> [SeriesRef] {
        var c = ByteCursor(bytes)
        var out: [SeriesRef] = []
        var prev: UInt64 = 0
        while c.remaining > 0, let d = c.readUnsigned() {
            prev &+= d
            out.append(prev)
        }
        return out
    }
}

/// Writes a block's `index.db`: series must come in label order; their ids are 0, 1, 2, …
/// Rows are kept until `finish()`, which writes symbols first so series can refer to them.
final class BlockIndexWriter {
    let db: SQLiteDatabase
    var postings: [String: [String: [SeriesRef]]] = [:]
    var rows: [(labels: Labels, chunks: [UInt8])] = []

    init(path: String) throws(SQLiteError) {
        db = try SQLiteDatabase(path: path, readOnly: false)
        // The block directory is renamed into place only once complete, so no journal is needed.
        try db.exec("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA page_size=4096;")
        try db.exec(BlockIndexSchema.create)
        try db.exec("BEGIN")
    }

    func add(_ labels: Labels, chunks: [BlockChunkRef]) throws(SQLiteError) {
        let id = SeriesRef(rows.count)
        rows.append((labels, BlockIndexSchema.encodeChunks(chunks)))
        for l in labels { postings[l.name, default: [:]][l.value, default: []].append(id) }
    }

    func finish() throws(SQLiteError) {
        var symbols = Set<String>()
        for (name, values) in postings {
            symbols.insert(name)
            for v in values.keys { symbols.insert(v) }
        }
        var ids: [String: Int64] = [:]
        let insertSymbol = try db.prepare("INSERT INTO symbols (id, symbol) VALUES (?, ?)")
        for (i, s) in symbols.sorted().enumerated() {
            ids[s] = Int64(i)
            insertSymbol.bind(1, Int64(i))
            insertSymbol.bind(2, s)
            try insertSymbol.run()
        }
        let insertSeries = try db.prepare("INSERT INTO series (id, labels, chunks) VALUES (?, ?, ?)")
        for (id, row) in rows.enumerated() {
            insertSeries.bind(1, Int64(id))
            insertSeries.bind(2, BlockIndexSchema.encodeLabels(row.labels, ids))
            insertSeries.bind(3, row.chunks)
            try insertSeries.run()
        }
        let insertPostings = try db.prepare("INSERT INTO postings (name, value, series) VALUES (?, ?, ?)")
        for (name, values) in postings {
            for (value, refs) in values {
                insertPostings.bind(1, ids[name] ?? -1)
                insertPostings.bind(2, ids[value] ?? -1)
                insertPostings.bind(3, BlockIndexSchema.encodeRefs(refs))
                try insertPostings.run()
            }
        }
        try db.exec("COMMIT")
    }
}

/// One read-only SQLite connection to a block index with its prepared statements.
///
/// Ownership: SQLite connections are opened NOMUTEX, so a connection and its statements are
/// touched by one thread at a time: the thread that checked it out of `BlockIndexReader`'s
/// pool, from checkout to check-in, statement resets included.
final class IndexConnection: @unchecked Sendable {
    let db: SQLiteDatabase
    let postings: SQLiteStatement
    let values: SQLiteStatement
    let names: SQLiteStatement
    let series: SQLiteStatement
    let seriesRange: SQLiteStatement
    let symbols: SQLiteStatement

    init(path: String) throws(SQLiteError) {
        db = try SQLiteDatabase(path: path, readOnly: true)
        postings = try db.prepare("""
            SELECT p.series FROM postings p JOIN symbols n ON n.id = p.name JOIN symbols v ON v.id = p.value
            WHERE n.symbol = ? AND v.symbol = ?
            """)
        values = try db.prepare("""
            SELECT v.symbol FROM postings p JOIN symbols n ON n.id = p.name JOIN symbols v ON v.id = p.value
            WHERE n.symbol = ?
            """)
        names = try db.prepare("SELECT DISTINCT n.symbol FROM postings p JOIN symbols n ON n.id = p.name")
        series = try db.prepare("SELECT labels, chunks FROM series WHERE id = ?")
        seriesRange = try db.prepare("SELECT id, labels, chunks FROM series WHERE id BETWEEN ? AND ? ORDER BY id")
        symbols = try db.prepare("SELECT symbol FROM symbols ORDER BY id")
    }

    /// Runs `body` with `statement` and resets it afterwards, whatever `body` does.
    func using<R, E: Error>(_ statement: SQLiteStatement, _ body: (SQLiteStatement) throws(E) -> R) throws(E) -> R {
        defer { statement.reset() }
        return try body(statement)
    }
}

/// Reads a block's `index.db`.
///
/// Ownership: `path`, `seriesCount` and the symbol table (once loaded) are immutable. The
/// connections are owned by `pool`'s lock while idle and by one thread while checked out (see
/// `IndexConnection`), so queries on many threads read the same block side by side. The
/// symbol table is loaded once, under `symbolTable`'s lock, then shared read-only.
final class BlockIndexReader: Sendable {
    let path: String
    let seriesCount: Int
    private let pool: Locked<[IndexConnection]>
    private let symbolTable = Locked<[String]?>(nil)
    /// Idle connections kept for reuse; more are closed when checked in.
    static let maxIdleConnections = 8

    init(path: String, expectedSeries: Int) throws(BlockError) {
        self.path = path
        let first: IndexConnection
        do {
            guard Files.exists(path) else { throw SQLiteError(code: 14, message: "\(path): missing") }
            first = try IndexConnection(path: path)
            let count = try first.db.prepare("SELECT count(*) FROM series")
            _ = try count.step()
            seriesCount = Int(count.int64(0))
        } catch {
            throw .index("\(error)")
        }
        pool = Locked([first])
        guard seriesCount == expectedSeries else {
            throw .index("\(path) has \(seriesCount) series, meta.json says \(expectedSeries)")
        }
    }

    /// Runs `body` with a connection of this thread's own: an idle one from the pool or a new
    /// one, checked in again afterwards.
    private func withConnection<R>(_ body: (IndexConnection) throws(BlockError) -> R) throws(BlockError) -> R {
        let idle = pool.withLock { $0.popLast() }
        let connection: IndexConnection
        if let idle {
            connection = idle
        } else {
            do { connection = try IndexConnection(path: path) } catch { throw .index(error.description) }
        }
        defer {
            pool.withLock { if $0.count < Self.maxIdleConnections { $0.append(connection) } }
        }
        return try body(connection)
    }

    /// Symbols by id (dense from 0), read on first use and shared from then on.
    private func symbols(_ c: IndexConnection) -> [String] {
        symbolTable.withLock { table in
            if let table { return table }
            var all: [String] = []
            c.using(c.symbols) { s in
                while (try? s.step()) == true { all.append(s.text(0)) }
            }
            table = all
            return all
        }
    }

    func series(_ id: SeriesRef) throws(BlockError) -> (Labels, [BlockChunkRef]) {
        try withConnection { (c) throws(BlockError) in try series(id, c) }
    }

    private func series(_ id: SeriesRef, _ c: IndexConnection) throws(BlockError) -> (Labels, [BlockChunkRef]) {
        let symbols = symbols(c)
        return try c.using(c.series) { (statement) throws(BlockError) in
            statement.bind(1, Int64(bitPattern: id))
            let found: Bool
            do throws(SQLiteError) { found = try statement.step() } catch { throw .index(error.description) }
            guard found else { throw .index("series \(id) missing") }
            guard let labels = Self.labels(statement, column: 0, symbols),
                  let chunks = BlockIndexSchema.decodeChunks(statement.blob(1)) else {
                throw .index("series \(id) is malformed")
            }
            return (labels, chunks)
        }
    }

    /// The series with these ids (sorted), in order: dense lists are read in one sequential
    /// scan of the id range, sparse ones one row at a time.
    func series(_ ids: [SeriesRef]) throws(BlockError) -> [(Labels, [BlockChunkRef])] {
        guard let first = ids.first, let last = ids.last else { return [] }
        return try withConnection { (c) throws(BlockError) in
            var out: [(Labels, [BlockChunkRef])] = []
            out.reserveCapacity(ids.count)
            guard ids.count >= 64, UInt64(ids.count) * 4 >= last &- first else {
                for id in ids { out.append(try series(id, c)) }
                return out
            }
            let symbols = symbols(c)
            try c.using(c.seriesRange) { (statement) throws(BlockError) in
                statement.bind(1, Int64(bitPattern: first))
                statement.bind(2, Int64(bitPattern: last))
                var next = 0
                do {
                    while next < ids.count, try statement.step() {
                        let id = SeriesRef(bitPattern: statement.int64(0))
                        guard id == ids[next] else { continue }
                        guard let labels = Self.labels(statement, column: 1, symbols),
                              let chunks = BlockIndexSchema.decodeChunks(statement.blob(2)) else {
                            throw BlockError.index("series \(id) is malformed")
                        }
                        out.append((labels, chunks))
                        next += 1
                    }
                } catch let e as SQLiteError {
                    throw .index(e.description)
                } catch {
                    throw error as? BlockError ?? .index("\(error)")
                }
                guard next == ids.count else { throw .index("series \(ids[next]) missing") }
            }
            return out
        }
    }

    /// The labels column of a series row: uvarint ids, or JSON text in indexes written before.
    private static func labels(_ row: SQLiteStatement, column: Int32, _ symbols: [String]) -> Labels? {
        let symbol = { (id: Int64) -> String? in id >= 0 && id < symbols.count ? symbols[Int(id)] : nil }
        return row.isText(column) ? BlockIndexSchema.decodeLabels(json: row.text(column), symbol: symbol)
            : BlockIndexSchema.decodeLabels(row.blob(column), symbol: symbol)
    }

    func labelNames() -> [String] {
        let names = try? withConnection { c in
            c.using(c.names) { s in
                var out: [String] = []
                while (try? s.step()) == true { out.append(s.text(0)) }
                return out
            }
        }
        return (names ?? []).sorted()
    }
}

extension BlockIndexReader: PostingsIndex {
    func postings(name: String, value: String) -> [SeriesRef] {
        let refs = try? withConnection { c in
            c.using(c.postings) { s -> [SeriesRef] in
                s.bind(1, name)
                s.bind(2, value)
                guard (try? s.step()) == true else { return [] }
                return BlockIndexSchema.decodeRefs(s.blob(0))
            }
        }
        return refs ?? []
    }

    func labelValues(name: String) -> [String] {
        let values = try? withConnection { c in
            c.using(c.values) { s -> [String] in
                s.bind(1, name)
                var out: [String] = []
                while (try? s.step()) == true { out.append(s.text(0)) }
                return out
            }
        }
        return values ?? []
    }

    func allPostings() -> [SeriesRef] {
        (0..<SeriesRef(seriesCount)).map { $0 }
    }
}
