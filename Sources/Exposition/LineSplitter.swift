/// Splits a byte stream into lines as its chunks arrive, holding only the unfinished last
/// line; each byte is searched for a newline once, however long a line grows.
public struct LineSplitter {
    private var carry: [UInt8] = []

    public init() {}

    /// Bytes of the unfinished line held so far.
    public var pending: Int { carry.count }

    /// Calls `line` with every line the chunk completes (without its newline).
    public mutating func feed<C: Collection>(_ chunk: C, _ line: (ArraySlice<UInt8>) throws -> Void) rethrows
    where C.Element == UInt8 {
        let searched = carry.count
        carry.append(contentsOf: chunk)
        var start = carry.startIndex
        var from = searched
        while let nl = carry[from...].firstIndex(of: 10) {
            try line(carry[start..<nl])
            start = nl + 1
            from = start
        }
        carry.removeSubrange(carry.startIndex..<start)
    }

    /// Calls `line` with the last line when the stream did not end with a newline.
    public mutating func finish(_ line: (ArraySlice<UInt8>) throws -> Void) rethrows {
        if !carry.isEmpty { try line(carry[...]) }
        carry.removeAll()
    }
}
