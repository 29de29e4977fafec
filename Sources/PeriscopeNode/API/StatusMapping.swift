import PeriscopeModel
import PeriscopeQuery
import PeriscopeRPC
import PeriscopeShard
import PeriscopeStorage

/// The gRPC status of every error the node's layers throw: the code a client can act on
/// (retry, fix the request, give up) and the layer's own message, which names what was wrong.
enum StatusMapping {
    static func status(for error: any Error) -> RPCStatus {
        switch error {
        case let status as RPCStatus:
            return status
        case let refusal as CatalogRefusal:
            switch refusal.code {
            case .notFound: return RPCStatus(.notFound, refusal.message)
            case .alreadyExists: return RPCStatus(.alreadyExists, refusal.message)
            case .invalidArgument: return RPCStatus(.invalidArgument, refusal.message)
            case .failedPrecondition: return RPCStatus(.failedPrecondition, refusal.message)
            }
        case let invalid as RecordValidationError:
            return RPCStatus(.invalidArgument, invalid.description)
        case let invalid as ValidationError:
            return RPCStatus(.invalidArgument, invalid.message)
        case let query as QueryError:
            return RPCStatus(.invalidArgument, query.description)
        case let query as ShardQueryError:
            switch query.code {
            case .invalidArgument: return RPCStatus(.invalidArgument, query.message)
            // The request is well-formed but needs more work than one request may do:
            // FAILED_PRECONDITION, not RESOURCE_EXHAUSTED (nothing is retried into success).
            case .tooExpensive: return RPCStatus(.failedPrecondition, query.message)
            case .unavailable: return RPCStatus(.unavailable, query.message)
            }
        case let replication as ReplicationError:
            switch replication {
            case .notLeader, .stopped, .noQuorum, .leadershipLost, .diskLow, .transferring: return RPCStatus(.unavailable, replication.description)
            case .lost: return RPCStatus(.aborted, replication.description)
            case .refused: return RPCStatus(.resourceExhausted, replication.description)
            case .storageFailed: return RPCStatus(.internalError, replication.description)
            }
        case let storage as StorageError where storage.code == .closed:
            return RPCStatus(.unavailable, "the node is shutting down")
        case let storage as StorageError:
            return RPCStatus(.internalError, "storage: \(storage)")
        case is CancellationError:
            return RPCStatus(.cancelled, "the call was cancelled")
        default:
            return RPCStatus(.internalError, "\(error)")
        }
    }
}
