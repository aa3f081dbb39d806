import Foundation

/// Go's `fmt` and `strconv` formatting, as Prometheus' alert templates print: `fmt.Print` of a
/// float64 (`shortest`), the float verbs with flags (`format`), `fmt.Sprintf`/`Sprint`/`Sprintln`
/// over template values, and `strconv.Quote`. Ported from Go 1.19's fmt/print.go, fmt/format.go
/// and strconv/ftoa.go, and checked against promtool 2.42.
public enum GoFormat {
    /// fmt's flags for one verb.
    struct Flags: OptionSet, Sendable, Hashable {
        let rawValue: UInt8
        init(rawValue: UInt8) { self.rawValue = rawValue }
        static let plus = Flags(rawValue: 1 << 0)
        static let minus = Flags(rawValue: 1 << 1)
        static let sharp = Flags(rawValue: 1 << 2)
        static let space = Flags(rawValue: 1 << 3)
        static let zero = Flags(rawValue: 1 << 4)
        /// `%+v`: struct field names (Go clears `plus` for `%v`).
        static let plusV = Flags(rawValue: 1 << 5)
        /// `%#v`: Go syntax (Go clears `sharp` for `%v`).
        static let sharpV = Flags(rawValue: 1 << 6)
    }

    /// The flags, width and precision of one verb (nil when not given).
    struct Spec: Sendable {
        var flags: Flags = []
        var width: Int?
        var precision: Int?
    }

    /// `fmt.Print` of a float64, i.e. `strconv.FormatFloat(v, 'g', -1, 64)`: the shortest
    /// round-trip digits, in exponent form (`1.234567e+06`) iff the exponent is < -4 or >= 6.
    static func shortest(_ v: Double) -> String {
        strconvFloat(v, "g", -1)
    }

    /// Go's `%v %e %E %f %F %g %G %x %X %b` of a float64 with the given precision, width and
    /// flags (`%.4g` is `format(v, verb: "g", precision: 4)`). Infinities print as `+Inf`/`-Inf`
    /// and NaN as `NaN`; another verb gives Go's `%!c(float64=…)`.
    static func format(
        _ v: Double, verb: Character, precision: Int? = nil, width: Int? = nil, flags: Flags = []
    ) -> String {
        guard let scalar = verb.unicodeScalars.first else { return "" }
        // Go's own limit for widths and precisions is about 1e6; `%v` ignores `+` and `#`.
        let limit = 10_000_000
        var spec = Spec(flags: flags, width: width.map { min($0, limit) }, precision: precision.map { min($0, limit) })
        if scalar == "v" { spec.flags.subtract([.plus, .sharp]) }
        return floatVerb(v, scalar, spec)
    }

    /// Go's `fmt.Sprintf(format, args...)`: flags `+ - # 0 space`, width and precision (numbers,
    /// `*` or `[n]` argument indexes), and Go's error texts (`%!d(float64=1.5)`, `%!d(MISSING)`,
    /// `%!(EXTRA int=2)`, `%!(NOVERB)`, `%!d(BADINDEX)`, `%!(BADWIDTH)`, `%!(BADPREC)`).
    static func sprintf(_ format: String, _ args: [TemplateValue]) -> String {
        var printer = Printf(format: Array(format.utf8), args: args)
        return printer.run()
    }

    /// Go's `fmt.Sprint`: each operand as `%v`, with a space between operands when neither is
    /// a string (text/template's `print`).
    static func sprint(_ args: [TemplateValue]) -> String {
        var out = ""
        for (index, arg) in args.enumerated() {
            if index > 0, !arg.isGoString, !args[index - 1].isGoString { out += " " }
            out += printArg(arg, "v", Spec())
        }
        return out
    }

    /// Go's `fmt.Sprintln`: operands as `%v` separated by spaces, then a newline.
    static func sprintln(_ args: [TemplateValue]) -> String {
        args.map { printArg($0, "v", Spec()) }.joined(separator: " ") + "\n"
    }
}

private extension TemplateValue {
    /// Whether the value is a Go string (fmt.Sprint puts no space next to those).
    var isGoString: Bool {
        if case .string = self { true } else { false }
    }
}

// MARK: - strconv.FormatFloat

