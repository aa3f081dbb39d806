/// Query strings as Go's `url.Values.Encode` writes them (what Prometheus sends as a target's
/// `params` and client-go as list and watch options): every byte of the UTF-8 form but ASCII
/// letters, digits and `-._~` as `%XX`, a space as `+`.
enum QueryEscape {
    /// One name or value.
    static func component(_ s: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(byte)
            case UInt8(ascii: " "):
                out.append(UInt8(ascii: "+"))
            default:
                out.append(UInt8(ascii: "%"))
                out.append(hexDigits[Int(byte >> 4)])
                out.append(hexDigits[Int(byte & 0x0f)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `name=value` pairs joined with `&`, in the order given.
    static func query(_ pairs: [(name: String, value: String)]) -> String {
        pairs.map { component($0.name) + "=" + component($0.value) }.joined(separator: "&")
    }

    private static let hexDigits = Array("0123456789ABCDEF".utf8)
}
