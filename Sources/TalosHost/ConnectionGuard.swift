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

/// Hummingbird's HTTP/1 child channel with the connection limits of spec §15.3 and §16.13–16.14 around it: a cap on
/// open connections, a deadline for each request's headers and body (408), a 16 KiB header block (431), the error
/// envelope for requests the HTTP parser refuses (400), one authority per request (400), only the `chunked`
/// transfer coding (501), at most 16 pipelined requests in progress, and a connection whose pending output makes
/// no progress for the idle timeout is closed. The idle timeout between requests is Hummingbird's own.
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
            // Before the HTTP-types codec: the observer sees the request head as it was on the wire (every Host
            // field, the request target's form, Transfer-Encoding), before the codec folds it into an authority.
            let codec = try pipeline.handler(type: HTTP1ToHTTPServerCodec.self)
            try pipeline.addHandler(RequestObserver(connection: connection.value), position: .before(codec))
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
    /// While the channel is not writable: the check that closes it when its output made no progress.
    private var stallWatch: Scheduled<Void>?

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
        stallWatch?.cancel()
        context.fireChannelInactive()
    }

    /// A peer that sends requests and never reads their responses (spec §16.14): once the output buffer is over
    /// its high-water mark the channel turns unwritable, and if after the idle timeout it still is and its buffered
    /// bytes did not fall, the connection is closed; any progress starts a new period.
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            stallWatch?.cancel()
            stallWatch = nil
        } else if stallWatch == nil {
            watchStall(context: context, buffered: Self.bufferedBytes(context))
        }
        context.fireChannelWritabilityChanged()
    }

    private func watchStall(context: ChannelHandlerContext, buffered: Int) {
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        stallWatch = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(limits.idleTimeout)) { [self] in
            let context = loopBound.value
            stallWatch = nil
            guard !context.channel.isWritable else { return }
            let now = Self.bufferedBytes(context)
            if now < buffered {
                watchStall(context: context, buffered: now)
            } else {
                finished = true
                context.close(promise: nil)
            }
        }
    }

    private static func bufferedBytes(_ context: ChannelHandlerContext) -> Int {
        (try? context.channel.syncOptions?.getOption(.bufferedWritableBytes)) ?? 0
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

    /// Answers with the error envelope (only its head to a HEAD request, RFC 9110 §9.3.2) and closes the connection;
    /// inbound data after this is dropped.
    func reject(
        context: ChannelHandlerContext,
        status: HTTPResponse.Status,
        error: TalosError,
        head isHead: Bool = false
    ) {
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
        if !isHead { buffer.writeBytes(bytes) }
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in channel.close(promise: nil) }
    }
}