extension GoFormat {
    /// Go's `strconv.FormatFloat(v, fmt, prec, 64)` for fmt `e E f g G x X b`; prec -1 is the
    /// shortest representation.
    public static func strconvFloat(_ v: Double, _ fmt: Unicode.Scalar, _ prec: Int) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v < 0 ? "-Inf" : "+Inf" }
        switch fmt {
        case "b": return binaryExponent(v)
        case "x", "X": return hexFloat(v, prec, upper: fmt == "X")
        default: break
        }
        if prec < 0 { return shortestLayout(v, fmt) }
        return cFormat(v, fmt, prec)
    }

    /// The digits of a finite value, as Go's `decimalSlice`: value = 0.d1d2… × 10^dp.
    struct Digits {
        var digits: [UInt8] = []
        var dp = 0
    }

    /// The shortest round-trip digits of |v| (Swift's `description` has them; only its layout
    /// differs from Go's).
    static func shortestDigits(_ v: Double) -> Digits {
        let text = v.magnitude.description
        let parts = text.split(separator: "e", maxSplits: 1)
        var result = Digits(dp: parts.count > 1 ? Int(parts[1]) ?? 0 : 0)
        var sawPoint = false
        for c in (parts.first ?? "").utf8 {
            if c == UInt8(ascii: ".") { sawPoint = true; continue }
            if !sawPoint { result.dp += 1 }
            if result.digits.isEmpty && c == UInt8(ascii: "0") { result.dp -= 1; continue }
            result.digits.append(c)
        }
        while result.digits.last == UInt8(ascii: "0") { result.digits.removeLast() }
        if result.digits.isEmpty { result.dp = 0 }
        return result
    }

    /// strconv's shortest layouts: `%e` and `%f` with all the digits, `%g` choosing `%e` iff
    /// the exponent is < -4 or >= 6 (Go's `eprec = 6` in shortest mode).
    private static func shortestLayout(_ v: Double, _ fmt: Unicode.Scalar) -> String {
        let d = shortestDigits(v)
        let negative = v.sign == .minus
        let count = d.digits.count
        switch fmt {
        case "e", "E":
            return layoutE(negative, d, prec: max(count - 1, 0), exponentChar: fmt)
        case "f":
            return layoutF(negative, d, prec: max(count - d.dp, 0))
        default:
            let exp = d.dp - 1
            if exp < -4 || exp >= 6 {
                return layoutE(negative, d, prec: count - 1, exponentChar: fmt == "G" ? "E" : "e")
            }
            return layoutF(negative, d, prec: max(count - d.dp, 0))
        }
    }

    /// strconv's fmtE: `d.ddde±dd` with `prec` digits after the point.
    private static func layoutE(_ negative: Bool, _ d: Digits, prec: Int, exponentChar: Unicode.Scalar) -> String {
        var out = negative ? "-" : ""
        out += String(UnicodeScalar(d.digits.first ?? UInt8(ascii: "0")))
        if prec > 0 {
            out += "."
            let available = d.digits.dropFirst().prefix(prec)
            out += String(decoding: available, as: UTF8.self)
            out += String(repeating: "0", count: prec - available.count)
        }
        let exp = d.digits.isEmpty ? 0 : d.dp - 1
        out += String(exponentChar) + (exp < 0 ? "-" : "+")
        let magnitude = String(exp.magnitude)
        return out + (magnitude.count < 2 ? "0" + magnitude : magnitude)
    }

    /// strconv's fmtF: the integer part padded with zeros, then `prec` fraction digits.
    private static func layoutF(_ negative: Bool, _ d: Digits, prec: Int) -> String {
        var out = negative ? "-" : ""
        if d.dp > 0 {
            let integer = d.digits.prefix(d.dp)
            out += String(decoding: integer, as: UTF8.self)
            out += String(repeating: "0", count: d.dp - integer.count)
        } else {
            out += "0"
        }
        guard prec > 0 else { return out }
        out += "."
        for i in 1...prec {
            let j = d.dp + i - 1
            out += j >= 0 && j < d.digits.count ? String(UnicodeScalar(d.digits[j])) : "0"
        }
        return out
    }

    /// `%e %E %f %g %G` with an explicit precision: C's printf has the same correctly rounded
    /// digits and layout (Go's `%g` drops trailing zeros as C's does).
    private static func cFormat(_ v: Double, _ fmt: Unicode.Scalar, _ prec: Int) -> String {
        String(format: "%.\(prec)\(fmt)", v)
    }

    /// strconv's `%b`: decimal mantissa and binary exponent, `4503599627370496p-52`.
    private static func binaryExponent(_ v: Double) -> String {
        let (mantissa, exponent) = binaryParts(v)
        let exp = exponent - 52
        return (v.sign == .minus ? "-" : "") + String(mantissa) + "p" + (exp >= 0 ? "+" : "") + String(exp)
    }

    /// The 53-bit mantissa (with the implicit bit) and unbiased exponent of a finite value, as
    /// strconv's genericFtoa computes them.
    private static func binaryParts(_ v: Double) -> (mantissa: UInt64, exponent: Int) {
        var exponent = Int(v.exponentBitPattern)
        var mantissa = v.significandBitPattern
        if exponent == 0 { exponent += 1 } else { mantissa |= 1 << 52 }
        return (mantissa, exponent - 1023)
    }

    /// strconv's fmtX: `0x1.8p+00`, `prec` hex digits (rounded half to even) or all of them.
    private static func hexFloat(_ v: Double, _ prec: Int, upper: Bool) -> String {
        var (mant, exp) = binaryParts(v)
        if mant == 0 { exp = 0 }
        mant <<= 8
        while mant != 0 && mant & (1 << 60) == 0 { mant <<= 1; exp -= 1 }
        if prec >= 0 && prec < 15 { roundHex(&mant, &exp, prec) }
        let hex = Array((upper ? "0123456789ABCDEF" : "0123456789abcdef").utf8)
        var out = (v.sign == .minus ? "-" : "") + (upper ? "0X" : "0x") + String((mant >> 60) & 1)
        mant <<= 4
        let fractionDigits = prec < 0 ? (mant == 0 ? 0 : Int.max) : prec
        if fractionDigits > 0 { out += "." }
        var written = 0
        while written < fractionDigits && (prec >= 0 || mant != 0) {
            out += String(UnicodeScalar(hex[Int((mant >> 60) & 15)]))
            mant <<= 4
            written += 1
        }
        out += (upper ? "P" : "p") + (exp < 0 ? "-" : "+")
        let digits = String(exp.magnitude)
        return out + (digits.count < 2 ? "0" + digits : digits)
    }

    /// Rounds a mantissa whose leading bit is at 1<<60 to `prec` hex digits, as fmtX does.
    private static func roundHex(_ mant: inout UInt64, _ exp: inout Int, _ prec: Int) {
        let shift = UInt64(prec * 4)
        let extra = (mant << shift) & ((1 << 60) - 1)
        mant >>= 60 - shift
        if extra | (mant & 1) > 1 << 59 { mant += 1 }
        mant <<= 60 - shift
        if mant & (1 << 61) != 0 { mant >>= 1; exp += 1 }
    }
}

