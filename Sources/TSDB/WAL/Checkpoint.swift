/// Checkpoints: `checkpoint.NNNNNNNN` directories inside the WAL directory holding, as WAL
/// segments, what segments 0...N held that the head still needs.
enum Checkpoint {
    static let prefix = "checkpoint."

    static func name(_ index: Int) -> String { prefix + WAL.segmentName(index) }

    /// The newest complete checkpoint's index.
    static func latest(in directory: String) -> Int? {
        Files.list(directory).compactMap { n -> Int? in
            guard n.hasPrefix(prefix), !n.hasSuffix(".tmp") else { return nil }
            return Int(n.dropFirst(prefix.count))
        }.max()
    }
}
