import Foundation
import PromQL
import TSDB

/// Reads the Prometheus API's query answer back into a query value.
enum QueryAnswer {
    static func decode(_ data: Data) throws -> QueryValue {
        guard let top = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw QueryFailure(errorType: "client", message: "the server's answer is not JSON: \(String(decoding: data.prefix(200), as: UTF8.self))")
        }
        if top["status"] as? String != "success" {
            throw QueryFailure(errorType: top["errorType"] as? String ?? "error", message: top["error"] as? String ?? "unknown error")
        }
        guard let body = top["data"] as? [String: Any], let type = body["resultType"] as? String else {
            throw malformed("no data.resultType")
        }
        let result = body["result"]
        switch type {
        case "scalar", "string":
            guard let pair = result as? [Any], pair.count == 2, let t = time(pair[0]), let s = pair[1] as? String else {
                throw malformed("bad \(type)")
            }
            if type == "string" { return .string(t: t, s: s) }
            guard let v = Double(s) else { throw malformed("bad scalar value \(s)") }
            return .scalar(t: t, v: v)
        case "vector":
            guard let list = result as? [[String: Any]] else { throw malformed("bad vector") }
            return .vector(try list.map { item in
                guard let (t, v) = point(item["value"]) else { throw malformed("bad sample") }
                return InstantSample(labels: try labels(item["metric"]), t: t, v: v)
            })
        case "matrix":
            guard let list = result as? [[String: Any]] else { throw malformed("bad matrix") }
            return .matrix(try list.map { item in
                guard let values = item["values"] as? [Any] else { throw malformed("bad series") }
                var ts: [Int64] = [], vs: [Double] = []
                for p in values {
                    guard let (t, v) = point(p) else { throw malformed("bad point") }
                    ts.append(t)
                    vs.append(v)
                }
                return SeriesPoints(labels: try labels(item["metric"]), timestamps: ts, values: vs)
            })
        default:
            throw malformed("unknown resultType \(type)")
        }
    }

    static func malformed(_ what: String) -> QueryFailure {
        QueryFailure(errorType: "client", message: "unexpected answer from the server: \(what)")
    }

    static func time(_ any: Any) -> Int64? {
        guard let n = any as? NSNumber else { return nil }
        return Int64((n.doubleValue * 1000).rounded())
    }

    static func point(_ any: Any?) -> (Int64, Double)? {
        guard let pair = any as? [Any], pair.count == 2, let t = time(pair[0]),
              let s = pair[1] as? String, let v = Double(s) else { return nil }
        return (t, v)
    }

    static func labels(_ any: Any?) throws -> Labels {
        guard let map = any as? [String: String] else { throw malformed("bad metric") }
        return Labels(map)
    }
}
