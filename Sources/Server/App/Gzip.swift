import CZlib
import Hummingbird

/// Compresses responses with gzip when the client sends `Accept-Encoding: gzip`.
struct GzipMiddleware: RouterMiddleware {
    /// Whether the client accepts a gzipped answer.
    static func accepts(_ request: Request) -> Bool {
        request.headers[.acceptEncoding]?.contains("gzip") == true
    }

    func handle(_ request: Request, context: BasicRequestContext,
                next: (Request, BasicRequestContext) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        guard Self.accepts(request), response.headers[.contentEncoding] == nil else { return response }
        let collector = Collector()
        try await response.body.write(CollectingWriter(collector: collector))
        guard let compressed = gzip(collector.bytes) else {
            response.body = ResponseBody(byteBuffer: ByteBuffer(bytes: collector.bytes))
            return response
        }
        response.headers[.contentEncoding] = "gzip"
        response.headers[.contentLength] = nil
        response.body = ResponseBody(byteBuffer: ByteBuffer(bytes: compressed))
        return response
    }

    /// Owned by the one response being compressed: its writer appends, then the middleware
    /// reads after the writer has finished.
    final class Collector: @unchecked Sendable {
        var bytes: [UInt8] = []
    }

    struct CollectingWriter: ResponseBodyWriter {
        let collector: Collector
        mutating func write(_ buffer: ByteBuffer) async throws { collector.bytes.append(contentsOf: buffer.readableBytesView) }
        consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }
}

/// gzip (RFC 1952) of `input` through zlib; nil if zlib fails.
func gzip(_ input: [UInt8], level: Int32 = 6) -> [UInt8]? {
    var stream = z_stream()
    // windowBits 15 + 16 asks zlib for a gzip header and trailer.
    guard deflateInit2_(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION,
                        Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return nil }
    defer { deflateEnd(&stream) }
    var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(input.count))) + 32)
    guard input.count <= Int(UInt32.max) else { return nil }      // zlib counts in 32 bits
    var input = input
    let result: Int32 = input.withUnsafeMutableBufferPointer { inBuf in
        output.withUnsafeMutableBufferPointer { outBuf in
            stream.next_in = inBuf.baseAddress
            stream.avail_in = UInt32(inBuf.count)
            stream.next_out = outBuf.baseAddress
            stream.avail_out = UInt32(outBuf.count)
            return deflate(&stream, Z_FINISH)
        }
    }
    guard result == Z_STREAM_END else { return nil }
    output.removeLast(output.count - Int(stream.total_out))
    return output
}

/// gunzip, for tests and for compressed request bodies.
public func gunzip(_ input: [UInt8]) -> [UInt8]? {
    var stream = z_stream()
    guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return nil }
    defer { inflateEnd(&stream) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 64 << 10)
    var input = input
    var status: Int32 = Z_OK
    input.withUnsafeMutableBufferPointer { inBuf in
        stream.next_in = inBuf.baseAddress
        stream.avail_in = UInt32(inBuf.count)
        repeat {
            let produced: Int = chunk.withUnsafeMutableBufferPointer { c in
                stream.next_out = c.baseAddress
                stream.avail_out = UInt32(c.count)
                status = inflate(&stream, Z_NO_FLUSH)
                return c.count - Int(stream.avail_out)
            }
            out.append(contentsOf: chunk[0..<produced])
        } while status == Z_OK
    }
    return status == Z_STREAM_END ? out : nil
}