// MARK: - fmt verbs for one operand

extension GoFormat {
    /// Go's `printArg`/`printValue`: one operand under one verb; `depth` > 0 inside maps, slices
    /// and structs.
    static func printArg(_ arg: TemplateValue, _ verb: Unicode.Scalar, _ spec: Spec, depth: Int = 0) -> String {
        if case .none = arg {
            if depth > 0 { return "<nil>" }
            return verb == "v" || verb == "T" ? pad("<nil>", spec) : "%!\(verb)(<nil>)"
        }
        if depth == 0 && verb == "T" { return fmtS(arg.goType, spec) }
        if depth == 0 && verb == "p" { return badVerb(verb, arg, spec) }
        switch arg {
        case .bool(let b): return verb == "t" || verb == "v" ? pad(b ? "true" : "false", spec) : badVerb(verb, arg, spec)
        case .float(let v): return floatVerb(v, verb, spec)
        case .int(let v): return intVerb(v, verb, spec)
        case .string(let s): return stringVerb(s, verb, spec)
        case .map(let m): return mapValue(m, type: arg.goType, verb, spec, depth)
        case .list(let items): return listValue(items, type: arg.goType, verb, spec, depth)
        case .record(let type, let fields): return recordValue(type, fields, verb, spec, depth)
        case .none: return "<nil>"
        }
    }

    /// Go's badVerb: `%!verb(type=value)`, the value printed with `%v` and the same flags.
    static func badVerb(_ verb: Unicode.Scalar, _ arg: TemplateValue, _ spec: Spec) -> String {
        if case .none = arg { return "%!\(verb)(<nil>)" }
        return "%!\(verb)(\(arg.goType)=\(printArg(arg, "v", spec)))"
    }

    /// A map: `map[k:v k:v]` with keys in byte order, each key and value under the verb.
    private static func mapValue(
        _ m: [String: TemplateValue], type: String, _ verb: Unicode.Scalar, _ spec: Spec, _ depth: Int
    ) -> String {
        let keys = m.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        let goSyntax = spec.flags.contains(.sharpV)
        let entries = keys.map { key in
            printArg(.string(key), verb, spec, depth: depth + 1) + ":"
                + printArg(m[key] ?? .none, verb, spec, depth: depth + 1)
        }
        if goSyntax { return type + "{" + entries.joined(separator: ", ") + "}" }
        return "map[" + entries.joined(separator: " ") + "]"
    }