/// Between the HTTP/1 parser and the HTTP-types codec, on the request as it was on the wire: tells the guard when a
/// request has been received completely; refuses what must not reach the application (CONNECT, no `Host` or several,
/// a transfer coding other than `chunked`); gives an absolute-form target's authority to `Host` (RFC 9112 §3.2.2);
/// holds pipelined requests beyond 16 in progress and stops reading until they are answered; and turns parser
/// errors into enveloped 400/431 responses. A refusal that follows complete, still unanswered requests (pipelined in
/// the same packet) is written after their responses.
final class RequestObserver: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// Requests passed on to the application and not yet answered, at most (spec §16.14).
    static let maxPipelined = 16

    private let connection: ConnectionGuard
    /// Requests whose head was passed on and whose response has not ended.
    private var unanswered = 0
    /// Whether a passed-on request's head arrived and its end has not.
    private var readingRequest = false
    /// Whether a response has started and not ended.
    private var responding = false
    /// A rejection waiting for the unanswered requests before it.
    private var deferred: (status: HTTPResponse.Status, error: TalosError, head: Bool)?
    /// Parts of requests beyond `maxPipelined`, in order, waiting for answers to the earlier ones.
    private var held = CircularBuffer<HTTPServerRequestPart>()
    /// Whether a `read()` was withheld while parts were held.
    private var readPending = false
    /// After a refusal: the rest of the connection's input is dropped.
    private var refused = false

    init(connection: ConnectionGuard) { self.connection = connection }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        let part = unwrapInboundIn(data)
        if !held.isEmpty || (unanswered >= Self.maxPipelined && !readingRequest) {
            held.append(part)
        } else {
            pass(part, context: context)
        }
    }

    func read(context: ChannelHandlerContext) {
        if held.isEmpty {
            context.read()
        } else {
            readPending = true
        }
    }

    private func pass(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch part {
        case .head(var head):
            if let refusal = Self.refusal(of: &head) {
                refuse(context: context, status: refusal.status, error: refusal.error, head: head.method == .HEAD)
                return
            }
            unanswered += 1
            readingRequest = true
            context.fireChannelRead(wrapInboundOut(.head(head)))
        case .body:
            context.fireChannelRead(wrapInboundOut(part))
        case .end:
            readingRequest = false
            connection.requestReceived()
            context.fireChannelRead(wrapInboundOut(part))
        }
    }

    /// Why a request head must not reach the application, if it must not; an absolute-form target is rewritten to
    /// origin form with its authority as the one `Host`.
    static func refusal(of head: inout HTTPRequestHead) -> (status: HTTPResponse.Status, error: TalosError)? {
        // No route serves CONNECT, and the HTTP encoder would frame any answer to it as a tunnel (no body).
        if head.method == .CONNECT { return (.notFound, TalosError(.notFound, "route not found")) }
        let codings = head.headers["Transfer-Encoding"].flatMap { $0.split(separator: ",") }.map {
            String($0).trimmingSpaces.lowercased()
        }
        if !codings.isEmpty, codings != ["chunked"] {
            return (
                .notImplemented,
                TalosError(.unimplemented, "transfer coding \"\(codings.joined(separator: ", "))\" is not supported")
            )
        }
        if let (authority, target) = absoluteForm(head.uri) {
            guard !authority.isEmpty else {
                return (.badRequest, TalosError(.invalidArgument, "request target has no authority"))
            }
            head.uri = target
            head.headers.replaceOrAdd(name: "Host", value: authority)
        }
        let hosts = head.headers["Host"].count
        if hosts > 1 { return (.badRequest, TalosError(.invalidArgument, "request has more than one Host header")) }
        // HTTP/1.0 predates Host: such a request is served (on the listener's default tenant rules).
        if hosts == 0, head.version.major > 1 || (head.version.major == 1 && head.version.minor >= 1) {
            return (.badRequest, TalosError(.invalidArgument, "request has no Host header"))
        }
        return nil
    }

    /// `http://authority/path?query` → (`authority`, `/path?query`); `nil` for any other form.
    static func absoluteForm(_ uri: String) -> (authority: String, target: String)? {
        let lowered = uri.prefix(8).lowercased()
        let schemeLength = lowered.hasPrefix("http://") ? 7 : lowered.hasPrefix("https://") ? 8 : 0
        guard schemeLength > 0 else { return nil }
        let rest = uri.dropFirst(schemeLength)
        let end = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let authority = String(rest[..<end].split(separator: "@").last ?? "")
        var target = String(rest[end...])
        if !target.hasPrefix("/") { target = "/" + target }
        return (authority, target)
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
        guard case .end = part else { return }
        if unanswered == 0, let deferred {
            self.deferred = nil
            reject(context: context, status: deferred.status, error: deferred.error, head: deferred.head)
        } else {
            release(context: context)
        }
    }

    /// Passes held parts on while fewer than `maxPipelined` requests are in progress; reading resumes once none is
    /// held.
    private func release(context: ChannelHandlerContext) {
        guard !held.isEmpty else { return }
        while let part = held.first {
            if case .head = part, unanswered >= Self.maxPipelined { break }
            held.removeFirst()
            pass(part, context: context)
        }
        // The async channel hands reads on at read-complete: without it the parts just passed would wait.
        context.fireChannelReadComplete()
        guard held.isEmpty, !refused else { return }
        if readPending {
            readPending = false
            context.read()
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
        // Complete requests held before the broken one are answered first; a partial one is dropped.
        while let last = held.last, !Self.isEnd(last) { held.removeLast() }
        if !held.isEmpty {
            refused = true
            deferred = (rejection.status, rejection.error, false)
        } else if readingRequest, responding {
            // The broken request's own response has started: nothing more can be written in order.
            context.close(promise: nil)
        } else if unanswered > (readingRequest ? 1 : 0) {
            refused = true
            deferred = (rejection.status, rejection.error, false)
        } else {
            reject(context: context, status: rejection.status, error: rejection.error)
        }
    }

    private static func isEnd(_ part: HTTPServerRequestPart) -> Bool {
        if case .end = part { true } else { false }
    }

    /// Refuses the request whose head just arrived: now when nothing is unanswered, else after the earlier answers.
    private func refuse(context: ChannelHandlerContext, status: HTTPResponse.Status, error: TalosError, head: Bool) {
        refused = true
        held.removeAll()
        if unanswered == 0 {
            reject(context: context, status: status, error: error, head: head)
        } else {
            deferred = (status, error, head)
        }
    }

    private func reject(
        context: ChannelHandlerContext,
        status: HTTPResponse.Status,
        error: TalosError,
        head: Bool = false
    ) {
        guard let guardContext = try? context.pipeline.syncOperations.context(handler: connection) else {
            context.close(promise: nil)
            return
        }
        connection.reject(context: guardContext, status: status, error: error, head: head)
    }
}
