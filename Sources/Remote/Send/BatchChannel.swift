import Synchronization

/// A bounded first-in first-out queue between the WAL reader and one shard: `send` waits while
/// it is full (back-pressure up to the reader) unless its task is cancelled, `receive` waits
/// while it is empty and returns nil once it is closed and drained.
final class BatchChannel<Element: Sendable>: Sendable {
    private struct State {
        var items: [Element] = []
        var head = 0
        var closed = false
        var receiver: CheckedContinuation<Element?, Never>?
        var senders: [(id: UInt64, continuation: CheckedContinuation<Void, Never>)] = []
        var nextID: UInt64 = 0
        /// Senders cancelled before they got to wait.
        var cancelled: Set<UInt64> = []
        var count: Int { items.count - head }
    }

    let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) { self.capacity = max(1, capacity) }

    /// Adds an item, waiting for room; false when the channel is closed or the waiting task
    /// is cancelled first (the item was not added).
    func send(_ item: Element) async -> Bool {
        while true {
            let outcome: Bool? = state.withLock { s in
                if s.closed { return false }
                if let r = s.receiver {
                    s.receiver = nil
                    r.resume(returning: item)
                    return true
                }
                if s.count < capacity {
                    s.items.append(item)
                    return true
                }
                return nil
            }
            if let outcome { return outcome }
            if Task.isCancelled { return false }
            let id = state.withLock { s -> UInt64 in s.nextID += 1; return s.nextID }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                    let resumeNow = state.withLock { s -> Bool in
                        if s.closed || s.count < capacity || s.cancelled.remove(id) != nil { return true }
                        s.senders.append((id, c))
                        return false
                    }
                    if resumeNow { c.resume() }
                }
            } onCancel: {
                let waiting = state.withLock { s -> CheckedContinuation<Void, Never>? in
                    if let i = s.senders.firstIndex(where: { $0.id == id }) { return s.senders.remove(at: i).continuation }
                    s.cancelled.insert(id)
                    return nil
                }
                waiting?.resume()
            }
            if Task.isCancelled { return false }
        }
    }

    /// Adds an item if there is room now; false otherwise (or when closed).
    func trySend(_ item: Element) -> Bool {
        state.withLock { s in
            if s.closed { return false }
            if let r = s.receiver {
                s.receiver = nil
                r.resume(returning: item)
                return true
            }
            guard s.count < capacity else { return false }
            s.items.append(item)
            return true
        }
    }

    /// The next item; nil once closed and empty. One receiver at a time.
    func receive() async -> Element? {
        if let item = take() { return item }
        return await withCheckedContinuation { (c: CheckedContinuation<Element?, Never>) in
            let now: Element?? = state.withLock { s in
                if s.count > 0 {
                    let item = s.items[s.head]
                    s.head += 1
                    compact(&s)
                    wakeSender(&s)
                    return .some(item)
                }
                if s.closed { return .some(nil) }
                s.receiver = c
                return .none
            }
            if let now { c.resume(returning: now) }
        }
    }

    private func take() -> Element? {
        state.withLock { s in
            guard s.count > 0 else { return nil }
            let item = s.items[s.head]
            s.head += 1
            compact(&s)
            wakeSender(&s)
            return item
        }
    }

    private func compact(_ s: inout State) {
        if s.head > 64 && s.head * 2 > s.items.count {
            s.items.removeFirst(s.head)
            s.head = 0
        }
    }

    private func wakeSender(_ s: inout State) {
        if !s.senders.isEmpty { s.senders.removeFirst().continuation.resume() }
    }

    /// No more items: the receiver drains what is queued, then gets nil; waiting senders return.
    func close() {
        let (r, senders) = state.withLock { s -> (CheckedContinuation<Element?, Never>?, [CheckedContinuation<Void, Never>]) in
            s.closed = true
            let r = s.count == 0 ? s.receiver : nil
            if r != nil { s.receiver = nil }
            let w = s.senders.map(\.continuation)
            s.senders = []
            return (r, w)
        }
        r?.resume(returning: nil)
        for w in senders { w.resume() }
    }

    var count: Int { state.withLock { $0.count } }
}