    /// A slice: `[a b c]`, each element under the verb.
    private static func listValue(
        _ items: [TemplateValue], type: String, _ verb: Unicode.Scalar, _ spec: Spec, _ depth: Int
    ) -> String {
        let elements = items.map { printArg($0, verb, spec, depth: depth + 1) }
        if spec.flags.contains(.sharpV) { return type + "{" + elements.joined(separator: ", ") + "}" }
        return "[" + elements.joined(separator: " ") + "]"
    }

    /// A struct `{a b}` (`{Name:a Name:b}` for `%+v`); a pointer type (`*T`) prints `&{…}` at the
    /// top level as Go does (deeper, Go prints an address; we print the struct).
    private static func recordValue(
        _ type: String, _ fields: [(name: String, value: TemplateValue)],
        _ verb: Unicode.Scalar, _ spec: Spec, _ depth: Int
    ) -> String {
        let goSyntax = spec.flags.contains(.sharpV)
        let named = goSyntax || spec.flags.contains(.plusV)
        let parts = fields.map { field in
            (named ? field.name + ":" : "") + printArg(field.value, verb, spec, depth: depth + 1)
        }
        let isPointer = type.hasPrefix("*")
        let body = (goSyntax ? String(type.drop { $0 == "*" }) : "") + "{"
            + parts.joined(separator: goSyntax ? ", " : " ") + "}"
        return isPointer && depth == 0 ? "&" + body : body
    }

    /// Go's fmtFloat in print.go: picks strconv's format and default precision for the verb.
    static func floatVerb(_ v: Double, _ verb: Unicode.Scalar, _ spec: Spec) -> String {
        switch verb {
        case "v": return fmtFloat(v, "g", -1, spec)
        case "b", "g", "G", "x", "X": return fmtFloat(v, verb, -1, spec)
        case "f", "e", "E": return fmtFloat(v, verb, 6, spec)
        case "F": return fmtFloat(v, "f", 6, spec)
        default: return badVerb(verb, .float(v), spec)
        }
    }

    /// Go's fmt.fmtFloat in format.go: sign handling, `#`, zero padding, Inf/NaN unpadded.
    private static func fmtFloat(_ v: Double, _ fmt: Unicode.Scalar, _ defaultPrec: Int, _ spec: Spec) -> String {
        let prec = spec.precision ?? defaultPrec
        var num = Array(strconvFloat(v, fmt, prec).utf8)
        if num.first != UInt8(ascii: "-") && num.first != UInt8(ascii: "+") { num.insert(UInt8(ascii: "+"), at: 0) }
        let flags = spec.flags
        if flags.contains(.space) && num[0] == UInt8(ascii: "+") && !flags.contains(.plus) { num[0] = UInt8(ascii: " ") }
        if num.count > 1 && (num[1] == UInt8(ascii: "I") || num[1] == UInt8(ascii: "N")) {
            if num[1] == UInt8(ascii: "N") && !flags.contains(.space) && !flags.contains(.plus) { num.removeFirst() }
            var unpadded = spec
            unpadded.flags.remove(.zero)
            return pad(String(decoding: num, as: UTF8.self), unpadded)
        }
        if flags.contains(.sharp) && fmt != "b" { num = sharpened(num, fmt, prec) }
        if flags.contains(.plus) || num[0] != UInt8(ascii: "+") {
            return signedPad(num, spec)
        }
        return pad(String(decoding: num.dropFirst(), as: UTF8.self), spec)
    }

    /// Pads a signed number; with the `0` flag the sign goes before the zeros.
    private static func signedPad(_ num: [UInt8], _ spec: Spec) -> String {
        if spec.flags.contains(.zero), let width = spec.width, width > num.count {
            let zeros = String(repeating: "0", count: width - num.count)
            return String(UnicodeScalar(num[0])) + zeros + String(decoding: num.dropFirst(), as: UTF8.self)
        }
        return pad(String(decoding: num, as: UTF8.self), spec)
    }

