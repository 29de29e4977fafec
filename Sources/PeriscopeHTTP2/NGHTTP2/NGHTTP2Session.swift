import CNGHTTP2
import NIOCore

/// The one owner of an `nghttp2_session`: bytes in, events out; submissions in, bytes out.
/// It does no I/O and knows no event loop, so tests drive it directly with byte buffers.
///
/// Re-entrancy. nghttp2 calls back into us from inside `mem_recv` and `mem_send`, and must
/// not be called again from there. The callbacks (NGHTTP2Callbacks.swift) only record what
/// they saw (`SessionEvent`s, header blocks, bytes pulled from outbound buffers); no user code
/// runs inside them. Every entry point checks `isInsideNGHTTP2` and throws
/// `HTTP2Error.reentrantCall` instead of touching the session, so a future mistake fails one
/// call loudly rather than corrupting nghttp2's state.
final class NGHTTP2Session {
    enum Role { case server, client }

    let role: Role
    let settings: HTTP2Settings
    private var session: OpaquePointer?
    let allocator: ByteBufferAllocator

    // State written by the callbacks, read after nghttp2 returns. The session is confined to
    // one thread and the re-entrancy guard rules out overlapping calls, so the runtime's
    // dynamic exclusivity checks on these hot properties (several per callback, dozens per
    // request) are switched off.
    @exclusivity(unchecked) var events: [SessionEvent] = []
    /// The header block being received. HTTP/2 never interleaves header blocks (CONTINUATION
    /// frames must follow their HEADERS directly), so there is at most one.
    @exclusivity(unchecked) var inboundHeaders: PartialHeaderBlock?
    @exclusivity(unchecked) var outbound: [Int32: OutboundStreamBuffer] = [:]
    @exclusivity(unchecked) var trailersDue: [Int32] = []
    /// The most recent reason nghttp2 gave for a connection or stream error (its error callback
    /// and the debug data of a GOAWAY we sent): what we tell the log and the tests.
    var lastErrorDetail: String?
    /// The GOAWAY this side sent, if any.
    var sentGoAway: (code: HTTP2ErrorCode, lastStreamID: Int32)?

    /// The bytes `mem_recv` is parsing, so DATA chunks (which nghttp2 reports as pointers into
    /// them) become slices of the read buffer instead of copies.
    @exclusivity(unchecked) private var input: (buffer: ByteBuffer, base: UnsafeRawPointer)?

    @exclusivity(unchecked) private(set) var isInsideNGHTTP2 = false
    /// Called from inside nghttp2 callbacks; lets tests prove re-entry is refused.
    var callbackHookForTesting: ((NGHTTP2Session) -> Void)?

    init(role: Role, settings: HTTP2Settings, allocator: ByteBufferAllocator) throws(HTTP2Error) {
        try settings.validate()
        self.role = role
        self.settings = settings
        self.allocator = allocator

        var callbacks: OpaquePointer?
        try check(nghttp2_session_callbacks_new(&callbacks), "session_callbacks_new")
        defer { nghttp2_session_callbacks_del(callbacks) }
        NGHTTP2Callbacks.install(into: callbacks)

        var option: OpaquePointer?
        try check(nghttp2_option_new(&option), "option_new")
        defer { nghttp2_option_del(option) }
        // We send WINDOW_UPDATE only for bytes a consumer has taken (see consume): back-pressure.
        nghttp2_option_set_no_auto_window_update(option, 1)

        let userData = Unmanaged.passUnretained(self).toOpaque()
        var created: OpaquePointer?
        switch role {
        case .server: try check(nghttp2_session_server_new2(&created, callbacks, userData, option), "session_server_new2")
        case .client: try check(nghttp2_session_client_new2(&created, callbacks, userData, option), "session_client_new2")
        }
        session = created
        try submitInitialSettings()
    }

    deinit {
        nghttp2_session_del(session)
    }

