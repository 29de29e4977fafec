import CLibPQ
import Foundation

/// The replication protocol's COPY BOTH stream, over which logical decoding sends its
/// messages and the client sends its standby status (how far it has applied).
extension PostgresConnection {
    /// What one wait for the server's next CopyData brought.
    public enum CopyData: Sendable, Equatable {
        case message([UInt8])
        /// Nothing arrived within the wait.
        case idle
        /// The server ended the stream.
        case ended
    }

    /// Sends a replication command that starts a COPY BOTH stream (START_REPLICATION).
    public func startStreaming(_ command: String) throws(PostgresError) {
        let context = Self.summary(of: command)
        let result = PQexec(handle, command)
        defer { PQclear(result) }
        guard PQresultStatus(result) == PGRES_COPY_BOTH else { throw error(of: result, doing: context) }
    }

    /// The server's next message, waiting at most `timeoutMilliseconds` for it.
    public func receive(timeoutMilliseconds: Int32) throws(PostgresError) -> CopyData {
        if let data = try takeCopyData() { return data }
        var descriptor = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
        let ready = poll(&descriptor, 1, timeoutMilliseconds)
        if ready < 0, errno != EINTR {
            throw PostgresError("waiting for the replication stream", String(cString: strerror(errno)))
        }
        guard ready > 0 else { return .idle }
        guard PQconsumeInput(handle) == 1 else {
            throw PostgresError("reading the replication stream", Self.trimmed(PQerrorMessage(handle)))
        }
        return try takeCopyData() ?? .idle
    }

    /// Sends one CopyData message (a standby status update) and flushes it.
    public func send(_ bytes: [UInt8]) throws(PostgresError) {
        let sent = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { PQputCopyData(handle, $0.baseAddress, Int32($0.count)) }
        }
        guard sent == 1, PQflush(handle) == 0 else {
            throw PostgresError("writing to the replication stream", Self.trimmed(PQerrorMessage(handle)))
        }
    }

    /// Ends the client's side of the stream (CopyDone) and reads what the server answers.
    public func endStreaming() throws(PostgresError) {
        _ = PQputCopyEnd(handle, nil)
        _ = PQflush(handle)
        // The server may still send data before its own CopyDone: drop it.
        while true {
            var buffer: UnsafeMutablePointer<CChar>?
            let length = PQgetCopyData(handle, &buffer, 0)
            if let buffer { PQfreemem(buffer) }
            if length < 0 { break }
        }
        try drainResults(doing: "ending the replication stream")
    }

    /// A message already read from the socket, without blocking.
    private func takeCopyData() throws(PostgresError) -> CopyData? {
        var buffer: UnsafeMutablePointer<CChar>?
        let length = PQgetCopyData(handle, &buffer, 1)
        if length > 0, let buffer {
            defer { PQfreemem(buffer) }
            return .message([UInt8](UnsafeRawBufferPointer(start: buffer, count: Int(length))))
        }
        if length == 0 { return nil }
        if length == -1 {
            try drainResults(doing: "the replication stream")
            return .ended
        }
        throw PostgresError("reading the replication stream", Self.trimmed(PQerrorMessage(handle)))
    }
}