    /// The `#` flag on floats: always a decimal point, and for `%g` trailing zeros up to the
    /// precision (Go's loop, quirks included: `%#x` counts hex digits, `%#X` adds none).
    private static func sharpened(_ number: [UInt8], _ fmt: Unicode.Scalar, _ prec: Int) -> [UInt8] {
        var num = number
        var digits = ["v", "g", "G", "x"].contains(fmt) ? (prec == -1 ? 6 : prec) : 0
        var tail: [UInt8] = []
        var hasPoint = false
        var sawNonzero = false
        var i = 1
        while i < num.count {
            let c = num[i]
            let isExponent = c == UInt8(ascii: "p") || c == UInt8(ascii: "P")
                || ((c == UInt8(ascii: "e") || c == UInt8(ascii: "E")) && fmt != "x" && fmt != "X")
            if c == UInt8(ascii: ".") {
                hasPoint = true
            } else if isExponent {
                tail = Array(num[i...])
                num.removeSubrange(i...)
            } else {
                if c != UInt8(ascii: "0") { sawNonzero = true }
                if sawNonzero { digits -= 1 }
            }
            i += 1
        }
        if !hasPoint {
            if num.count == 2 && num[1] == UInt8(ascii: "0") { digits -= 1 }
            num.append(UInt8(ascii: "."))
        }
        if digits > 0 { num += Array(repeating: UInt8(ascii: "0"), count: digits) }
        return num + tail
    }

    /// Go's fmtString: `%v %s %x %X %q` of a string.
    private static func stringVerb(_ s: String, _ verb: Unicode.Scalar, _ spec: Spec) -> String {
        switch verb {
        case "v": return spec.flags.contains(.sharpV) ? fmtQ(s, spec) : fmtS(s, spec)
        case "s": return fmtS(s, spec)
        case "x": return fmtSx(s, spec, upper: false)
        case "X": return fmtSx(s, spec, upper: true)
        case "q": return fmtQ(s, spec)
        default: return badVerb(verb, .string(s), spec)
        }
    }

    /// `%s`: at most `precision` runes, padded.
    private static func fmtS(_ s: String, _ spec: Spec) -> String {
        pad(truncated(s, spec), spec)
    }

    /// The string cut to `precision` runes.
    private static func truncated(_ s: String, _ spec: Spec) -> String {
        guard let precision = spec.precision, s.unicodeScalars.count > precision else { return s }
        var scalars = String.UnicodeScalarView()
        scalars.append(contentsOf: s.unicodeScalars.prefix(precision))
        return String(scalars)
    }

    /// `%q`: strconv.Quote (QuoteToASCII with `+`, backquotes with `#` when possible), padded.
    private static func fmtQ(_ s: String, _ spec: Spec) -> String {
        let text = truncated(s, spec)
        if spec.flags.contains(.sharp) && canBackquote(text) { return pad("`" + text + "`", spec) }
        return pad(quoted(text, quote: "\"", asciiOnly: spec.flags.contains(.plus)), spec)
    }

    /// `%x`/`%X` of a string: two hex digits per byte (at most `precision` bytes); `#` adds
    /// `0x`, the space flag separates bytes.
    private static func fmtSx(_ s: String, _ spec: Spec, upper: Bool) -> String {
        let bytes = Array(s.utf8).prefix(spec.precision ?? Int.max)
        let prefix = upper ? "0X" : "0x"
        let sharp = spec.flags.contains(.sharp)
        let spaced = spec.flags.contains(.space)
        guard !bytes.isEmpty else { return padding(spec.width ?? 0, spec) }
        var encoded = sharp ? prefix : ""
        for (index, byte) in bytes.enumerated() {
            if spaced && index > 0 { encoded += sharp ? " " + prefix : " " }
            encoded += hexByte(byte, upper: upper)
        }
        let fill = padding((spec.width ?? 0) - encoded.count, spec)
        return spec.flags.contains(.minus) ? encoded + fill : fill + encoded
    }

    /// Two hex digits.
    private static func hexByte(_ byte: UInt8, upper: Bool) -> String {
        let digits = String(byte, radix: 16, uppercase: upper)
        return digits.count < 2 ? "0" + digits : digits
    }

    /// Go's pad: `width` in runes, spaces (zeros with `0`) on the left, or on the right with `-`.
    static func pad(_ s: String, _ spec: Spec) -> String {
        guard let width = spec.width, width > 0 else { return s }
        let fill = padding(width - s.unicodeScalars.count, spec)
        return spec.flags.contains(.minus) ? s + fill : fill + s
    }

    /// `count` padding characters: zeros with the `0` flag, else spaces.
    private static func padding(_ count: Int, _ spec: Spec) -> String {
        guard count > 0 else { return "" }
        return String(repeating: spec.flags.contains(.zero) ? "0" : " ", count: count)
    }
}

// MARK: - integers

