import Storage

/// A group of discovered targets from one source (one pod, one file entry, one static list),
/// each target's labels complete (the group's labels merged in). A group with no targets
/// says the source is gone.
public struct TargetGroup: Sendable {
    /// Unique within its provider: `pod/<namespace>/<name>`, `node/<name>`, a file path and index.
    public var source: String
    public var targets: [Labels]

    public init(source: String, targets: [Labels]) {
        self.source = source
        self.targets = targets
    }
}

/// Something that discovers targets and reports the groups that changed (all of them at
/// first), until cancelled.
public protocol DiscoveryProvider: Sendable {
    func run(_ send: @escaping @Sendable ([TargetGroup]) -> Void) async
}
