// Fuzzes the PromQL parser and printer.
//
// Input: query text (invalid UTF-8 is decoded lossily, as an HTTP layer would hand it over).
// Properties: parsing never traps; an expression that parses prints (Printer.swift) to text
// that parses again, to an equal AST, and printing that gives the same text.
import CFuzzMain
@testable import PromQL

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let query = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let expr: Expr
    do { expr = try Parser.parse(query) } catch { return 0 }
    _ = expr.type

    let printed = expr.description
    let reparsed: Expr
    do {
        reparsed = try Parser.parse(printed)
    } catch {
        fatalError("printed expression does not parse: \(error)\n  query:   \(query.debugDescription)\n  printed: \(printed.debugDescription)")
    }
    guard reparsed == expr else {
        fatalError("printed expression parses to another AST\n  query:   \(query.debugDescription)\n  printed: \(printed.debugDescription)\n  first:   \(tree(expr))\n  second:  \(tree(reparsed))")
    }
    let reprinted = reparsed.description
    guard reprinted == printed else {
        fatalError("printing is not stable\n  query:   \(query.debugDescription)\n  printed: \(printed.debugDescription)\n  again:   \(reprinted.debugDescription)")
    }

    // The selector entry point of the API's match[] parameters.
    _ = try? Parser.parseSelector(query)
    return 0
}

/// The AST's structure (its `description` is the printed text).
func tree(_ e: Expr) -> String {
    var out = ""
    dump(e, to: &out)
    return out
}

/// The entry point (SwiftPM links `main` to `<target>_main`): libFuzzer's driver.
@_cdecl("FuzzPromQLParser_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    sextant_run_libfuzzer(argc, argv, fuzz)
}