extension GoFormat {
    /// Go's fmtInteger in print.go: `%v %d %b %o %O %x %X %c %q %U` of an int.
    static func intVerb(_ v: Int, _ verb: Unicode.Scalar, _ spec: Spec) -> String {
        let bits = UInt64(bitPattern: Int64(v))
        switch verb {
        case "v", "d": return fmtInteger(v, base: 10, verb, spec, upper: false)
        case "b": return fmtInteger(v, base: 2, verb, spec, upper: false)
        case "o", "O": return fmtInteger(v, base: 8, verb, spec, upper: false)
        case "x": return fmtInteger(v, base: 16, verb, spec, upper: false)
        case "X": return fmtInteger(v, base: 16, verb, spec, upper: true)
        case "c": return pad(String(runeScalar(bits)), spec)
        case "q": return fmtQc(bits, spec)
        case "U": return fmtUnicode(bits, spec)
        default: return badVerb(verb, .int(v), spec)
        }
    }

    /// Go's fmt.fmtInteger: precision or `0`-width as leading zeros, `#` prefixes, sign.
    private static func fmtInteger(_ v: Int, base: Int, _ verb: Unicode.Scalar, _ spec: Spec, upper: Bool) -> String {
        let negative = v < 0
        let flags = spec.flags
        var unpadded = spec
        unpadded.flags.remove(.zero)
        var minDigits = 0
        if let precision = spec.precision {
            if precision == 0 && v == 0 { return padding(spec.width ?? 0, unpadded) }
            minDigits = precision
        } else if flags.contains(.zero), let width = spec.width {
            minDigits = width - (negative || flags.contains(.plus) || flags.contains(.space) ? 1 : 0)
        }
        var digits = String(v.magnitude, radix: base, uppercase: upper)
        if digits.count < minDigits { digits = String(repeating: "0", count: minDigits - digits.count) + digits }
        digits = integerPrefix(digits, base: base, verb, spec, upper: upper) + digits
        let sign = negative ? "-" : flags.contains(.plus) ? "+" : flags.contains(.space) ? " " : ""
        return pad(sign + digits, unpadded)
    }

    /// `#` prefixes (`0b`, `0`, `0x`/`0X`) and `%O`'s `0o`.
    private static func integerPrefix(_ digits: String, base: Int, _ verb: Unicode.Scalar, _ spec: Spec, upper: Bool) -> String {
        var prefix = ""
        if spec.flags.contains(.sharp) {
            switch base {
            case 2: prefix = "0b"
            case 8: prefix = digits.hasPrefix("0") ? "" : "0"
            case 16: prefix = upper ? "0X" : "0x"
            default: break
            }
        }
        return verb == "O" ? "0o" + prefix : prefix
    }

    /// The rune for `%c`/`%q` of an integer: U+FFFD when it is no valid code point.
    private static func runeScalar(_ bits: UInt64) -> Unicode.Scalar {
        guard let value = UInt32(exactly: bits), let scalar = Unicode.Scalar(value) else { return "\u{FFFD}" }
        return scalar
    }

    /// `%q` of an integer: a single-quoted Go rune literal.
    private static func fmtQc(_ bits: UInt64, _ spec: Spec) -> String {
        let r = runeScalar(bits)
        if spec.flags.contains(.sharp) && canBackquote(String(r)) { return pad("'" + String(r) + "'", spec) }
        return pad("'" + escaped(r, quote: "'", asciiOnly: spec.flags.contains(.plus)) + "'", spec)
    }

    /// `%U`: `U+0041`, with `#` also the printable character (`U+0041 'A'`).
    private static func fmtUnicode(_ bits: UInt64, _ spec: Spec) -> String {
        var hex = String(bits, radix: 16, uppercase: true)
        let minDigits = max(4, spec.precision ?? 4)
        if hex.count < minDigits { hex = String(repeating: "0", count: minDigits - hex.count) + hex }
        var text = "U+" + hex
        if spec.flags.contains(.sharp), let value = UInt32(exactly: bits), let r = Unicode.Scalar(value), isPrint(r) {
            text += " '" + String(r) + "'"
        }
        var unpadded = spec
        unpadded.flags.remove(.zero)
        return pad(text, unpadded)
    }
}

// MARK: - Sprintf

