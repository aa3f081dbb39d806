/// The objects an informer reported, by key, so a change can be matched with what it
/// replaces and related objects can be looked up (the service of an endpoints object, the
/// node of a pod).
struct ObjectStore<Object: KubernetesObject> {
    private(set) var objects: [String: Object] = [:]

    subscript(key: String) -> Object? { objects[key] }

    /// Applies an informer event; returns the objects it affected: the listed, upserted or
    /// deleted ones, and for a list, those of the same scope that the list no longer has.
    mutating func apply(_ event: InformerEvent<Object>, namespace: String?) -> (changed: [Object], removed: [Object]) {
        switch event {
        case .upserted(let o):
            objects[o.key] = o
            return ([o], [])
        case .deleted(let o):
            return ([], [objects.removeValue(forKey: o.key) ?? o])
        case .listed(let items):
            let listed = Set(items.map(\.key))
            var removed: [Object] = []
            for (key, o) in objects where !listed.contains(key) && (namespace == nil || o.metadata.namespace == namespace) {
                removed.append(o)
            }
            for o in removed { objects[o.key] = nil }
            for o in items { objects[o.key] = o }
            return (items, removed)
        }
    }
}
