@testable import Rules
import XCTest

/// Go's number and string formatting (`GoFormat`) and Prometheus' template functions
/// (`TemplateFunctions`). Every expected value is what promtool 2.42 (Go's fmt, strconv,
/// text/template) printed for the same template, e.g. `{{ printf "%5.1f|" 3.14159 }}`.
final class TemplateFormatTests: XCTestCase {
    /// The function's result, or `error: <message>` when it throws.
    private func call(_ function: (TemplateValue) throws(TemplateFunctionError) -> String, _ input: TemplateValue) -> String {
        do {
            return try function(input)
        } catch {
            return "error: " + error.message
        }
    }

    /// The error message of a failing call, or `no error`.
    private func failure(_ body: () throws(TemplateFunctionError) -> Any) -> String {
        do {
            _ = try body()
            return "no error"
        } catch {
            return error.message
        }
    }

    /// A sample with the given labels and value, as `query` returns.
    private func sample(_ labels: [(String, String)], _ value: Double) -> TemplateValue {
        .sample(labels: labels.map { (name: $0.0, value: $0.1) }, value: value)
    }

    // MARK: fmt.Print of a float64 (notes 1.5)

    /// `{{ $value }}`: shortest round-trip digits, exponent form iff exp < -4 or exp >= 6.
    func testShortestFloat() {
        let cases: [(Double, String)] = [
            (5, "5"), (0.1, "0.1"), (123_456, "123456"), (123_456.7, "123456.7"), (1_234_567, "1.234567e+06"),
            (1e6, "1e+06"), (0.0001, "0.0001"), (0.00001, "1e-05"), (0.1 + 0.2, "0.30000000000000004"),
            (.nan, "NaN"), (.infinity, "+Inf"), (-.infinity, "-Inf"), (-0.0, "-0"),
            (1e21, "1e+21"), (1e20, "1e+20"), (123_456_789, "1.23456789e+08"), (999_999, "999999"),
            (999_999.5, "999999.5"), (0.000123, "0.000123"), (-1.5e-7, "-1.5e-07"), (2.5e-5, "2.5e-05"),
            (1e100, "1e+100"), (1e-100, "1e-100"), (.leastNonzeroMagnitude, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"), (-123_456.789, "-123456.789"),
        ]
        for (value, expected) in cases {
            XCTAssertEqual(GoFormat.shortest(value), expected, "\(value)")
        }
    }

    /// Maps print with sorted keys, booleans as words, samples as structs.
    func testPrintedValues() {
        let map = TemplateValue.map(["b": .int(2), "a": .int(1)])
        XCTAssertEqual(GoFormat.sprintf("%v", [map]), "map[a:1 b:2]")
        XCTAssertEqual(GoFormat.sprintf("%v|%v", [.bool(true), .bool(false)]), "true|false")
        let up = sample([("__name__", "up"), ("job", "a")], 1)
        XCTAssertEqual(up.printed, "{map[__name__:up job:a] 1}")
        XCTAssertEqual(GoFormat.sprintf("%v", [up]), "&{map[__name__:up job:a] 1}")
        XCTAssertEqual(GoFormat.sprintf("%+v", [up]), "&{Labels:map[__name__:up job:a] Value:1}")
        XCTAssertEqual(
            GoFormat.sprintf("%#v", [up]),
            #"&template.sample{Labels:map[string]string{"__name__":"up", "job":"a"}, Value:1}"#)
    }

    // MARK: float verbs

    /// `%.4g` and the other float verbs with a precision, as Go rounds the exact binary value.
    func testFormatWithPrecision() {
        XCTAssertEqual(GoFormat.format(1_234_567, verb: "g", precision: 4), "1.235e+06")
        XCTAssertEqual(GoFormat.format(12.345, verb: "g", precision: 4), "12.35")
        XCTAssertEqual(GoFormat.format(0.0001234567, verb: "g", precision: 4), "0.0001235")
        XCTAssertEqual(GoFormat.format(100_000, verb: "g", precision: 4), "1e+05")
        XCTAssertEqual(GoFormat.format(.infinity, verb: "g", precision: 4), "+Inf")
        XCTAssertEqual(GoFormat.format(-.infinity, verb: "f", precision: 2), "-Inf")
        XCTAssertEqual(GoFormat.format(.nan, verb: "e"), "NaN")
        XCTAssertEqual(GoFormat.format(1, verb: "g", precision: 4, flags: .sharp), "1.000")
        XCTAssertEqual(GoFormat.format(3.14159, verb: "f", precision: 3, width: 8, flags: [.zero, .plus]), "+003.142")
        XCTAssertEqual(GoFormat.format(.nan, verb: "f", width: 6, flags: .zero), "   NaN")
        XCTAssertEqual(GoFormat.format(1e6, verb: "v"), "1e+06")
        XCTAssertEqual(GoFormat.format(1e-5, verb: "G"), "1E-05")
    }

    /// `%f` rounding: half to even on exact binary values, below when the binary value is below.
    func testFixedRounding() {
        XCTAssertEqual(GoFormat.sprintf("%.2f", [.float(3.14159)]), "3.14")
        XCTAssertEqual(GoFormat.sprintf("%.0f", [.float(2.5)]), "2")
        XCTAssertEqual(GoFormat.sprintf("%.0f", [.float(3.5)]), "4")
        XCTAssertEqual(GoFormat.sprintf("%.2f", [.float(0.125)]), "0.12")
        XCTAssertEqual(GoFormat.sprintf("%.2f", [.float(1.005)]), "1.00")
        XCTAssertEqual(GoFormat.sprintf("%.2f", [.float(2.675)]), "2.67")
        XCTAssertEqual(GoFormat.sprintf("%.0f|%.0f", [.float(-0.5), .float(-2.5)]), "-0|-2")
        XCTAssertEqual(GoFormat.sprintf("%.f", [.float(2.5)]), "2")
        XCTAssertEqual(GoFormat.sprintf("%.17g", [.float(0.1)]), "0.10000000000000001")
        XCTAssertEqual(GoFormat.sprintf("%.20e", [.float(0.1)]), "1.00000000000000005551e-01")
    }

    /// Default precisions and layouts of `%e %E %f %F %g %G`.
    func testFloatVerbs() {
        let args: [TemplateValue] = [.float(1234.5678), .float(0.000123), .float(1e21), .float(1e-7), .float(2)]
        XCTAssertEqual(GoFormat.sprintf("%e|%E|%g|%G|%F", args), "1.234568e+03|1.230000E-04|1e+21|1E-07|2.000000")
        XCTAssertEqual(GoFormat.sprintf("%f|%e", [.float(1e20), .float(0)]), "100000000000000000000.000000|0.000000e+00")
        XCTAssertEqual(GoFormat.sprintf("%g|%g|%.3g|%.10g", [.float(1e6), .float(123_456), .float(1e6), .float(1e6)]), "1e+06|123456|1e+06|1000000")
        XCTAssertEqual(GoFormat.sprintf("%5.1f|", [.float(3.14159)]), "  3.1|")
        XCTAssertEqual(GoFormat.sprintf("%6.2f|%-8.3e|", [.float(1), .float(1)]), "  1.00|1.000e+00|")
        XCTAssertEqual(GoFormat.sprintf("%08.3f|%-8.3f|%+08.3f", [.float(-3.14159), .float(3.14159), .float(3.14159)]), "-003.142|3.142   |+003.142")
        XCTAssertEqual(GoFormat.sprintf("%+.3e|% .3e|%010.4g", [.float(12345.678), .float(1), .float(3.14159)]), "+1.235e+04| 1.000e+00|000003.142")
        XCTAssertEqual(GoFormat.sprintf("%+f|% f|%08.3f", [.float(.nan), .float(.nan), .float(-.infinity)]), "+NaN| NaN|    -Inf")
    }

    /// `#` on floats, and the hex (`%x`) and binary-exponent (`%b`) forms.
    func testSharpHexAndBinaryFloats() {
        let sharp: [TemplateValue] = [.float(1), .float(1), .float(3), .float(2), .float(0), .float(123_456_789), .float(100)]
        XCTAssertEqual(GoFormat.sprintf("%#g|%#.4g|%#.0f|%#e|%#g|%#g|%#.3g", sharp), "1.00000|1.000|3.|2.000000e+00|0.00000|1.23456789e+08|100.")
        XCTAssertEqual(GoFormat.sprintf("%x|%X|%b", [.float(1.5), .float(-3), .float(1)]), "0x1.8p+00|-0X1.8P+01|4503599627370496p-52")
        XCTAssertEqual(GoFormat.sprintf("%.3x|%x|%x", [.float(3.14159), .float(0), .float(.leastNonzeroMagnitude)]), "0x1.922p+01|0x0p+00|0x1p-1074")
        XCTAssertEqual(GoFormat.sprintf("%#x|%#X|%.1x", [.float(1.5), .float(1.5), .float(1.96875)]), "0x1.8000p+00|0X1.8P+00|0x1.0p+01")
    }

    // MARK: Sprintf

    /// Strings: `%s %q %x %X %v`, width and precision in runes.
    func testStringVerbs() {
        XCTAssertEqual(GoFormat.sprintf("%-5s|", [.string("ab")]), "ab   |")
        XCTAssertEqual(GoFormat.sprintf("%05s|%5s|%-5s|", [.string("ab"), .string("€"), .string("€")]), "000ab|    €|€    |")
        XCTAssertEqual(GoFormat.sprintf("%.1s|%.10s|%5.2s|%3.1s|", [.string("héllo"), .string("ab"), .string("xyz"), .string("éa")]), "h|ab|   xy|  é|")
        XCTAssertEqual(GoFormat.sprintf("%q", [.string("a\"b\\c\n\t\u{01}\u{a0}é😀\u{7f}")]), #""a\"b\\c\n\t\x01\u00a0é😀\x7f""#)
        XCTAssertEqual(GoFormat.sprintf("%+q|%#q|%#q", [.string("é😀"), .string("ab"), .string("a`b")]), #""\u00e9\U0001f600"|`ab`|"a`b""#)
        XCTAssertEqual(GoFormat.sprintf("%x|%X|% x|%#x", [.string("hi"), .string("hi"), .string("abc"), .string("abc")]), "6869|6869|61 62 63|0x616263")
        XCTAssertEqual(GoFormat.sprintf("%x|% X|%.2x", [.string("é"), .string("é"), .string("abc")]), "c3a9|C3 A9|6162")
        XCTAssertEqual(GoFormat.sprintf("%v|%5v|%-6v|", [.string("é"), .none, .none]), "é|<nil>|<nil> |")
    }

    /// Integers: `%d %x %X %o %O %b %c %q %U` with flags.
    func testIntegerVerbs() {
        XCTAssertEqual(GoFormat.sprintf("%d", [.int(42)]), "42")
        XCTAssertEqual(GoFormat.sprintf("%05d|%-05d|%+d|% d|%+08d", [.int(-42), .int(5), .int(5), .int(5), .int(42)]), "-0042|5    |+5| 5|+0000042")
        XCTAssertEqual(GoFormat.sprintf("%x|%X|%#x|%x", [.int(255), .int(-255), .int(255), .int(-255)]), "ff|-FF|0xff|-ff")
        XCTAssertEqual(GoFormat.sprintf("%.3d|%8.3d|%.0d|%5.0d|", [.int(5), .int(-5), .int(0), .int(0)]), "005|    -005||     |")
        XCTAssertEqual(GoFormat.sprintf("%o|%#o|%O|%b|%#b", [.int(8), .int(8), .int(8), .int(5), .int(5)]), "10|010|0o10|101|0b101")
        XCTAssertEqual(GoFormat.sprintf("%c|%q|%U|%#U", [.int(65), .int(66), .int(0x1F600), .int(0x41)]), "A|'B'|U+1F600|U+0041 'A'")
        XCTAssertEqual(GoFormat.sprintf("%c|%q|%+q|%q", [.int(-1), .int(233), .int(233), .int(39)]), #"�|'é'|'\u00e9'|'\''"#)
        XCTAssertEqual(GoFormat.sprintf("%d|%x", [.int(Int.min), .int(Int.min)]), "-9223372036854775808|-8000000000000000")
    }

    /// Booleans, `%T`, `%%` and Go's `%v` flag rules.
    func testOtherVerbs() {
        XCTAssertEqual(GoFormat.sprintf("%t|%t", [.bool(true), .bool(false)]), "true|false")
        XCTAssertEqual(GoFormat.sprintf("%T|%T|%T|%T|%T", [.int(1), .float(1.5), .string("a"), .bool(true), .none]), "int|float64|string|bool|<nil>")
        XCTAssertEqual(GoFormat.sprintf("100%%|%5%", []), "100%|%")
        XCTAssertEqual(GoFormat.sprintf("%+v|%#v|%#v|%+d", [.float(5), .float(5), .string("a"), .int(5)]), #"5|5|"a"|+5"#)
    }

    /// Operands of the wrong type: `%!verb(type=value)`, printed with the same flags.
    func testBadVerbs() {
        XCTAssertEqual(GoFormat.sprintf("%d", [.float(1.5)]), "%!d(float64=1.5)")
        XCTAssertEqual(GoFormat.sprintf("%s", [.float(1.5)]), "%!s(float64=1.5)")
        XCTAssertEqual(GoFormat.sprintf("%f", [.int(5)]), "%!f(int=5)")
        XCTAssertEqual(GoFormat.sprintf("%t|%s|%d", [.int(1), .bool(true), .string("x")]), "%!t(int=1)|%!s(bool=true)|%!d(string=x)")
        XCTAssertEqual(GoFormat.sprintf("%5d", [.float(1.5)]), "%!d(float64=  1.5)")
        XCTAssertEqual(GoFormat.sprintf("%d|%s", [.none, .none]), "%!d(<nil>)|%!s(<nil>)")
        XCTAssertEqual(GoFormat.sprintf("%p|%w", [.int(1), .int(5)]), "%!p(int=1)|%!w(int=5)")
        let labels = TemplateValue.labels([("__name__", "up"), ("job", "a")])
        XCTAssertEqual(
            GoFormat.sprintf("%d", [labels]),
            "map[%!d(string=__name__):%!d(string=up) %!d(string=job):%!d(string=a)]")
    }

    /// Missing and extra operands, a format ending inside a directive.
    func testMissingAndExtraOperands() {
        XCTAssertEqual(GoFormat.sprintf("%d", []), "%!d(MISSING)")
        XCTAssertEqual(GoFormat.sprintf("%d %d", [.int(1)]), "1 %!d(MISSING)")
        XCTAssertEqual(GoFormat.sprintf("%d", [.int(1), .float(2.5), .string("x")]), "1%!(EXTRA float64=2.5, string=x)")
        XCTAssertEqual(GoFormat.sprintf("%d", [.int(1), .float(2)]), "1%!(EXTRA float64=2)")
        XCTAssertEqual(GoFormat.sprintf("", [.int(1), .none]), "%!(EXTRA int=1, <nil>)")
        XCTAssertEqual(GoFormat.sprintf("%!", []), "%!!(MISSING)")
        XCTAssertEqual(GoFormat.sprintf("abc%", []), "abc%!(NOVERB)")
        XCTAssertEqual(GoFormat.sprintf("%5.", [.int(1)]), "%!.(int=    1)")
    }

    /// `*` widths and precisions and `[n]` operand indexes.
    func testStarAndIndexes() {
        XCTAssertEqual(GoFormat.sprintf("%*d|%.*f|%-*d|", [.int(4), .int(5), .int(2), .float(3.14159), .int(-4), .int(7)]), "   5|3.14|7   |")
        XCTAssertEqual(GoFormat.sprintf("%[2]d %[1]d", [.int(1), .int(2)]), "2 1")
        XCTAssertEqual(GoFormat.sprintf("%d %d %#[1]x %#x", [.int(16), .int(17)]), "16 17 0x10 0x11")
        XCTAssertEqual(GoFormat.sprintf("%[3]*.[2]*[1]f", [.float(12), .int(2), .int(6)]), " 12.00")
        XCTAssertEqual(GoFormat.sprintf("%[0]d|%[5]d|%[x]d", [.int(1)]), "%!d(BADINDEX)|%!d(BADINDEX)|%!d(BADINDEX)")
        XCTAssertEqual(GoFormat.sprintf("%[1]d", [.int(1), .int(2)]), "1")
        XCTAssertEqual(GoFormat.sprintf("%*d|%.*d", [.string("x"), .int(4), .int(-1), .int(4)]), "%!(BADWIDTH)4|%!(BADPREC)4")
    }

    /// Composite operands: each element under the verb.
    func testMaps() {
        let labels = TemplateValue.labels([("__name__", "up"), ("job", "a")])
        XCTAssertEqual(GoFormat.sprintf("%s|%q", [labels, labels]), #"map[__name__:up job:a]|map["__name__":"up" "job":"a"]"#)
        XCTAssertEqual(GoFormat.sprintf("%5v|%x", [labels, labels]), "map[__name__:   up   job:    a]|map[5f5f6e616d655f5f:7570 6a6f62:61]")
        XCTAssertEqual(GoFormat.sprintf("%#v", [labels]), #"map[string]string{"__name__":"up", "job":"a"}"#)
        XCTAssertEqual(
            GoFormat.sprintf("%d %s", [.int(1), .string("a"), .none, labels]),
            "1 a%!(EXTRA <nil>, map[string]string=map[__name__:up job:a])")
    }

    /// `print` and `println` (fmt.Sprint / Sprintln).
    func testSprint() {
        let args: [TemplateValue] = [.int(1), .int(2), .string("a"), .string("b"), .int(3), .bool(true)]
        XCTAssertEqual(GoFormat.sprint(args), "1 2ab3 true")
        XCTAssertEqual(GoFormat.sprint([.none, .int(1)]), "<nil> 1")
        XCTAssertEqual(GoFormat.sprint([.float(1.5), .float(2)]), "1.5 2")
        XCTAssertEqual(GoFormat.sprintln([.float(1e6), .string("a")]), "1e+06 a\n")
    }

    /// strconv.Quote.
    func testQuote() {
        XCTAssertEqual(GoFormat.quote("one"), #""one""#)
        XCTAssertEqual(GoFormat.quote("a\"b\\c\n\r\t"), #""a\"b\\c\n\r\t""#)
        XCTAssertEqual(GoFormat.quote("\u{01}\u{7f}\u{a0}\u{ad}\u{2028}\u{feff}"), #""\x01\x7f\u00a0\u00ad\u2028\ufeff""#)
        XCTAssertEqual(GoFormat.quote("é😀\u{10ffff}"), #""é😀\U0010ffff""#)
    }

    // MARK: conversions

    /// convertToFloat: floats, ints and strings as Go's ParseFloat reads them.
    func testToFloat() throws {
        XCTAssertEqual(try TemplateFunctions.toFloat(.float(1.5)), 1.5)
        XCTAssertEqual(try TemplateFunctions.toFloat(.int(-3)), -3)
        let strings: [(String, Double)] = [
            ("1e3", 1000), ("+Inf", .infinity), ("Inf", .infinity), ("-inf", -.infinity), ("infinity", .infinity),
            ("-INF", -.infinity), (".5", 0.5), ("5.", 5), ("+1", 1), ("001", 1), ("1E3", 1000), ("1e+3", 1000),
            ("1_000", 1000), ("1e1_0", 1e10), ("0x1.8p1", 3), ("0x_1p4", 16), ("0x1P-2", 0.25), ("0x1e1p0", 481),
            ("1e-400", 0),
        ]
        for (text, expected) in strings {
            XCTAssertEqual(try TemplateFunctions.toFloat(.string(text)), expected, text)
        }
        XCTAssertTrue(try TemplateFunctions.toFloat(.string("NaN")).isNaN)
        XCTAssertTrue(try TemplateFunctions.toFloat(.string("nAn")).isNaN)
    }

    /// convertToFloat's errors.
    func testToFloatErrors() {
        let invalid = ["one", "", " 1", "+nan", "0x1", "1e", "infin", "Infinityx", "1__0", "_1", "1_", "1_.5", ".", "-", "e5", "0x", "1.5e+", "+-1"]
        for text in invalid {
            XCTAssertEqual(
                failure { () throws(TemplateFunctionError) in try TemplateFunctions.toFloat(.string(text)) },
                "strconv.ParseFloat: parsing \(GoFormat.quote(text)): invalid syntax", text)
        }
        for text in ["1e400", "1e99999999999", "0x1p2000"] {
            XCTAssertEqual(
                failure { () throws(TemplateFunctionError) in try TemplateFunctions.toFloat(.string(text)) },
                "strconv.ParseFloat: parsing \"\(text)\": value out of range")
        }
        XCTAssertEqual(failure { () throws(TemplateFunctionError) in try TemplateFunctions.toFloat(.bool(true)) }, "can't convert bool to float")
        XCTAssertEqual(failure { () throws(TemplateFunctionError) in try TemplateFunctions.toFloat(.none) }, "can't convert <nil> to float")
        XCTAssertEqual(
            failure { () throws(TemplateFunctionError) in try TemplateFunctions.toFloat(.labels([("a", "b")])) },
            "can't convert map[string]string to float")
    }

    // MARK: humanize family (notes 1.6)

    /// `humanize`: SI prefixes, `%.4g`.
    func testHumanize() {
        let cases: [(TemplateValue, String)] = [
            (.float(1_234_567), "1.235M"), (.float(0.12), "120m"), (.int(1), "1"), (.float(-1234), "-1.234k"),
            (.int(Int.max), "9.223E"), (.float(Double(UInt64.max)), "18.45E"), (.float(0.0001), "100u"),
            (.float(999.95), "1000"), (.float(1e27), "1000Y"), (.int(0), "0"), (.string("NaN"), "NaN"),
            (.string("+Inf"), "+Inf"), (.string("-Inf"), "-Inf"), (.float(-0.0), "-0"), (.string("1e3"), "1k"),
            (.float(0.0009999), "999.9u"), (.float(1e-30), "1e-06y"), (.float(1e30), "1e+06Y"), (.float(.leastNonzeroMagnitude), "4.941e-300y"),
            (.string("one"), #"error: strconv.ParseFloat: parsing "one": invalid syntax"#),
            (.bool(true), "error: can't convert bool to float"),
        ]
        for (input, expected) in cases {
            XCTAssertEqual(call(TemplateFunctions.humanize, input), expected, "\(input)")
        }
    }

    /// `humanize1024`: binary prefixes above 1.
    func testHumanize1024() {
        let cases: [(TemplateValue, String)] = [
            (.float(0.12), "0.12"), (.int(1_048_576), "1Mi"), (.float(1_234_567), "1.177Mi"), (.int(Int.max), "8Ei"),
            (.int(1), "1"), (.int(-1), "-1"), (.int(-2048), "-2ki"), (.float(1e30), "8.272e+05Yi"),
            (.float(1023.99), "1024"), (.string("NaN"), "NaN"), (.float(1.5), "1.5"), (.float(.infinity), "+Inf"),
        ]
        for (input, expected) in cases {
            XCTAssertEqual(call(TemplateFunctions.humanize1024, input), expected, "\(input)")
        }
    }

    /// `humanizeDuration`: days to seconds, or sub-second prefixes.
    func testHumanizeDuration() {
        let cases: [(TemplateValue, String)] = [
            (.float(1.2345), "1.234s"), (.float(12.345), "12.35s"), (.float(60.5), "1m 0s"), (.float(899.99), "14m 59s"),
            (.int(86400), "1d 0h 0m 0s"), (.int(-183_845), "-2d 3h 4m 5s"), (.int(1_234_567), "14d 6h 56m 7s"),
            (.int(-1), "-1s"), (.float(0.1), "100ms"), (.float(0.0001), "100us"), (.float(0.12345), "123.5ms"),
            (.float(-0.1), "-100ms"), (.int(0), "0s"), (.float(-0.0), "-0s"), (.string("NaN"), "NaN"),
            (.string("-Inf"), "-Inf"), (.int(3600), "1h 0m 0s"), (.float(1e-30), "1e-06ys"), (.float(59.99999), "60s"),
            (.int(90061), "1d 1h 1m 1s"), (.float(1e300), "-106751991167300d -15h -30m -8s"),
        ]
        for (input, expected) in cases {
            XCTAssertEqual(call(TemplateFunctions.humanizeDuration, input), expected, "\(input)")
        }
    }

    /// `humanizePercentage`: `%.4g%%` of v × 100.
    func testHumanizePercentage() {
        let cases: [(TemplateValue, String)] = [
            (.float(-0.22222), "-22.22%"), (.int(0), "0%"), (.float(0.1234567), "12.35%"), (.float(1.23456), "123.5%"),
            (.int(1_234_567), "1.235e+08%"), (.string("NaN"), "NaN%"), (.string("Inf"), "+Inf%"), (.float(0.5), "50%"),
        ]
        for (input, expected) in cases {
            XCTAssertEqual(call(TemplateFunctions.humanizePercentage, input), expected, "\(input)")
        }
    }

    /// `humanizeTimestamp`: Go's time.Time.String() in UTC, at millisecond precision.
    func testHumanizeTimestamp() {
        let cases: [(TemplateValue, String)] = [
            (.int(0), "1970-01-01 00:00:00 +0000 UTC"), (.float(1_435_065_584.128), "2015-06-23 13:19:44.128 +0000 UTC"),
            (.int(-1), "1969-12-31 23:59:59 +0000 UTC"), (.float(-1.5), "1969-12-31 23:59:58.5 +0000 UTC"),
            (.float(1.0005), "1970-01-01 00:00:01 +0000 UTC"), (.float(-0.0005), "1970-01-01 00:00:00 +0000 UTC"),
            (.string("1435065584.1"), "2015-06-23 13:19:44.1 +0000 UTC"), (.int(951_782_400), "2000-02-29 00:00:00 +0000 UTC"),
            (.float(4_102_444_800.5), "2100-01-01 00:00:00.499 +0000 UTC"), (.float(-0.999), "1969-12-31 23:59:59.001 +0000 UTC"),
            (.float(9_223_372_036.854775), "2262-04-11 23:47:16.854 +0000 UTC"),
            (.float(9_223_372_036.854775807), "1677-09-21 00:12:43.146 +0000 UTC"),
            (.string("NaN"), "NaN"), (.string("-Inf"), "-Inf"),
            (.float(1e10), "error: 1e+10 cannot be represented as a nanoseconds timestamp since it overflows int64"),
            (.float(-1e11), "error: -1e+11 cannot be represented as a nanoseconds timestamp since it overflows int64"),
        ]
        for (input, expected) in cases {
            XCTAssertEqual(call(TemplateFunctions.humanizeTimestamp, input), expected, "\(input)")
        }
    }

    /// `parseDuration`: Prometheus durations as float seconds.
    func testParseDuration() throws {
        let cases: [(String, Double)] = [
            ("1h2m10ms", 3720.01), ("0", 0), ("1y", 31_536_000), ("1w2d", 777_600), ("90s", 90), ("1ms", 0.001),
            ("0s", 0), ("00010m", 600), ("9223372036s", 9_223_372_036), ("106751d", 9_223_286_400),
        ]
        for (text, expected) in cases {
            XCTAssertEqual(try TemplateFunctions.parseDuration(text), expected, text)
        }
        XCTAssertEqual(GoFormat.shortest(try TemplateFunctions.parseDuration("1y2w3d4h5m6s7ms")), "3.3019506007e+07")
        for text in ["1m1h", "1.5h", "1h1h", "-1s", "5mss", "10", "1S", " 1s", "1d1w"] {
            XCTAssertEqual(
                failure { () throws(TemplateFunctionError) in try TemplateFunctions.parseDuration(text) },
                "not a valid duration string: \"\(text)\"")
        }
        XCTAssertEqual(failure { () throws(TemplateFunctionError) in try TemplateFunctions.parseDuration("") }, "empty duration string")
        for text in ["9223372037s", "106752d", "106751d23h48m", "99999999999999999999s"] {
            XCTAssertEqual(
                failure { () throws(TemplateFunctionError) in try TemplateFunctions.parseDuration(text) }, "duration out of range", text)
        }
    }

    // MARK: strings

    /// `title` (strings.Title).
    func testTitle() {
        let cases: [(String, String)] = [
            ("aa bb CC", "Aa Bb CC"), ("foo-bar", "Foo-Bar"), ("o'neil", "O'Neil"), ("aa_bb", "Aa_bb"),
            ("3dx y", "3dx Y"), ("ßa éb", "ßa Éb"), ("a.b,c", "A.B,C"), ("hello\u{a0}world", "Hello\u{a0}World"),
            ("x1y z", "X1y Z"), ("ǆa", "ǅa"), ("", ""), ("αβ γδ", "Αβ Γδ"), ("a\u{200b}b", "A\u{200b}b"),
        ]
        for (input, expected) in cases {
            XCTAssertEqual(TemplateFunctions.title(input), expected, input)
        }
    }

    /// `stripPort` (net.SplitHostPort's host, else the input).
    func testStripPort() {
        let cases: [(String, String)] = [
            ("foo.example.com:12345", "foo.example.com"), ("[2001:db8::1]:1", "2001:db8::1"), ("2001:0DB8::1", "2001:0DB8::1"),
            ("[::1]::1", "[::1]::1"), ("foo", "foo"), ("foo:", "foo"), (":80", ""), ("[foo]bar:80", "[foo]bar:80"),
            ("a]:80", "a]:80"), ("[a]", "[a]"),
        ]
        for (input, expected) in cases {
            XCTAssertEqual(TemplateFunctions.stripPort(input), expected, input)
        }
    }

    /// `stripDomain`: the first label of a host name, IP addresses unchanged.
    func testStripDomain() {
        let cases: [(String, String)] = [
            ("foo.example.com", "foo"), ("foo.example.com:12345", "foo:12345"), ("192.0.2.1:12345", "192.0.2.1:12345"),
            ("[2001:0DB8::1]:12345", "[2001:0DB8::1]:12345"), ("192.0.2.1", "192.0.2.1"), ("192.0.2.01", "192"),
            ("1.2.3.256", "1"), ("::ffff:1.2.3.4", "::ffff:1.2.3.4"), ("1:2:3:4:5:1.2.3.4", "1:2:3:4:5:1"),
            ("[a:b.c]:80", "[a:b]:80"), ("foo.bar.baz:", "foo"), ("fe80::1%eth0.x", "fe80::1%eth0"),
        ]
        for (input, expected) in cases {
            XCTAssertEqual(TemplateFunctions.stripDomain(input), expected, input)
        }
    }

    /// `graphLink`, `tableLink` and `urlquery` (url.QueryEscape).
    func testLinksAndQueryEscape() {
        XCTAssertEqual(TemplateFunctions.graphLink(#"rate(x{job="a b"}[5m])"#), "/graph?g0.expr=rate%28x%7Bjob%3D%22a+b%22%7D%5B5m%5D%29&g0.tab=0")
        XCTAssertEqual(TemplateFunctions.tableLink("up == 0"), "/graph?g0.expr=up+%3D%3D+0&g0.tab=1")
        XCTAssertEqual(TemplateFunctions.queryEscape("a b&c=d/e?f+g~h_i.j-k%l"), "a+b%26c%3Dd%2Fe%3Ff%2Bg~h_i.j-k%25l")
        XCTAssertEqual(TemplateFunctions.queryEscape("é{}\"'"), "%C3%A9%7B%7D%22%27")
    }

    /// `html` and `js` escapers.
    func testEscapers() {
        XCTAssertEqual(TemplateFunctions.html("<a href='x'>&\"\u{0}"), "&lt;a href=&#39;x&#39;&gt;&amp;&#34;\u{FFFD}")
        XCTAssertEqual(
            TemplateFunctions.js("<a href='x'>&=\"\\\n\t\u{7f}\u{85}é"),
            #"\u003Ca href\u003D\'x\'\u003E\u0026\u003D\"\\\u000A\u0009"# + "\u{7f}" + #"\u0085é"#)
        XCTAssertEqual(TemplateFunctions.js("\u{a0}\u{ad}😀\u{2028}\u{1}"), #"\u00A0\u00AD😀\u2028\u0001"#)
    }

    // MARK: query results

    /// `first`, `label`, `value`, `strvalue`, `sortByLabel`, `args`.
    func testQueryResultFunctions() throws {
        let a = sample([("job", "b"), ("i", "1")], 1)
        let b = sample([("job", "a")], 2)
        let c = sample([("job", "b"), ("i", "2")], 3)
        XCTAssertEqual(failure { () throws(TemplateFunctionError) in try TemplateFunctions.first([]) }, "first() called on vector with no elements")
        let head = try TemplateFunctions.first([a, b])
        XCTAssertEqual(TemplateFunctions.label("job", head), "b")
        XCTAssertEqual(TemplateFunctions.label("nope", head), "")
        XCTAssertEqual(TemplateFunctions.value(head), 1)
        XCTAssertEqual(TemplateFunctions.strvalue(head), "")
        let sorted = TemplateFunctions.sortByLabel("job", [a, b, c]).map(TemplateFunctions.value)
        XCTAssertEqual(sorted, [2, 1, 3])
        XCTAssertEqual(TemplateFunctions.args([.int(1), .string("a")]).printed, "map[arg0:1 arg1:a]")
    }
}
