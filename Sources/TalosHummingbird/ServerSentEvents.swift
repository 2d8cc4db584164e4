/// An incremental parser of a `text/event-stream` body (WHATWG HTML, "Server-sent events", §9.2.6).
struct ServerSentEventParser {
    /// One dispatched event.
    struct Event: Sendable, Hashable {
        /// `event:` (default `message`).
        var type: String
        /// The `data:` lines joined with `\n`.
        var data: String
        /// The last `id:` seen so far on the stream, if any.
        var lastEventID: String?
    }

    /// A line longer than this ends the stream: the feed sends short lines only.
    static let maxLineBytes = 64 << 10

    struct LineTooLong: Error {}

    private var line: [UInt8] = []
    private var previousWasCR = false
    private var type = ""
    private var data: [String] = []
    private var lastEventID: String?

    /// Consumes `bytes` and returns the events they complete, in order.
    /// - Throws: `LineTooLong` when a line exceeds `maxLineBytes`.
    mutating func consume(_ bytes: some Sequence<UInt8>) throws(LineTooLong) -> [Event] {
        var events: [Event] = []
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\n") where previousWasCR:
                previousWasCR = false
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                previousWasCR = byte == UInt8(ascii: "\r")
                if let event = endLine() { events.append(event) }
            default:
                previousWasCR = false
                guard line.count < Self.maxLineBytes else { throw LineTooLong() }
                line.append(byte)
            }
        }
        return events
    }

    private mutating func endLine() -> Event? {
        defer { line.removeAll(keepingCapacity: true) }
        guard !line.isEmpty else {
            defer {
                type = ""
                data = []
            }
            guard !data.isEmpty else { return nil }
            return Event(
                type: type.isEmpty ? "message" : type,
                data: data.joined(separator: "\n"),
                lastEventID: lastEventID
            )
        }
        if line.first == UInt8(ascii: ":") { return nil }
        let colon = line.firstIndex(of: UInt8(ascii: ":")) ?? line.endIndex
        let name = String(decoding: line[..<colon], as: UTF8.self)
        var valueStart = colon == line.endIndex ? colon : colon + 1
        if valueStart < line.endIndex, line[valueStart] == UInt8(ascii: " ") { valueStart += 1 }
        let value = String(decoding: line[valueStart...], as: UTF8.self)
        switch name {
        case "event": type = value
        case "data": data.append(value)
        case "id" where !value.contains("\u{0}"): lastEventID = value
        default: break
        }
        return nil
    }
}
