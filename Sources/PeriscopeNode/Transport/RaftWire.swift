import Foundation
import PeriscopeAPI
import PeriscopeRaft
import PeriscopeRaftLog

/// A Raft message of one group, as the transport carries it.
public struct GroupMessage: Sendable {
    public var group: GroupID
    public var message: Message

    public init(group: GroupID, message: Message) {
        self.group = group
        self.message = message
    }
}

/// Raft messages to and from `periscope.v1.RaftMessage`. Decoding checks what the core
/// would otherwise trust: a known kind, entries in order, a snapshot only where one belongs.
/// A snapshot message travels without its data (the shard's files stream on their own
/// call, `SnapshotChunk`), so only the snapshot path decodes one.
enum RaftWire {
    struct Invalid: Error, CustomStringConvertible {
        var description: String
    }

    static func encode(_ outgoing: GroupMessage) -> Periscope_V1_RaftMessage {
        let message = outgoing.message
        return .with {
            $0.groupID = outgoing.group
            $0.type = wireType(message.kind)
            $0.from = message.from
            $0.to = message.to
            $0.term = message.term
            $0.logTerm = message.logTerm
            $0.index = message.index
            $0.entries = message.entries.map { entry in
                .with {
                    $0.term = entry.term
                    $0.index = entry.index
                    $0.type = entry.kind == .confChange ? .confChange : .normal
                    $0.data = Data(entry.data)
                }
            }
            $0.commit = message.commit
            $0.reject = message.reject
            $0.rejectHint = message.rejectHint
            $0.context = message.context
            $0.leaderTick = message.leaderTick
            $0.quiesce = message.quiesce
            if let snapshot = message.snapshot { $0.snapshot = encode(snapshot.metadata) }
        }
    }

    static func encode(_ metadata: SnapshotMetadata) -> Periscope_V1_SnapshotMetadata {
        .with {
            $0.index = metadata.index
            $0.term = metadata.term
            $0.confState = encode(metadata.confState)
        }
    }

    static func encode(_ confState: ConfState) -> Periscope_V1_ConfState {
        .with {
            $0.voters = confState.voters.sorted()
            $0.learners = confState.learners.sorted()
        }
    }

    static func decode(_ confState: Periscope_V1_ConfState) -> ConfState {
        ConfState(voters: Set(confState.voters), learners: Set(confState.learners))
    }

    /// The message, or why it cannot be one. `snapshotData` is the installed files' handle a
    /// snapshot message carries (see `SnapshotReceiver`); other kinds take none.
    static func decode(_ wire: Periscope_V1_RaftMessage, snapshotData: [UInt8]? = nil) throws(Invalid) -> GroupMessage {
        guard let kind = kind(wire.type) else { throw Invalid(description: "unknown Raft message type \(wire.type.rawValue)") }
        guard wire.from != noNode, wire.to != noNode else { throw Invalid(description: "a \(kind) message without a sender or receiver") }
        guard wire.groupID != 0 else { throw Invalid(description: "a \(kind) message for group 0") }
        var entries: [Entry] = []
        entries.reserveCapacity(wire.entries.count)
        for entry in wire.entries {
            let entryKind: Entry.Kind
            switch entry.type {
            case .normal: entryKind = .normal
            case .confChange: entryKind = .confChange
            default: throw Invalid(description: "entry \(entry.index) has unknown type \(entry.type.rawValue)")
            }
            if let previous = entries.last, entry.index != previous.index + 1 {
                throw Invalid(description: "entries out of order: \(entry.index) after \(previous.index)")
            }
            entries.append(Entry(term: entry.term, index: entry.index, kind: entryKind, data: Array(entry.data)))
        }
        if let first = entries.first, kind == .append, first.index != wire.index + 1 {
            throw Invalid(description: "an append after index \(wire.index) starts at entry \(first.index)")
        }
        if wire.quiesce, kind != .heartbeat { throw Invalid(description: "a \(kind) message marked quiesce") }
        var snapshot: Snapshot?
        if kind == .snapshot {
            guard wire.hasSnapshot, let data = snapshotData else {
                throw Invalid(description: "a snapshot message outside a snapshot stream")
            }
            snapshot = Snapshot(metadata: decode(wire.snapshot), data: data)
        } else if wire.hasSnapshot {
            throw Invalid(description: "a \(kind) message carrying a snapshot")
        }
        return GroupMessage(group: wire.groupID, message: Message(
            kind: kind, from: wire.from, to: wire.to, term: wire.term, logTerm: wire.logTerm, index: wire.index, entries: entries,
            commit: wire.commit, reject: wire.reject, rejectHint: wire.rejectHint, context: wire.context, snapshot: snapshot,
            leaderTick: wire.leaderTick, quiesce: wire.quiesce))
    }

    static func decode(_ metadata: Periscope_V1_SnapshotMetadata) -> SnapshotMetadata {
        SnapshotMetadata(index: metadata.index, term: metadata.term, confState: decode(metadata.confState))
    }

    /// Each Raft message kind and its wire type, one table for both directions.
    private static let kinds: [(Message.Kind, Periscope_V1_RaftMessageType)] = [
        (.append, .append), (.appendResponse, .appendResponse), (.vote, .vote), (.voteResponse, .voteResponse),
        (.preVote, .preVote), (.preVoteResponse, .preVoteResponse), (.snapshot, .snapshot), (.heartbeat, .heartbeat),
        (.heartbeatResponse, .heartbeatResponse), (.timeoutNow, .timeoutNow), (.readIndex, .readIndex),
        (.readIndexResponse, .readIndexResponse),
    ]
    private static let wireTypes = Dictionary(uniqueKeysWithValues: kinds)
    private static let messageKinds = Dictionary(uniqueKeysWithValues: kinds.map { ($0.1, $0.0) })

    private static func wireType(_ kind: Message.Kind) -> Periscope_V1_RaftMessageType { wireTypes[kind]! }

    private static func kind(_ type: Periscope_V1_RaftMessageType) -> Message.Kind? { messageKinds[type] }
}
