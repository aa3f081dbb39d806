import Hummingbird

/// A success answer finished where it was computed (on a query thread): the
/// `{"status":"success","data":…}` envelope around `data`, gzipped when the client accepts it,
/// in the buffer the event loop then writes as it is.
struct EncodedAnswer: Sendable {
    let buffer: ByteBuffer
    let gzipped: Bool

    init(data: [UInt8], gzip compress: Bool) {
        var w = JSONWriter(capacity: data.count + 32)
        w.raw("{\"status\":\"success\",\"data\":")
        w.bytes.append(contentsOf: data)
        w.raw("}")
        if compress, let zipped = gzip(w.bytes) {
            buffer = ByteBuffer(bytes: zipped)
            gzipped = true
        } else {
            buffer = ByteBuffer(bytes: w.bytes)
            gzipped = false
        }
    }

    /// A 200 with the JSON body; the gzip middleware leaves an encoded body alone.
    var response: Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if gzipped { headers[.contentEncoding] = "gzip" }
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: buffer))
    }
}
