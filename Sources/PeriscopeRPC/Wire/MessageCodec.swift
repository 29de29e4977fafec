import Foundation
import NIOCore
import SwiftProtobuf

/// How a call's messages are encoded: gRPC's binary protobuf, or protobuf's canonical JSON
/// mapping for humans with curl.
enum MessageCodec: Sendable {
    case protobuf
    case json

    /// The codec a `content-type` asks for, or nil if Periscope does not speak it.
    init?(contentType: String?) {
        guard let contentType else { return nil }
        // The common exact values first: this runs once per call.
        switch contentType {
        case "application/grpc": self = .protobuf; return
        case "application/json": self = .json; return
        default: break
        }
        let base = contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        switch base {
        case "application/grpc", "application/grpc+proto": self = .protobuf
        case "application/json", "application/grpc+json": self = .json
        default: return nil
        }
    }

    var responseContentType: String {
        switch self {
        case .protobuf: "application/grpc"
        case .json: "application/json"
        }
    }

    func decode<M: SwiftProtobuf.Message>(_ type: M.Type, from buffer: ByteBuffer) throws(RPCStatus) -> M {
        do {
            switch self {
            case .protobuf:
                return try buffer.withUnsafeReadableBytes { try M(serializedBytes: Array($0)) }
            case .json:
                var options = JSONDecodingOptions()
                options.ignoreUnknownFields = false
                return try M(jsonUTF8Bytes: Array(buffer.readableBytesView), options: options)
            }
        } catch {
            throw RPCStatus(.invalidArgument, "the request is not a valid \(M.protoMessageName) "
                + "(\(self == .json ? "JSON" : "protobuf")): \(error)")
        }
    }

    /// The message as it goes on the wire: length-prefixed protobuf (one buffer, no second
    /// copy for the prefix), or bare JSON.
    func encode<M: SwiftProtobuf.Message>(_ message: M, allocator: ByteBufferAllocator) throws(RPCStatus) -> ByteBuffer {
        do {
            switch self {
            case .protobuf:
                let bytes: [UInt8] = try message.serializedBytes()
                var framed = allocator.buffer(capacity: 5 + bytes.count)
                framed.writeInteger(UInt8(0))
                framed.writeInteger(UInt32(bytes.count))
                framed.writeBytes(bytes)
                return framed
            case .json:
                var options = JSONEncodingOptions()
                options.alwaysPrintEnumsAsInts = false
                let bytes: [UInt8] = try message.jsonUTF8Bytes(options: options)
                return allocator.buffer(bytes: bytes)
            }
        } catch {
            throw RPCStatus(.internalError, "could not encode \(M.protoMessageName): \(error)")
        }
    }
}
