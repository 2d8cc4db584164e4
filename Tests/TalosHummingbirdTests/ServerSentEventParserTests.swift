import Testing

@testable import TalosHummingbird

@Suite struct ServerSentEventParserTests {
    @Test func eventsAcrossChunksAndLineEndings() throws {
        var parser = ServerSentEventParser()
        let stream =
            ": connected\n\nid: 7\nevent: revoked\ndata: {\"key_id\":\"a\"}\n\n"
            + "id: 8\r\nevent: revoked\r\ndata: {\"key_id\":\"b\"}\r\n\r\n: keep-alive\n\nevent: reset\rdata: {}\r\r"
        var events: [ServerSentEventParser.Event] = []
        // One byte at a time: every split point, including between "\r" and "\n", must give the same events.
        for byte in stream.utf8 { events += try parser.consume([byte]) }
        #expect(
            events == [
                .init(type: "revoked", data: #"{"key_id":"a"}"#, lastEventID: "7"),
                .init(type: "revoked", data: #"{"key_id":"b"}"#, lastEventID: "8"),
                .init(type: "reset", data: "{}", lastEventID: "8"),
            ]
        )
        var whole = ServerSentEventParser()
        #expect(try whole.consume(Array(stream.utf8)) == events)
    }

    @Test func fieldsFollowTheStandard() throws {
        var parser = ServerSentEventParser()
        // No space after the colon, multi-line data, an event without data (not dispatched), unknown fields.
        let events = try parser.consume(Array("data:one\ndata: two\nretry: 5\n\nevent: empty\n\ndata\n\n".utf8))
        #expect(
            events == [
                .init(type: "message", data: "one\ntwo", lastEventID: nil),
                .init(type: "message", data: "", lastEventID: nil),
            ]
        )
    }

    @Test func overlongLineEndsTheStream() {
        var parser = ServerSentEventParser()
        #expect(throws: ServerSentEventParser.LineTooLong.self) {
            _ = try parser.consume([UInt8](repeating: UInt8(ascii: "a"), count: ServerSentEventParser.maxLineBytes + 1))
        }
    }
}
