import Exposition
import PromQL
import Scrape
import TSDB

/// Builds JSON text directly, in the exact shapes and number formats of Prometheus' API.
struct JSONWriter {
    var bytes: [UInt8] = []

    init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    mutating func raw(_ s: String) {
        var s = s
        s.withUTF8 { bytes.append(contentsOf: $0) }
    }
    mutating func raw(_ c: UInt8) { bytes.append(c) }

    /// A JSON string with the escapes JSON requires.
    mutating func string(_ s: String) {
        bytes.append(34)
        for b in s.utf8 {
            switch b {
            case 34: bytes.append(contentsOf: [92, 34])
            case 92: bytes.append(contentsOf: [92, 92])
            case 10: bytes.append(contentsOf: [92, 110])
            case 13: bytes.append(contentsOf: [92, 114])
            case 9: bytes.append(contentsOf: [92, 116])
            case 0..<32:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [92, 117, 48, 48, hex[Int(b >> 4)], hex[Int(b & 15)]])
            default: bytes.append(b)
            }
        }
        bytes.append(34)
    }

    /// `{"name":"value",…}` of a label set.
    mutating func labels(_ l: Labels) {
        raw("{")
        for (i, p) in l.enumerated() {
            if i > 0 { raw(",") }
            string(p.name)
            raw(":")
            string(p.value)
        }
        raw("}")
    }

    /// Milliseconds as seconds with up to three decimals, as a JSON number (`1435781451.781`),
    /// written in place: `formatSeconds` without building a string.
    mutating func time(_ ms: Int64) {
        if ms < 0 { bytes.append(45) }
        let m = ms.magnitude
        unsigned(m / 1000)
        var frac = m % 1000
        guard frac != 0 else { return }
        bytes.append(46)
        var width = 3
        while frac % 10 == 0 { frac /= 10; width -= 1 }
        unsigned(frac, width: width)
    }

    /// Decimal digits of an unsigned integer, written in place, at least `width` of them
    /// (zero-padded): one pass from the last digit into a stack buffer, then one copy.
    mutating func unsigned(_ v: UInt64, width: Int = 1) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 24) { buffer in
            var k = 24, x = v
            repeat {
                let (q, r) = x.quotientAndRemainder(dividingBy: 10)
                k -= 1
                buffer[k] = UInt8(truncatingIfNeeded: 48 &+ r)
                x = q
            } while x > 0
            while 24 - k < width && k > 0 { k -= 1; buffer[k] = 48 }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[k..<24]))
        }
    }

    /// A sample value as the API writes it (`formatValue`), in place: integers digit by digit,
    /// other finite values from the shortest round-trip digits.
    mutating func value(_ v: Double) {
        if v.isFinite && v == v.rounded(.towardZero) && v.magnitude < 1e15 {
            if v < 0 || (v == 0 && v.sign == .minus) { bytes.append(45) }
            unsigned(UInt64(v.magnitude))
            return
        }
        if v.isFinite {
            // Swift's description is the shortest round-trip text; without an exponent it is
            // already the API's form (less a trailing ".0").
            var text = v.description
            let done = text.withUTF8 { u -> Bool in
                guard !u.contains(UInt8(ascii: "e")) else { return false }
                let n = u.count > 2 && u[u.count - 1] == 48 && u[u.count - 2] == 46 ? u.count - 2 : u.count
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: u[0..<n]))
                return true
            }
            if done { return }
        }
        raw(formatValue(v))
    }

    /// `[<seconds>,"<value>"]`.
    mutating func point(_ t: Int64, _ v: Double) {
        bytes.append(91)
        time(t)
        bytes.append(44)
        bytes.append(34)
        value(v)
        bytes.append(34)
        bytes.append(93)
    }

    /// `"type":…,"help":…,"unit":…` of a metric family.
    mutating func metadataFields(_ m: MetricMetadata) {
        raw("\"type\":")
        string(m.type)
        raw(",\"help\":")
        string(m.help)
        raw(",\"unit\":")
        string(m.unit)
    }

    mutating func strings(_ list: [String]) {
        raw("[")
        for (i, s) in list.enumerated() {
            if i > 0 { raw(",") }
            string(s)
        }
        raw("]")
    }
}

/// Milliseconds as Prometheus writes API times: seconds, a point and the milliseconds with
/// trailing zeros dropped (`1.5`, `12`, `-0.25`).
public func formatSeconds(_ ms: Int64) -> String {
    let sign = ms < 0 ? "-" : ""
    let m = ms.magnitude
    let whole = m / 1000, frac = m % 1000
    if frac == 0 { return "\(sign)\(whole)" }
    var f = String(frac)
    f = String(repeating: "0", count: 3 - f.count) + f
    while f.hasSuffix("0") { f.removeLast() }
    return "\(sign)\(whole).\(f)"
}
