import CNGHTTP2
import NIOCore

/// The C callbacks nghttp2 calls during `mem_recv` and `mem_send`. Each recovers its
/// `NGHTTP2Session` from `user_data` (passed unretained: the session owns the nghttp2 handle
/// and callbacks only run while one of its methods is on the stack, so it is alive) and only
/// records what it saw. None of them calls back into nghttp2 or runs user code.
enum NGHTTP2Callbacks {
    static func install(into callbacks: OpaquePointer?) {
        nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, onBeginHeaders)
        nghttp2_session_callbacks_set_on_header_callback(callbacks, onHeader)
        nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, onFrameReceived)
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, onDataChunk)
        nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, onStreamClose)
        nghttp2_session_callbacks_set_on_frame_send_callback(callbacks, onFrameSent)
        nghttp2_session_callbacks_set_error_callback2(callbacks, onError)
    }

    /// The data provider every body-carrying stream uses; bytes come from the session's
    /// `outbound` buffer for the stream, found by stream ID (no per-stream pointer to manage).
    static var dataProvider: nghttp2_data_provider {
        nghttp2_data_provider(source: nghttp2_data_source(ptr: nil), read_callback: readOutbound)
    }
}

private func owner(_ userData: UnsafeMutableRawPointer?) -> NGHTTP2Session {
    let session = Unmanaged<NGHTTP2Session>.fromOpaque(userData!).takeUnretainedValue()
    if let hook = session.callbackHookForTesting { hook(session) }
    return session
}

private func isType(_ frame: nghttp2_frame, _ type: nghttp2_frame_type) -> Bool {
    UInt32(frame.hd.type) == type.rawValue
}

private func hasFlag(_ frame: nghttp2_frame, _ flag: nghttp2_flag) -> Bool {
    UInt32(frame.hd.flags) & flag.rawValue != 0
}

private let onBeginHeaders: nghttp2_on_begin_headers_callback = { _, frame, userData in
    guard let frame = frame?.pointee, isType(frame, NGHTTP2_HEADERS) else { return 0 }
    owner(userData).inboundHeaders = PartialHeaderBlock(streamID: frame.hd.stream_id, headers: HTTP2Headers(reservingCapacity: 12, bytes: 256))
    return 0
}

private let onHeader: nghttp2_on_header_callback = { _, frame, name, nameLength, value, valueLength, _, userData in
    guard let frame = frame?.pointee, isType(frame, NGHTTP2_HEADERS) else { return 0 }
    let session = owner(userData)
    guard session.inboundHeaders?.streamID == frame.hd.stream_id else { return 0 }
    session.inboundHeaders!.listBytes += nameLength + valueLength + 32
    if session.inboundHeaders!.listBytes > session.settings.maxHeaderListBytes {
        // Keep counting for the error message but stop storing: memory stays bounded.
        session.inboundHeaders!.isOverLimit = true
        session.inboundHeaders!.headers = HTTP2Headers()
    } else {
        session.inboundHeaders!.headers.add(name: UnsafeBufferPointer(start: name, count: nameLength),
                                            value: UnsafeBufferPointer(start: value, count: valueLength))
    }
    return 0
}

private let onFrameReceived: nghttp2_on_frame_recv_callback = { _, frame, userData in
    guard let frame = frame?.pointee else { return 0 }
    let session = owner(userData)
    let streamID = frame.hd.stream_id
    let endStream = hasFlag(frame, NGHTTP2_FLAG_END_STREAM)
    switch UInt32(frame.hd.type) {
    case NGHTTP2_HEADERS.rawValue:
        guard let block = session.inboundHeaders, block.streamID == streamID else { return 0 }
        session.inboundHeaders = nil
        session.events.append(block.isOverLimit
            ? .headerListTooLarge(streamID: streamID, bytes: block.listBytes)
            : .headers(streamID: streamID, block.headers, endStream: endStream))
    case NGHTTP2_DATA.rawValue where endStream:
        // Mark the last chunk of this stream as final, or add an empty final chunk.
        if case .data(let lastStream, let bytes, false)? = session.events.last, lastStream == streamID {
            session.events[session.events.count - 1] = .data(streamID: streamID, bytes, endStream: true)
        } else {
            session.events.append(.data(streamID: streamID, session.allocator.buffer(capacity: 0), endStream: true))
        }
    case NGHTTP2_GOAWAY.rawValue:
        session.events.append(.goAway(lastStreamID: frame.goaway.last_stream_id,
                                      HTTP2ErrorCode(rawValue: frame.goaway.error_code)))
    case NGHTTP2_PING.rawValue where hasFlag(frame, NGHTTP2_FLAG_ACK):
        let payload = withUnsafeBytes(of: frame.ping.opaque_data) { $0.load(as: UInt64.self) }
        session.events.append(.pingAcknowledged(payload: UInt64(bigEndian: payload)))
    default:
        break
    }
    return 0
}

private let onDataChunk: nghttp2_on_data_chunk_recv_callback = { _, _, streamID, data, length, userData in
    let session = owner(userData)
    session.events.append(.data(streamID: streamID, session.receivedBytes(data, count: length), endStream: false))
    return 0
}

private let onStreamClose: nghttp2_on_stream_close_callback = { _, streamID, errorCode, userData in
    let session = owner(userData)
    if session.inboundHeaders?.streamID == streamID { session.inboundHeaders = nil }
    session.outbound[streamID] = nil
    session.events.append(.streamClosed(streamID: streamID, HTTP2ErrorCode(rawValue: errorCode)))
    return 0
}

private let onFrameSent: nghttp2_on_frame_send_callback = { _, frame, userData in
    guard let frame = frame?.pointee, isType(frame, NGHTTP2_GOAWAY) else { return 0 }
    let session = owner(userData)
    let goaway = frame.goaway
    session.sentGoAway = (HTTP2ErrorCode(rawValue: goaway.error_code), goaway.last_stream_id)
    if goaway.opaque_data_len > 0, let debug = goaway.opaque_data {
        session.lastErrorDetail = String(decoding: UnsafeBufferPointer(start: debug, count: goaway.opaque_data_len),
                                         as: UTF8.self)
    }
    return 0
}

private let onError: nghttp2_error_callback2 = { _, _, message, length, userData in
    guard let message else { return 0 }
    owner(userData).lastErrorDetail = String(decoding: UnsafeRawBufferPointer(start: message, count: length),
                                             as: UTF8.self)
    return 0
}

private let readOutbound: nghttp2_data_source_read_callback = { _, streamID, destination, length, flags, _, userData in
    let session = owner(userData)
    guard session.outbound[streamID] != nil else {
        return Int(NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue)
    }
    let copied = session.outbound[streamID]!.drain(into: UnsafeMutableRawBufferPointer(start: destination, count: length))
    let state = session.outbound[streamID]!
    if state.bufferedBytes == 0 && state.isFinished {
        flags!.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue
        if state.trailers != nil {
            flags!.pointee |= NGHTTP2_DATA_FLAG_NO_END_STREAM.rawValue
            session.trailersDue.append(streamID)
        }
        return copied
    }
    if copied == 0 {
        session.outbound[streamID]!.isDeferred = true
        return Int(NGHTTP2_ERR_DEFERRED.rawValue)
    }
    return copied
}
