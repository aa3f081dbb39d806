import Exposition
import Foundation
import Hummingbird
import Remote
import TSDB

/// Prometheus' remote endpoints: the remote write receiver (POST /api/v1/write, behind
/// `--web.enable-remote-write-receiver`) and remote read (POST /api/v1/read).
extension PrometheusAPI {
    func registerRemote(on router: Router<BasicRequestContext>) {
        router.post("/api/v1/write") { request, _ in await remoteWrite(request) }
        router.post("/api/v1/read") { request, _ in await remoteRead(request) }
    }

    /// 204 when every sample was appended; 400 `bad_data` (which senders do not retry) when
    /// the request could not be decoded or some of its samples were refused, the rest being
    /// kept; 503 when the store could not commit (senders retry).
    func remoteWrite(_ request: Request) async -> Response {
        guard options.enableRemoteWriteReceiver else {
            return plain("remote write receiver needs to be enabled with --web.enable-remote-write-receiver\n", .notFound)
        }
        let receiver = WriteReceiver()
        do throws(APIError) {
            let db = try self.db
            let body = try await collect(request, upTo: receiver.maxBodyBytes)
            let metrics = self.metrics
            let outcome = try await requestThreads.run { () -> Result<WriteReceiver.Outcome, APIError> in
                let decoded: Prometheus_WriteRequest
                do { decoded = try receiver.decode(body) } catch {
                    metrics.remoteWriteInvalidRequests.add(1, ordering: .relaxed)
                    return .failure(.badData("\(error)"))
                }
                let app = db.appender()
                let outcome = receiver.append(decoded, to: app)
                do { try app.commit() } catch {
                    return .failure(APIError(kind: .unavailable, message: "committing received samples: \(error)"))
                }
                return .success(outcome)
            }.get()
            metrics.remoteWriteSamples.add(outcome.accepted, ordering: .relaxed)
            metrics.remoteWriteRejected.add(outcome.rejected, ordering: .relaxed)
            for (name, m) in outcome.metadata {
                metadata.record(metric: name, MetricMetadata(type: m.type, help: m.help, unit: m.unit))
            }
            guard outcome.rejected == 0 else {
                throw .badData("\(outcome.rejected) samples refused, \(outcome.accepted) appended: \(outcome.reasons.joined(separator: "; "))")
            }
            return Response(status: .noContent)
        } catch {
            return json(error.json, status: error.status)
        }
    }

    /// Remote read, answered on the remote read threads (`--storage.remote.read-concurrent-limit`
    /// at once, each within `--query.timeout`).
    func remoteRead(_ request: Request) async -> Response {
        metrics.remoteReadQueries.add(1, ordering: .relaxed)
        defer { metrics.remoteReadQueries.subtract(1, ordering: .relaxed) }
        do throws(APIError) {
            let db = try self.db
            let service = ReadService(queryable: db, externalLabels: scraping.externalLabels,
                                      sampleLimit: options.remoteReadSampleLimit,
                                      maxBytesInFrame: options.remoteReadMaxBytesInFrame)
            let body = try await collect(request, upTo: service.maxRequestBytes)
            let decoded: Prometheus_ReadRequest
            let kind: ReadService.ResponseKind
            do {
                decoded = try service.decode(body)
                kind = try ReadService.negotiate(decoded)
            } catch {
                return plain("\(error)\n", .badRequest)
            }
            let maxBytes = options.maxResponseBytes
            let deadline = ContinuousClock.now.advanced(by: options.engine.timeout)
            let answer = await remoteReadLimiter.run(until: deadline) { () -> Result<[[UInt8]], ReadService.Failure> in
                Result { () throws(ReadService.Failure) -> [[UInt8]] in
                    switch kind {
                    case .samples:
                        return [try service.samples(decoded, deadline: deadline, maxResponseBytes: maxBytes)]
                    case .streamedChunks:
                        var frames: [[UInt8]] = [], total = 0
                        try service.streamChunks(decoded, deadline: deadline) { (frame) throws(ReadService.Failure) in
                            total += frame.count
                            guard total <= maxBytes else {
                                throw ReadService.Failure(description: "the streamed answer passed \(maxBytes) bytes (--query.max-response-bytes)", isClientError: true)
                            }
                            frames.append(frame)
                        }
                        return frames
                    }
                }
            }
            guard let answer else { return plain("remote read timed out waiting for a slot (--storage.remote.read-concurrent-limit)\n", .serviceUnavailable) }
            switch answer {
            case .failure(let f):
                return plain("\(f.description)\n", f.isClientError ? .badRequest : .internalServerError)
            case .success(let parts):
                var buffer = ByteBuffer()
                buffer.reserveCapacity(parts.reduce(0) { $0 + $1.count })
                for p in parts { buffer.writeBytes(p) }
                let headers: HTTPFields = kind == .samples
                    ? [.contentType: "application/x-protobuf", .contentEncoding: "snappy"]
                    : [.contentType: "application/x-streamed-protobuf; proto=prometheus.ChunkedReadResponse"]
                return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: buffer))
            }
        } catch {
            return json(error.json, status: error.status)
        }
    }

    /// The whole body, refused with `bad_data` past `limit` bytes.
    func collect(_ request: Request, upTo limit: Int) async throws(APIError) -> [UInt8] {
        var r = request
        do {
            let buffer = try await r.collectBody(upTo: limit)
            return Array(buffer.readableBytesView)
        } catch {
            throw .badData("request body larger than \(limit) bytes or unreadable: \(error)")
        }
    }

    func plain(_ text: String, _ status: HTTPResponse.Status) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
