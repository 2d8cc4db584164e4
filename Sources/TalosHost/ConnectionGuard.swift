import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import Synchronization
import TalosCore

/// Connection limits of the API listener (spec §15.3), shared by every connection of one listener.
final class ConnectionLimits: Sendable {
    /// The largest request header block accepted; larger → 431.
    static let maxHeaderBytes = 16 * 1024

    let maxConnections: Int
    let readTimeout: Duration
    let idleTimeout: Duration
    private let open = Atomic<Int>(0)

    init(maxConnections: Int, readTimeout: Duration, idleTimeout: Duration) {
        self.maxConnections = maxConnections
        self.readTimeout = readTimeout
        self.idleTimeout = idleTimeout
    }

    /// Counts a new connection; `false` when it is over the cap (it must be closed, and `closed()` still called).
    func opened() -> Bool { open.wrappingAdd(1, ordering: .relaxed).newValue <= maxConnections }

    func closed() { open.wrappingSubtract(1, ordering: .relaxed) }
}

/// Hummingbird's HTTP/1 child channel with the connection limits of spec §15.3 around it: a cap on open
/// connections, a deadline for each request's headers and body (408), a 16 KiB header block (431) and the error
/// envelope for requests the HTTP parser refuses (400). The idle timeout is Hummingbird's own.
struct GuardedHTTP1Channel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = HTTP1Channel.Value

    let base: HTTP1Channel
    let limits: ConnectionLimits

    init(responder: @escaping HTTPChannelHandler.Responder, limits: ConnectionLimits) {
        let decoder = HTTP1Channel.Configuration.DecoderConfiguration(
            maxHeaderFieldSize: ConnectionLimits.maxHeaderBytes,
            maxHeaderListSize: ConnectionLimits.maxHeaderBytes
        )
        self.base = HTTP1Channel(
            responder: responder,
            configuration: .init(idleTimeout: TimeAmount(limits.idleTimeout), httpDecoderConfiguration: decoder)
        )
        self.limits = limits
    }

    var responder: HTTPChannelHandler.Responder { base.responder }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let connection: NIOLoopBound<ConnectionGuard>
        do {
            let handler = ConnectionGuard(limits: limits)
            try channel.pipeline.syncOperations.addHandler(handler, position: .first)
            connection = NIOLoopBound(handler, eventLoop: channel.eventLoop)
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        return base.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let pipeline = channel.pipeline.syncOperations
            let codec = try pipeline.handler(type: HTTP1ToHTTPServerCodec.self)
            try pipeline.addHandler(RequestObserver(connection: connection.value), position: .after(codec))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

/// First in the pipeline, on raw bytes: counts the connection, starts the read deadline when the first byte of a
/// request arrives, and writes the transport-level error responses itself (they bypass the HTTP encoder because
/// the request they answer never reached the application).
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let limits: ConnectionLimits
    private var counted = false
    private var readingRequest = false
    private var finished = false
    private var deadline: Scheduled<Void>?

    init(limits: ConnectionLimits) { self.limits = limits }

    func channelActive(context: ChannelHandlerContext) {
        counted = true
        guard limits.opened() else {
            finished = true
            context.close(promise: nil)
            return
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if counted {
            counted = false
            limits.closed()
        }
        deadline?.cancel()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !finished else { return }
        if !readingRequest {
            readingRequest = true
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            deadline = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(limits.readTimeout)) { [self] in
                reject(
                    context: loopBound.value,
                    status: .requestTimeout,
                    error: TalosError(.deadlineExceeded, "request not received within the read timeout")
                )
            }
        }
        context.fireChannelRead(data)
    }

    /// The request's last part has been decoded.
    func requestReceived() {
        readingRequest = false
        deadline?.cancel()
        deadline = nil
    }

    /// Answers with the error envelope and closes the connection; inbound data after this is dropped.
    func reject(context: ChannelHandlerContext, status: HTTPResponse.Status, error: TalosError) {
        guard !finished else { return }
        finished = true
        deadline?.cancel()
        let requestID = RequestIDMiddleware.newRequestID()
        let (_, body) = ErrorEnvelope.body(error, requestID: requestID, httpOverride: status)
        let bytes = body.serialized()
        var head = "HTTP/1.1 \(status.code) \(status.reasonPhrase)\r\n"
        head += "Content-Type: application/json; charset=utf-8\r\nContent-Length: \(bytes.count)\r\n"
        head += "Connection: close\r\nX-Request-ID: \(requestID)\r\nX-Content-Type-Options: nosniff\r\n"
        head += "Cache-Control: no-store\r\n\r\n"
        var buffer = context.channel.allocator.buffer(capacity: head.utf8.count + bytes.count)
        buffer.writeString(head)
        buffer.writeBytes(bytes)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in channel.close(promise: nil) }
    }
}

/// Right after the HTTP codec: tells the guard when a request has been received completely, and turns parser
/// errors into enveloped 400/431 responses. When the error follows complete, still unanswered requests (pipelined in
/// the same packet), their responses are written first and the rejection after the last of them.
final class RequestObserver: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let connection: ConnectionGuard
    /// Requests whose head arrived and whose response has not ended.
    private var unanswered = 0
    /// Whether a request's head arrived and its end has not.
    private var readingRequest = false
    /// Whether a response has started and not ended.
    private var responding = false
    /// A parser rejection waiting for the unanswered requests before it.
    private var deferred: (status: HTTPResponse.Status, error: TalosError)?

    init(connection: ConnectionGuard) { self.connection = connection }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head) where head.method == .connect:
            // No route serves CONNECT, and the HTTP encoder would frame any answer to it as a tunnel (no body):
            // answer here, with the envelope, and close.
            if unanswered == 0 {
                reject(context: context, status: .notFound, error: TalosError(.notFound, "route not found"))
            } else {
                deferred = (.notFound, TalosError(.notFound, "route not found"))
            }
            return
        case .head:
            unanswered += 1
            readingRequest = true
        case .end:
            readingRequest = false
            connection.requestReceived()
        case .body: break
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let part = unwrapOutboundIn(data)
        switch part {
        case .head: responding = true
        case .end:
            responding = false
            unanswered -= 1
        case .body: break
        }
        context.write(data, promise: promise)
        if case .end = part, unanswered == 0, let deferred {
            self.deferred = nil
            reject(context: context, status: deferred.status, error: deferred.error)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        let rejection: (status: HTTPResponse.Status, error: TalosError) =
            switch parserError {
            case .headerOverflow:
                (
                    .requestHeaderFieldsTooLarge,
                    TalosError(
                        .invalidArgument,
                        "request header block exceeds \(ConnectionLimits.maxHeaderBytes) bytes"
                    )
                )
            default: (.badRequest, TalosError(.invalidArgument, "malformed HTTP request"))
            }
        if readingRequest, responding {
            // The broken request's own response has started: nothing more can be written in order.
            context.close(promise: nil)
        } else if unanswered > (readingRequest ? 1 : 0) {
            deferred = rejection
        } else {
            reject(context: context, status: rejection.status, error: rejection.error)
        }
    }

    private func reject(context: ChannelHandlerContext, status: HTTPResponse.Status, error: TalosError) {
        guard let guardContext = try? context.pipeline.syncOperations.context(handler: connection) else {
            context.close(promise: nil)
            return
        }
        connection.reject(context: guardContext, status: status, error: error)
    }
}
