/// PeriscopeRPC: gRPC's wire protocol over PeriscopeHTTP2 (length-prefixed protobuf messages,
/// `grpc-status` trailers, `grpc-timeout` deadlines, unary and streaming calls), and the same
/// methods in protobuf's JSON mapping for `curl`. Server (`RPCRouter`, `RPCServer`) and client
/// (`RPCClient`). It knows messages only as `SwiftProtobuf.Message`; Periscope's API lives in
/// PeriscopeAPI.
public enum PeriscopeRPC {}
