import Storage

/// An alert as it is sent to Alertmanager: its labels and annotations, since when it fires
/// and until when it holds (its resolution time once resolved, else a validity horizon the
/// next notification extends), and a link to its expression.
public struct AlertNotification: Sendable, Equatable {
    public var labels: Labels
    public var annotations: [String: String]
    /// Milliseconds.
    public var startsAt: Int64
    public var endsAt: Int64
    public var generatorURL: String

    public init(labels: Labels, annotations: [String: String], startsAt: Int64, endsAt: Int64, generatorURL: String) {
        self.labels = labels
        self.annotations = annotations
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.generatorURL = generatorURL
    }
}

/// When alerts are (re)sent: each firing alert at most every `resendDelay`, a resolved one
/// at once and then every `resendDelay` while it is kept; each notification valid for four
/// times the longer of the resend delay and the group's interval (as Prometheus).
public struct SendPolicy: Sendable {
    public var resendDelay: Int64
    public var interval: Int64

    public init(resendDelay: Int64, interval: Int64) {
        self.resendDelay = resendDelay
        self.interval = interval
    }

    var validity: Int64 {
        let (v, overflow) = max(resendDelay, interval).multipliedReportingOverflow(by: 4)
        return overflow ? .max / 2 : v
    }
}

extension AlertTracker {
    /// The alerts to notify at `t` (firing ones due again, resolved ones not yet sent as
    /// resolved), marked as sent.
    mutating func notifications(at t: Int64, policy: SendPolicy, generatorURL: String) -> [AlertNotification] {
        var out: [AlertNotification] = []
        for (l, var a) in active where a.state != .pending {
            let resolvedSinceSent = a.resolvedAt.map { r in a.lastSentAt.map { r > $0 } ?? true } ?? false
            let due = a.lastSentAt.map { $0 &+ policy.resendDelay < t } ?? true
            guard resolvedSinceSent || due else { continue }
            a.lastSentAt = t
            a.validUntil = t &+ policy.validity
            active[l] = a
            out.append(AlertNotification(labels: a.labels, annotations: Dictionary(a.annotations, uniquingKeysWith: { _, b in b }),
                                         startsAt: a.firedAt ?? a.activeAt, endsAt: a.resolvedAt ?? a.validUntil ?? t,
                                         generatorURL: generatorURL))
        }
        return out
    }
}
