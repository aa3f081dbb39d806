import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A Kubernetes resource discovery reads: its API path and kind.
public struct KubernetesResource: Sendable, Hashable {
    /// `api/v1` or `apis/<group>/<version>`.
    public var groupVersion: String
    /// Plural, as in the URL: `pods`, `endpointslices`.
    public var plural: String

    public static let pods = KubernetesResource(groupVersion: "api/v1", plural: "pods")
    public static let nodes = KubernetesResource(groupVersion: "api/v1", plural: "nodes")
    public static let services = KubernetesResource(groupVersion: "api/v1", plural: "services")
    public static let endpoints = KubernetesResource(groupVersion: "api/v1", plural: "endpoints")
    public static let endpointSlices = KubernetesResource(groupVersion: "apis/discovery.k8s.io/v1", plural: "endpointslices")
    public static let ingresses = KubernetesResource(groupVersion: "apis/networking.k8s.io/v1", plural: "ingresses")

    /// Nodes are cluster-scoped: a namespace does not apply.
    var isNamespaced: Bool { plural != "nodes" }

    func path(namespace: String?) -> String {
        guard let namespace, isNamespaced else { return "/\(groupVersion)/\(plural)" }
        return "/\(groupVersion)/namespaces/\(namespace)/\(plural)"
    }
}

/// What went wrong talking to the API server.
public enum KubernetesAPIError: Error, CustomStringConvertible, Equatable {
    /// An HTTP status other than 200 (410 included), with the server's message and Retry-After.
    case status(code: Int, message: String, retryAfter: Double?)
    /// A watch `ERROR` event (its Status object's code and message).
    case watchError(code: Int, message: String)
    /// A watch event line longer than the bound.
    case eventTooLarge(Int)
    case decoding(String)
    case credentials(String)

    public var description: String {
        switch self {
        case .status(let code, let message, _): return "HTTP \(code)" + (message.isEmpty ? "" : ": \(message)")
        case .watchError(let code, let message): return "watch error \(code): \(message)"
        case .eventTooLarge(let n): return "a watch event is longer than \(n) bytes"
        case .decoding(let message): return "cannot decode the answer: \(message)"
        case .credentials(let message): return message
        }
    }

    /// 410 Gone (as a status or a watch event): the resource version is too old, list again.
    var isGone: Bool {
        switch self {
        case .status(410, _, _), .watchError(410, _): return true
        default: return false
        }
    }
}

/// Lists and watches one API server with its own HTTP client and credentials (read at every
/// request, so a rotated token file is picked up).
public final class KubernetesAPIClient: Sendable {
    let connection: KubernetesConnection
    let http: HTTPClient
    let baseURL: String
    /// Bounds: a list page's body and one watch event line.
    static let maxPageBytes = 512 << 20
    static let maxEventBytes = 16 << 20

    public init(connection: KubernetesConnection) throws {
        self.connection = connection
        (http, baseURL) = try connection.makeClient()
    }

    public func shutdown() async { try? await http.shutdown() }

    func request(_ path: String, query: [(String, String)]) throws -> HTTPClientRequest {
        let q = QueryEscape.query(query.map { (name: $0.0, value: $0.1) })
        var r = HTTPClientRequest(url: baseURL + path + (q.isEmpty ? "" : "?" + q))
        r.headers.add(name: "Accept", value: "application/json")
        r.headers.add(name: "User-Agent", value: "Sextant/0.1 (kubernetes discovery)")
        do {
            if let auth = try connection.credentials.header() { r.headers.add(name: "Authorization", value: auth) }
        } catch {
            throw KubernetesAPIError.credentials("\(error)")
        }
        return r
    }

    /// GET, failing on any status but 200 with the server's message.
    func get(_ path: String, query: [(String, String)], timeout: TimeAmount) async throws -> HTTPClientResponse {
        let response = try await http.execute(try request(path, query: query), timeout: timeout)
        guard response.status == .ok else {
            let body = try? await response.body.collect(upTo: 64 << 10)
            let message = body.flatMap { try? JSONDecoder().decode(StatusObject.self, from: Data($0.readableBytesView)).message } ?? ""
            throw KubernetesAPIError.status(code: Int(response.status.code), message: message,
                                            retryAfter: response.headers.first(name: "Retry-After").flatMap(Double.init))
        }
        return response
    }

    /// One page of a list.
    func listPage<Object: Decodable>(_ path: String, query: [(String, String)], as: Object.Type) async throws -> ObjectList<Object> {
        let response = try await get(path, query: query, timeout: .seconds(60))
        let body = try await response.body.collect(upTo: Self.maxPageBytes)
        do { return try JSONDecoder().decode(ObjectList<Object>.self, from: Data(body.readableBytesView)) } catch {
            throw KubernetesAPIError.decoding("\(error)")
        }
    }

    /// A watch from `version`, each event handed over as it arrives; returns the last
    /// resource version seen when the server ends the stream.
    func watch<Object: Decodable>(_ path: String, query: [(String, String)], timeoutSeconds: Int, as: Object.Type,
                                  onEvent: (WatchEvent<Object>) throws -> Void) async throws {
        let response = try await get(path, query: query, timeout: .seconds(Int64(timeoutSeconds) + 30))
        var lines = WatchLineReader(limit: Self.maxEventBytes)
        for try await chunk in response.body {
            try lines.feed(chunk.readableBytesView) { line in
                let event: WatchEvent<Object>
                do { event = try JSONDecoder().decode(WatchEvent<Object>.self, from: line) } catch {
                    throw KubernetesAPIError.decoding("\(error)")
                }
                if case .error(let status) = event {
                    throw KubernetesAPIError.watchError(code: status.code ?? 0, message: status.message ?? "")
                }
                try onEvent(event)
            }
        }
    }
}

/// Splits a watch stream into lines, holding at most `limit` bytes of an unfinished line.
struct WatchLineReader {
    let limit: Int
    var carry: [UInt8] = []

    mutating func feed<Bytes: Collection>(_ bytes: Bytes, _ line: (Data) throws -> Void) throws where Bytes.Element == UInt8 {
        var start = bytes.startIndex
        var i = start
        while i != bytes.endIndex {
            if bytes[i] == 10 {
                if carry.isEmpty {
                    if start != i { try line(Data(bytes[start..<i])) }
                } else {
                    carry.append(contentsOf: bytes[start..<i])
                    try line(Data(carry))
                    carry.removeAll(keepingCapacity: true)
                }
                start = bytes.index(after: i)
            }
            i = bytes.index(after: i)
        }
        if start != bytes.endIndex {
            guard carry.count + bytes.distance(from: start, to: bytes.endIndex) <= limit else { throw KubernetesAPIError.eventTooLarge(limit) }
            carry.append(contentsOf: bytes[start...])
        }
    }
}