    private func submitInitialSettings() throws(HTTP2Error) {
        var entries = [
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS.rawValue),
                                   value: UInt32(settings.maxConcurrentStreams)),
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE.rawValue),
                                   value: UInt32(settings.initialStreamWindowBytes)),
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_MAX_FRAME_SIZE.rawValue),
                                   value: UInt32(settings.maxFrameBytes)),
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE.rawValue),
                                   value: UInt32(settings.maxHeaderListBytes)),
        ]
        if role == .client {
            entries.append(nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_ENABLE_PUSH.rawValue), value: 0))
        }
        try check(nghttp2_submit_settings(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), &entries, entries.count),
                  "submit_settings")
        try check(nghttp2_session_set_local_window_size(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), 0,
                                                        Int32(settings.connectionWindowBytes)),
                  "session_set_local_window_size")
    }

    // MARK: Input

    /// Feeds received bytes to nghttp2 and returns what it found, in order.
    func receive(_ buffer: ByteBuffer) throws(HTTP2Error) -> [SessionEvent] {
        let result = try entering("mem_recv") {
            buffer.withUnsafeReadableBytes { bytes in
                guard let base = bytes.baseAddress else { return 0 }
                input = (buffer, base)
                defer { input = nil }
                return nghttp2_session_mem_recv(session, base.assumingMemoryBound(to: UInt8.self), bytes.count)
            }
        }
        if result < 0 {
            try failConnection(libraryCode: Int32(result))
        }
        return takeEvents()
    }

    /// The events recorded since the last call. `receive` returns them itself; the ones
    /// recorded during `drainOutbound` (a stream closes when its last frame, or our
    /// RST_STREAM, has gone out) must be collected with this after each drain.
    func takeEvents() -> [SessionEvent] {
        defer { events.removeAll(keepingCapacity: true) }
        return events
    }

    /// nghttp2 returned a fatal error from `mem_recv`: queue a GOAWAY naming the reason (the
    /// caller still drains and sends it) and throw.
    private func failConnection(libraryCode: Int32) throws(HTTP2Error) {
        let (code, detail): (HTTP2ErrorCode, String)
        switch libraryCode {
        case NGHTTP2_ERR_BAD_CLIENT_MAGIC.rawValue:
            (code, detail) = (.protocolError, "the connection did not start with the HTTP/2 client preface "
                + "(\"PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n\"); is this an HTTP/1.1 client without prior knowledge?")
        case NGHTTP2_ERR_FLOODED.rawValue:
            (code, detail) = (.enhanceYourCalm, "the peer flooded the connection with frames that need answers")
        default:
            (code, detail) = (.protocolError, lastErrorDetail ?? String(cString: nghttp2_strerror(libraryCode)))
        }
        if sentGoAway == nil {
            nghttp2_session_terminate_session(session, code.rawValue)
        }
        throw HTTP2Error.protocolViolation(code, detail: detail)
    }

    /// `count` received bytes at `pointer`: a slice of the input when they lie in it.
    func receivedBytes(_ pointer: UnsafePointer<UInt8>?, count: Int) -> ByteBuffer {
        if let (buffer, base) = input, let pointer {
            let offset = UnsafeRawPointer(pointer) - base
            if offset >= 0, offset + count <= buffer.readableBytes,
               let slice = buffer.getSlice(at: buffer.readerIndex + offset, length: count) {
                return slice
            }
        }
        var copy = allocator.buffer(capacity: count)
        copy.writeBytes(UnsafeRawBufferPointer(start: pointer, count: count))
        return copy
    }

    // MARK: Output

    /// Serializes every frame nghttp2 has ready into `output`. Called once per event-loop turn.
    func drainOutbound(into output: inout ByteBuffer) throws(HTTP2Error) {
        while true {
            try entering("mem_send") { () throws(HTTP2Error) in
                while true {
                    var frames: UnsafePointer<UInt8>?
                    let count = nghttp2_session_mem_send(session, &frames)
                    if count < 0 { throw libraryError("mem_send", Int32(count)) }
                    if count == 0 { break }
                    output.writeBytes(UnsafeRawBufferPointer(start: frames, count: count))
                }
            }
            // Trailers are submitted here, outside the data callback that found them due, and
            // then serialized by one more pass.
            let due = trailersDue
            trailersDue.removeAll()
            if due.isEmpty { return }
            for streamID in due {
                guard let trailers = outbound[streamID]?.trailers else { continue }
                try entering("submit_trailer") { () throws(HTTP2Error) in
                    try withNameValues(trailers) { (nva, count) throws(HTTP2Error) in
                        try check(nghttp2_submit_trailer(session, streamID, nva, count), "submit_trailer")
                    }
                }
            }
        }
    }

    var wantsRead: Bool { nghttp2_session_want_read(session) != 0 }
    var wantsWrite: Bool { nghttp2_session_want_write(session) != 0 }
    var lastProcessedStreamID: Int32 { nghttp2_session_get_last_proc_stream_id(session) }
    var remoteMaxConcurrentStreams: Int {
        Int(nghttp2_session_get_remote_settings(session, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS))
    }

    // MARK: Submissions

    /// Opens a client stream; returns its ID. Without `endStream`, body bytes follow via `write`.
    func submitRequest(_ headers: HTTP2Headers, endStream: Bool) throws(HTTP2Error) -> Int32 {
        precondition(role == .client, "submitRequest on a server session")
        return try entering("submit_request") { () throws(HTTP2Error) -> Int32 in
            var provider = NGHTTP2Callbacks.dataProvider
            let streamID = withNameValues(headers) { nva, count in
                endStream ? nghttp2_submit_request(session, nil, nva, count, nil, nil)
                          : nghttp2_submit_request(session, nil, nva, count, &provider, nil)
            }
            if streamID < 0 { throw libraryError("submit_request", streamID) }
            if !endStream { outbound[streamID] = OutboundStreamBuffer() }
            return streamID
        }
    }

    /// Sends the response head of a server stream. Without `endStream`, body bytes follow.
    func submitResponse(streamID: Int32, _ headers: HTTP2Headers, endStream: Bool) throws(HTTP2Error) {
        precondition(role == .server, "submitResponse on a client session")
        try entering("submit_response") { () throws(HTTP2Error) in
            var provider = NGHTTP2Callbacks.dataProvider
            let result = withNameValues(headers) { nva, count in
                endStream ? nghttp2_submit_response(session, streamID, nva, count, nil)
                          : nghttp2_submit_response(session, streamID, nva, count, &provider)
            }
            try check(result, "submit_response")
            if !endStream { outbound[streamID] = OutboundStreamBuffer() }
        }
    }

    /// A whole response at once: head, body, then trailers (or END_STREAM on the body).
    /// One submission and one outbound buffer, for answers already in memory.
    func submitCompleteResponse(streamID: Int32, _ headers: HTTP2Headers, body: ByteBuffer,
                                trailers: HTTP2Headers?) throws(HTTP2Error) {
        precondition(role == .server, "submitCompleteResponse on a client session")
        try entering("submit_response") { () throws(HTTP2Error) in
            var buffer = OutboundStreamBuffer()
            buffer.append(body)
            buffer.trailers = trailers
            buffer.isFinished = true
            outbound[streamID] = buffer
            var provider = NGHTTP2Callbacks.dataProvider
            let result = withNameValues(headers) { nva, count in
                nghttp2_submit_response(session, streamID, nva, count, &provider)
            }
            if result != 0 { outbound[streamID] = nil }
            try check(result, "submit_response")
        }
    }

    /// Queues body bytes; nghttp2 pulls them as flow control allows.
    /// Returns the bytes now buffered for the stream.
    @discardableResult
    func write(streamID: Int32, _ buffer: ByteBuffer, endStream: Bool) throws(HTTP2Error) -> Int {
        try entering("write") { () throws(HTTP2Error) -> Int in
            guard let state = outbound[streamID], !state.isFinished else {
                throw HTTP2Error.streamAlreadyFinished(streamID: streamID)
            }
            outbound[streamID]!.append(buffer)
            if endStream { outbound[streamID]!.isFinished = true }
            try resumeIfDeferred(streamID)
            return outbound[streamID]!.bufferedBytes
        }
    }

    /// Ends the stream with trailers after any queued body bytes.
    func submitTrailers(streamID: Int32, _ trailers: HTTP2Headers) throws(HTTP2Error) {
        try entering("submit_trailers") { () throws(HTTP2Error) in
            guard let state = outbound[streamID], !state.isFinished else {
                throw HTTP2Error.streamAlreadyFinished(streamID: streamID)
            }
            outbound[streamID]!.trailers = trailers
            outbound[streamID]!.isFinished = true
            try resumeIfDeferred(streamID)
        }
    }

    private func resumeIfDeferred(_ streamID: Int32) throws(HTTP2Error) {
        guard outbound[streamID]?.isDeferred == true else { return }
        outbound[streamID]!.isDeferred = false
        try check(nghttp2_session_resume_data(session, streamID), "session_resume_data")
    }

    func bufferedOutboundBytes(streamID: Int32) -> Int {
        outbound[streamID]?.bufferedBytes ?? 0
    }

    func resetStream(streamID: Int32, _ code: HTTP2ErrorCode) throws(HTTP2Error) {
        try entering("submit_rst_stream") { () throws(HTTP2Error) in
            try check(nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), streamID, code.rawValue),
                      "submit_rst_stream")
        }
    }

    /// Tells the peer to open no new streams; streams up to the last one we processed finish.
    func submitGoAway(_ code: HTTP2ErrorCode, debugData: String = "") throws(HTTP2Error) {
        try entering("submit_goaway") { () throws(HTTP2Error) in
            var debug = Array(debugData.utf8)
            try check(nghttp2_submit_goaway(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), lastProcessedStreamID,
                                            code.rawValue, &debug, debug.count), "submit_goaway")
        }
    }

    /// Ends the connection: GOAWAY with `code`, after which nghttp2 wants neither to read nor
    /// to write, so the owner closes the socket once the GOAWAY is out.
    func terminate(_ code: HTTP2ErrorCode) throws(HTTP2Error) {
        try entering("terminate_session") { () throws(HTTP2Error) in
            try check(nghttp2_session_terminate_session(session, code.rawValue), "session_terminate_session")
        }
    }

    func submitPing(payload: UInt64) throws(HTTP2Error) {
        try entering("submit_ping") { () throws(HTTP2Error) in
            var opaque = payload.bigEndian
            let result = withUnsafeBytes(of: &opaque) { bytes in
                nghttp2_submit_ping(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), bytes.bindMemory(to: UInt8.self).baseAddress)
            }
            try check(result, "submit_ping")
        }
    }

    /// Returns `bytes` of received DATA to the peer's windows (WINDOW_UPDATE on the next send).
    func consume(streamID: Int32, bytes: Int) throws(HTTP2Error) {
        guard bytes > 0 else { return }
        try entering("session_consume") { () throws(HTTP2Error) in
            try check(nghttp2_session_consume(session, streamID, bytes), "session_consume")
        }
    }

    // MARK: Plumbing

    /// Runs `body` as the only code touching the session, refusing calls from inside callbacks.
    private func entering<T>(_ operation: String, _ body: () throws(HTTP2Error) -> T) throws(HTTP2Error) -> T {
        guard !isInsideNGHTTP2 else { throw HTTP2Error.reentrantCall(operation: operation) }
        isInsideNGHTTP2 = true
        defer { isInsideNGHTTP2 = false }
        return try body()
    }

    private func check(_ result: Int32, _ operation: String) throws(HTTP2Error) {
        if result != 0 { throw libraryError(operation, result) }
    }

    private func libraryError(_ operation: String, _ code: Int32) -> HTTP2Error {
        HTTP2Error.library(operation: operation, code: code, message: String(cString: nghttp2_strerror(code)))
    }
}

