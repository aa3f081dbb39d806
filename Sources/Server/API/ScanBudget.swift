import TSDB

/// The query timeout and the response size limit, applied to the endpoints that scan series
/// outside the PromQL engine (series, label names and values, federate): the deadline is
/// checked every 256 series and the answer's size as it grows, so a selector over every series
/// ends with a typed error instead of holding a query thread.
struct ScanBudget {
    let deadline: ContinuousClock.Instant
    let maxBytes: Int
    private var visited = 0
    private(set) var bytes = 0

    init(deadline: ContinuousClock.Instant, maxBytes: Int) {
        self.deadline = deadline
        self.maxBytes = maxBytes
    }

    /// Counts one series visited and checks the deadline.
    mutating func visit() throws(APIError) {
        visited += 1
        if visited & 255 == 0 { try checkDeadline() }
    }

    /// Checks the deadline now (between scans whose own length the store bounds).
    func checkDeadline() throws(APIError) {
        if ContinuousClock.now > deadline {
            throw APIError(kind: .timeout, message: "query timed out while scanning series (--query.timeout)")
        }
    }

    /// Counts `labels` about to be written to the answer and checks the size limit.
    mutating func add(_ labels: Labels) throws(APIError) {
        bytes += labels.pairs.reduce(2) { $0 + $1.name.utf8.count + $1.value.utf8.count + 6 }
        guard bytes <= maxBytes else {
            throw APIError(kind: .execution, message: "response larger than \(maxBytes) bytes (--query.max-response-bytes)")
        }
    }
}