extension GoFormat {
    /// Go's doPrintf state over the format's bytes.
    fileprivate struct Printf {
        let format: [UInt8]
        let args: [TemplateValue]
        var out = ""
        var argNum = 0
        var reordered = false
        var goodArgNum = true

        init(format: [UInt8], args: [TemplateValue]) {
            self.format = format
            self.args = args
        }

        /// Copies text, formats each directive, then reports unused operands.
        mutating func run() -> String {
            var i = 0
            while i < format.count {
                goodArgNum = true
                let start = i
                while i < format.count && format[i] != UInt8(ascii: "%") { i += 1 }
                if i > start { out += String(decoding: format[start..<i], as: UTF8.self) }
                if i >= format.count { break }
                i += 1
                if !directive(&i) { break }
            }
            appendExtra()
            return out
        }

        /// One `%…` directive after the `%`; false when the format ended without a verb.
        mutating func directive(_ i: inout Int) -> Bool {
            var spec = Spec(flags: parseFlags(&i))
            var afterIndex = argIndex(&i)
            parseWidth(&i, &spec, &afterIndex)
            parsePrecision(&i, &spec, &afterIndex)
            if !afterIndex { afterIndex = argIndex(&i) }
            guard i < format.count else {
                out += "%!(NOVERB)"
                return false
            }
            let verb = decodeVerb(&i)
            emit(verb, spec)
            return true
        }

        /// The flags `# 0 + - space`.
        func parseFlags(_ i: inout Int) -> Flags {
            var flags: Flags = []
            while i < format.count {
                switch format[i] {
                case UInt8(ascii: "#"): flags.insert(.sharp)
                case UInt8(ascii: "0"): if !flags.contains(.minus) { flags.insert(.zero) }
                case UInt8(ascii: "+"): flags.insert(.plus)
                case UInt8(ascii: "-"): flags.insert(.minus); flags.remove(.zero)
                case UInt8(ascii: " "): flags.insert(.space)
                default: return flags
                }
                i += 1
            }
            return flags
        }

        /// Width: digits or `*` (an int operand; negative means `-`).
        mutating func parseWidth(_ i: inout Int, _ spec: inout Spec, _ afterIndex: inout Bool) {
            if i < format.count && format[i] == UInt8(ascii: "*") {
                i += 1
                spec.width = intFromArg()
                if spec.width == nil { out += "%!(BADWIDTH)" }
                if let width = spec.width, width < 0 {
                    spec.width = -width
                    spec.flags.insert(.minus)
                    spec.flags.remove(.zero)
                }
                afterIndex = false
            } else {
                spec.width = parseNum(&i, end: format.count)
                if afterIndex && spec.width != nil { goodArgNum = false }
            }
        }

        /// Precision: `.` then digits (none means 0) or `*`.
        mutating func parsePrecision(_ i: inout Int, _ spec: inout Spec, _ afterIndex: inout Bool) {
            guard i + 1 < format.count && format[i] == UInt8(ascii: ".") else { return }
            i += 1
            if afterIndex { goodArgNum = false }
            afterIndex = argIndex(&i)
            if i < format.count && format[i] == UInt8(ascii: "*") {
                i += 1
                spec.precision = intFromArg()
                if let precision = spec.precision, precision < 0 { spec.precision = nil }
                if spec.precision == nil { out += "%!(BADPREC)" }
                afterIndex = false
            } else {
                spec.precision = parseNum(&i, end: format.count) ?? 0
            }
        }

        /// Go's parsenum: decimal digits, nil if none; a number over 1e6 swallows the rest.
        func parseNum(_ i: inout Int, end: Int) -> Int? {
            var num = 0
            var found = false
            while i < end && format[i] >= UInt8(ascii: "0") && format[i] <= UInt8(ascii: "9") {
                if num > 1_000_000 {
                    i = end
                    return nil
                }
                num = num * 10 + Int(format[i] - UInt8(ascii: "0"))
                found = true
                i += 1
            }
            return found ? num : nil
        }

        /// Go's argNumber: an explicit `[n]` operand index; true when one was read and valid.
        mutating func argIndex(_ i: inout Int) -> Bool {
            guard i < format.count && format[i] == UInt8(ascii: "[") else { return false }
            reordered = true
            guard format.count - i >= 3, let close = format[i...].firstIndex(of: UInt8(ascii: "]")) else {
                i += 1
                goodArgNum = false
                return false
            }
            var j = i + 1
            let number = parseNum(&j, end: close)
            i = close + 1
            guard let n = number, j == close else {
                goodArgNum = false
                return false
            }
            guard n >= 1 && n <= args.count else {
                goodArgNum = false
                return true
            }
            argNum = n - 1
            return true
        }

        /// Go's intFromArg: the next operand as a width or precision (nil unless a small int).
        mutating func intFromArg() -> Int? {
            guard argNum < args.count else { return nil }
            defer { argNum += 1 }
            guard case .int(let n) = args[argNum], n >= -1_000_000, n <= 1_000_000 else { return nil }
            return n
        }

        /// The verb: one UTF-8 encoded rune.
        func decodeVerb(_ i: inout Int) -> Unicode.Scalar {
            var iterator = format[i...].makeIterator()
            var decoder = UTF8()
            guard case .scalarValue(let scalar) = decoder.decode(&iterator) else {
                i += 1
                return "\u{FFFD}"
            }
            i += UTF8.width(scalar)
            return scalar
        }

        /// Formats the current operand (or reports why not).
        mutating func emit(_ verb: Unicode.Scalar, _ spec: Spec) {
            var spec = spec
            if verb == "%" { out += "%"; return }
            if !goodArgNum { out += "%!\(verb)(BADINDEX)"; return }
            guard argNum < args.count else { out += "%!\(verb)(MISSING)"; return }
            if verb == "v" {
                if spec.flags.contains(.sharp) { spec.flags.insert(.sharpV) }
                if spec.flags.contains(.plus) { spec.flags.insert(.plusV) }
                spec.flags.subtract([.sharp, .plus])
            }
            out += printArg(args[argNum], verb, spec)
            argNum += 1
        }

        /// `%!(EXTRA type=value, …)` for operands no verb used.
        mutating func appendExtra() {
            guard !reordered && argNum < args.count else { return }
            let extra = args[argNum...].map { arg -> String in
                if case .none = arg { return "<nil>" }
                return arg.goType + "=" + printArg(arg, "v", Spec())
            }
            out += "%!(EXTRA " + extra.joined(separator: ", ") + ")"
        }
    }
}

