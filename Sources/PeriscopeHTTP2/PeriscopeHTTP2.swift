/// PeriscopeHTTP2: HTTP/2 connections for Periscope's RPC, on SwiftNIO sockets with libnghttp2
/// doing the protocol (framing, HPACK, flow control, stream state, SETTINGS limits).
///
/// What it owns: the nghttp2 session of each connection (`NGHTTP2/`, the only code that sees a
/// C type), the NIO handler that feeds it and flushes it once per event-loop turn
/// (`Connection/`), and the stream API its users see (`Streams/`). What it must not do: know
/// about gRPC, protobuf or anything above a stream of headers and bytes.
public enum PeriscopeHTTP2 {}
