import Rules

/// Alerts waiting to be sent, at most `capacity`: when more arrive, the oldest go (and are
/// counted), as Prometheus' notifier drops them.
struct NotificationQueue {
    let capacity: Int
    private(set) var items: [AlertNotification] = []
    private(set) var dropped = 0

    init(capacity: Int) { self.capacity = max(1, capacity) }

    mutating func push(_ batch: [AlertNotification]) {
        var batch = batch[...]
        if batch.count > capacity {
            dropped += batch.count - capacity
            batch = batch.suffix(capacity)
        }
        let overflow = items.count + batch.count - capacity
        if overflow > 0 {
            items.removeFirst(overflow)
            dropped += overflow
        }
        items.append(contentsOf: batch)
    }

    /// Up to `max` alerts from the front.
    mutating func take(_ max: Int) -> [AlertNotification] {
        let n = min(max, items.count)
        defer { items.removeFirst(n) }
        return Array(items.prefix(n))
    }

    mutating func countDropped(_ n: Int) { dropped += n }
}
