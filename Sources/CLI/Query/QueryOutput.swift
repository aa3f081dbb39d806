import PromQL
import Server
import TSDB

/// Prints a query value as an aligned table, the API's JSON, or CSV (`series,timestamp,value`),
/// one row per sample, times in Unix seconds.
enum QueryOutput {
    static func render(_ value: QueryValue, as format: QueryOutputFormat) -> String {
        if format == .json { return String(decoding: value.apiJSON, as: UTF8.self) + "\n" }
        let rows = self.rows(value)
        switch format {
        case .csv:
            return (["series,timestamp,value"] + rows.map { "\(csvField($0[0])),\($0[1]),\($0[2])" })
                .joined(separator: "\n") + "\n"
        default:
            return textTable([["SERIES", "TIMESTAMP", "VALUE"]] + rows)
        }
    }

    /// Series text, time and value of every sample.
    static func rows(_ value: QueryValue) -> [[String]] {
        switch value {
        case .scalar(let t, let v): [["scalar", formatSeconds(t), formatValue(v)]]
        case .string(let t, let s): [["string", formatSeconds(t), s]]
        case .vector(let samples): samples.map { [$0.labels.description, formatSeconds($0.t), formatValue($0.v)] }
        case .matrix(let series):
            series.flatMap { s in
                s.timestamps.indices.map { [s.labels.description, formatSeconds(s.timestamps[$0]), formatValue(s.values[$0])] }
            }
        }
    }

    static func csvField(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