// MARK: - strconv.Quote

extension GoFormat {
    /// Go's `strconv.Quote`: a double-quoted Go string literal; non-printable runes escaped
    /// (`\n`, `\x01`, `\u00a0`, `\U0001f600`).
    static func quote(_ s: String) -> String {
        quoted(s, quote: "\"", asciiOnly: false)
    }

    /// Go's `strconv.QuoteToASCII`: like `quote`, escaping every non-ASCII rune too.
    static func quoteToASCII(_ s: String) -> String {
        quoted(s, quote: "\"", asciiOnly: true)
    }

    /// The string between `quote` characters, each rune escaped as Go's appendEscapedRune.
    private static func quoted(_ s: String, quote: Unicode.Scalar, asciiOnly: Bool) -> String {
        var out = String(quote)
        for r in s.unicodeScalars { out += escaped(r, quote: quote, asciiOnly: asciiOnly) }
        return out + String(quote)
    }

    /// One rune inside a Go quoted literal.
    private static func escaped(_ r: Unicode.Scalar, quote: Unicode.Scalar, asciiOnly: Bool) -> String {
        if r == quote || r == "\\" { return "\\" + String(r) }
        if asciiOnly ? (r.isASCII && isPrint(r)) : isPrint(r) { return String(r) }
        switch r {
        case "\u{07}": return "\\a"
        case "\u{08}": return "\\b"
        case "\u{0C}": return "\\f"
        case "\n": return "\\n"
        case "\r": return "\\r"
        case "\t": return "\\t"
        case "\u{0B}": return "\\v"
        default: return hexEscape(r)
        }
    }

    /// `\x..` below space and for DEL, `\u....` in the BMP, `\U........` above it.
    private static func hexEscape(_ r: Unicode.Scalar) -> String {
        let value = r.value
        let (prefix, width) = value < 0x20 || value == 0x7F ? ("\\x", 2) : value < 0x10000 ? ("\\u", 4) : ("\\U", 8)
        let hex = String(value, radix: 16)
        return prefix + String(repeating: "0", count: max(width - hex.count, 0)) + hex
    }

    /// Go's `strconv.IsPrint`/`unicode.IsPrint`: letters, marks, numbers, punctuation, symbols
    /// and the ASCII space.
    static func isPrint(_ r: Unicode.Scalar) -> Bool {
        if r.value <= 0xFF {
            return (0x20...0x7E).contains(r.value) || ((0xA1...0xFF).contains(r.value) && r.value != 0xAD)
        }
        switch r.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
            .nonspacingMark, .spacingMark, .enclosingMark,
            .decimalNumber, .letterNumber, .otherNumber,
            .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
            .initialPunctuation, .finalPunctuation, .otherPunctuation,
            .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol:
            return true
        default:
            return false
        }
    }

    /// Go's `strconv.CanBackquote`: no control characters but tab, no backquote, no BOM.
    static func canBackquote(_ s: String) -> Bool {
        s.unicodeScalars.allSatisfy { r in
            r != "`" && r != "\u{7F}" && r != "\u{FEFF}" && (r.value >= 0x20 || r == "\t")
        }
    }
}