/// A header block being received, possibly over several CONTINUATION frames.
struct PartialHeaderBlock {
    var streamID: Int32
    var headers = HTTP2Headers()
    var listBytes = 0
    var isOverLimit = false
}

/// Presents `headers` as `nghttp2_nv`s pointing into the headers' own storage, valid for the
/// call. nghttp2 copies names and values during submission (no NO_COPY flags), so nothing
/// is written through the pointers and they need not outlive the call. The `nghttp2_nv`
/// array is a temporary allocation (on the stack when small): this runs per header block.
func withNameValues<T, E: Error>(
    _ headers: HTTP2Headers,
    _ body: (UnsafePointer<nghttp2_nv>?, Int) throws(E) -> T
) throws(E) -> T {
    let spans = headers.spans
    return try headers.bytes.withUnsafeBufferPointer { (bytes) throws(E) -> T in
        // An empty array may have no base address; nghttp2 never reads through a 0-length name.
        var empty: UInt8 = 0
        return try withUnsafeMutablePointer(to: &empty) { (emptyPointer) throws(E) -> T in
            let base = bytes.baseAddress.map { UnsafeMutablePointer(mutating: $0) } ?? emptyPointer
            return try withUnsafeTemporaryAllocation(of: nghttp2_nv.self, capacity: max(1, spans.count)) { (nameValues) throws(E) -> T in
                for (index, span) in spans.enumerated() {
                    let flags = span.neverIndex ? NGHTTP2_NV_FLAG_NO_INDEX.rawValue : NGHTTP2_NV_FLAG_NONE.rawValue
                    (nameValues.baseAddress! + index).initialize(to: nghttp2_nv(
                        name: base + span.name.lowerBound, value: base + span.value.lowerBound,
                        namelen: span.nameLength, valuelen: span.valueLength, flags: UInt8(flags)))
                }
                return try body(UnsafePointer(nameValues.baseAddress), spans.count)
            }
        }
    }
}
