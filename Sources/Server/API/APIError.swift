import Hummingbird
import PromQL

/// An API error in Prometheus' envelope: `{"status":"error","errorType":…,"error":…}`.
struct APIError: Error {
    enum Kind: String {
        case badData = "bad_data"
        case execution
        case timeout
        case canceled
        case internalError = "internal"
        case unavailable
        case notFound = "not_found"
    }

    let kind: Kind
    let message: String

    static func badData(_ m: String) -> APIError { APIError(kind: .badData, message: m) }

    init(kind: Kind, message: String) {
        self.kind = kind
        self.message = message
    }

    init(_ e: QueryError) {
        switch e {
        case .parse, .badData: kind = .badData
        case .timeout: kind = .timeout
        case .canceled: kind = .canceled
        case .tooManySamples, .execution: kind = .execution
        }
        message = e.description
    }

    /// The status codes Prometheus uses for each kind.
    var status: HTTPResponse.Status {
        switch kind {
        case .badData: .badRequest
        case .execution: .unprocessableContent
        case .timeout, .canceled, .unavailable: .serviceUnavailable
        case .internalError: .internalServerError
        case .notFound: .notFound
        }
    }

    var json: [UInt8] {
        var w = JSONWriter()
        w.raw("{\"status\":\"error\",\"errorType\":")
        w.string(kind.rawValue)
        w.raw(",\"error\":")
        w.string(message)
        w.raw("}")
        return w.bytes
    }
}
