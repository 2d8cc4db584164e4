import HTTPTypes
import Hummingbird
import TalosCore

/// Gives every request an id: a well-formed `X-Request-ID` is kept, anything else replaced by a new UUID; the id is
/// echoed on the response and carried in the error envelope and the access log.
struct RequestIDMiddleware: RouterMiddleware {
    typealias Context = TalosRequestContext

    static let header = HTTPField.Name("X-Request-ID")!

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        context.requestID = Self.requestID(from: request)
        var response = try await next(request, context)
        response.headers[Self.header] = context.requestID
        return response
    }

    static func requestID(from request: Request) -> String {
        if let given = request.headers[header], (1...128).contains(given.utf8.count),
            given.utf8.allSatisfy({
                ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A)
                    || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ":")
                    || $0 == UInt8(ascii: "-")
            })
        {
            return given
        }
        return newRequestID()
    }

    /// A fresh request id. Request ids need uniqueness, not secrecy: two 64-bit draws instead of a CSPRNG call per
    /// byte.
    static func newRequestID() -> String {
        var generator = SystemRandomNumberGenerator()
        let (high, low) = (generator.next() as UInt64, generator.next() as UInt64)
        return UUIDText.v4(
            randomBytes: (0..<16).map {
                UInt8(truncatingIfNeeded: ($0 < 8 ? high : low) >> (UInt64($0 % 8) * 8))
            }
        )
    }
}
