import PeriscopeRPC

/// `grpc.health.v1.Health`.
public enum HealthMethods {
    static let service = "grpc.health.v1.Health"
    public static let check = RPCMethod<Grpc_Health_V1_HealthCheckRequest, Grpc_Health_V1_HealthCheckResponse>(service: service, name: "Check")
    public static let watch = RPCMethod<Grpc_Health_V1_HealthCheckRequest, Grpc_Health_V1_HealthCheckResponse>(service: service, name: "Watch")
}

/// `periscope.v1.Diagnostics`.
public enum DiagnosticsMethods {
    public static let service = "periscope.v1.Diagnostics"
    public static let echo = RPCMethod<Periscope_V1_EchoRequest, Periscope_V1_EchoResponse>(service: service, name: "Echo")
    public static let echoStream = RPCMethod<Periscope_V1_EchoRequest, Periscope_V1_EchoResponse>(service: service, name: "EchoStream")
}

/// `periscope.v1.VisibilityService`.
public enum VisibilityMethods {
    public static let service = "periscope.v1.VisibilityService"
    public static let recordExecutionStarted = RPCMethod<Periscope_V1_RecordExecutionStartedRequest, Periscope_V1_WriteResponse>(service: service, name: "RecordExecutionStarted")
    public static let recordExecutionClosed = RPCMethod<Periscope_V1_RecordExecutionClosedRequest, Periscope_V1_WriteResponse>(service: service, name: "RecordExecutionClosed")
    public static let upsertExecution = RPCMethod<Periscope_V1_UpsertExecutionRequest, Periscope_V1_WriteResponse>(service: service, name: "UpsertExecution")
    public static let deleteExecution = RPCMethod<Periscope_V1_DeleteExecutionRequest, Periscope_V1_WriteResponse>(service: service, name: "DeleteExecution")
    public static let writeBatch = RPCMethod<Periscope_V1_WriteBatchRequest, Periscope_V1_WriteBatchResponse>(service: service, name: "WriteBatch")
    public static let listExecutions = RPCMethod<Periscope_V1_ListExecutionsRequest, Periscope_V1_ListExecutionsResponse>(service: service, name: "ListExecutions")
    public static let countExecutions = RPCMethod<Periscope_V1_CountExecutionsRequest, Periscope_V1_CountExecutionsResponse>(service: service, name: "CountExecutions")
    public static let getExecution = RPCMethod<Periscope_V1_GetExecutionRequest, Periscope_V1_GetExecutionResponse>(service: service, name: "GetExecution")
    public static let explainQuery = RPCMethod<Periscope_V1_ExplainQueryRequest, Periscope_V1_ExplainQueryResponse>(service: service, name: "ExplainQuery")
    public static let createNamespace = RPCMethod<Periscope_V1_CreateNamespaceRequest, Periscope_V1_NamespaceResponse>(service: service, name: "CreateNamespace")
    public static let describeNamespace = RPCMethod<Periscope_V1_DescribeNamespaceRequest, Periscope_V1_NamespaceResponse>(service: service, name: "DescribeNamespace")
    public static let updateNamespace = RPCMethod<Periscope_V1_UpdateNamespaceRequest, Periscope_V1_NamespaceResponse>(service: service, name: "UpdateNamespace")
    public static let listNamespaces = RPCMethod<Periscope_V1_ListNamespacesRequest, Periscope_V1_ListNamespacesResponse>(service: service, name: "ListNamespaces")
    public static let addSearchAttributes = RPCMethod<Periscope_V1_AddSearchAttributesRequest, Periscope_V1_SearchAttributesResponse>(service: service, name: "AddSearchAttributes")
    public static let removeSearchAttributes = RPCMethod<Periscope_V1_RemoveSearchAttributesRequest, Periscope_V1_SearchAttributesResponse>(service: service, name: "RemoveSearchAttributes")
    public static let listSearchAttributes = RPCMethod<Periscope_V1_ListSearchAttributesRequest, Periscope_V1_SearchAttributesResponse>(service: service, name: "ListSearchAttributes")
}

/// `periscope.v1.AdminService`.
public enum AdminMethods {
    public static let service = "periscope.v1.AdminService"
    public static let getClusterStatus = RPCMethod<Periscope_V1_GetClusterStatusRequest, Periscope_V1_ClusterStatus>(service: service, name: "GetClusterStatus")
    public static let getShardMap = RPCMethod<Periscope_V1_GetShardMapRequest, Periscope_V1_ShardMap>(service: service, name: "GetShardMap")
    public static let addNode = RPCMethod<Periscope_V1_AddNodeRequest, Periscope_V1_MembershipChangeResponse>(service: service, name: "AddNode")
    public static let removeNode = RPCMethod<Periscope_V1_RemoveNodeRequest, Periscope_V1_MembershipChangeResponse>(service: service, name: "RemoveNode")
    public static let transferLeadership = RPCMethod<Periscope_V1_TransferLeadershipRequest, Periscope_V1_TransferLeadershipResponse>(service: service, name: "TransferLeadership")
    public static let getNamespacePlacement = RPCMethod<Periscope_V1_GetNamespacePlacementRequest, Periscope_V1_NamespacePlacement>(service: service, name: "GetNamespacePlacement")
    public static let failoverNamespace = RPCMethod<Periscope_V1_FailoverNamespaceRequest, Periscope_V1_FailoverNamespaceResponse>(service: service, name: "FailoverNamespace")
    public static let getReplicaDigests = RPCMethod<Periscope_V1_GetReplicaDigestsRequest, Periscope_V1_ReplicaDigests>(service: service, name: "GetReplicaDigests")
    public static let verifyIndexes = RPCMethod<Periscope_V1_VerifyIndexesRequest, Periscope_V1_IndexVerification>(service: service, name: "VerifyIndexes")
    public static let importWrites = RPCMethod<Periscope_V1_ImportWritesRequest, Periscope_V1_ImportWritesResponse>(service: service, name: "ImportWrites")
    public static let checksumExecutions = RPCMethod<Periscope_V1_ChecksumExecutionsRequest, Periscope_V1_ChecksumExecutionsResponse>(service: service, name: "ChecksumExecutions")
}

/// `periscope.v1.RaftTransport`.
public enum RaftTransportMethods {
    public static let service = "periscope.v1.RaftTransport"
    public static let exchange = RPCMethod<Periscope_V1_RaftMessageBatch, Periscope_V1_RaftBatchAck>(service: service, name: "Exchange")
    public static let sendSnapshot = RPCMethod<Periscope_V1_SnapshotChunk, Periscope_V1_SnapshotResult>(service: service, name: "SendSnapshot")
}

/// `periscope.v1.ClusterPeer`: calls between the nodes of a region.
public enum ClusterPeerMethods {
    public static let service = "periscope.v1.ClusterPeer"
    public static let bootstrap = RPCMethod<Periscope_V1_BootstrapRequest, Periscope_V1_BootstrapResponse>(service: service, name: "Bootstrap")
    public static let forwardProposal = RPCMethod<Periscope_V1_ForwardProposalRequest, Periscope_V1_ForwardProposalResponse>(service: service, name: "ForwardProposal")
    public static let readClock = RPCMethod<Periscope_V1_ReadClockRequest, Periscope_V1_ReadClockResponse>(service: service, name: "ReadClock")
    public static let injectPartition = RPCMethod<Periscope_V1_InjectPartitionRequest, Periscope_V1_InjectPartitionResponse>(service: service, name: "InjectPartition")
    public static let proposeConfChange = RPCMethod<Periscope_V1_ConfChangeRequest, Periscope_V1_ConfChangeResponse>(service: service, name: "ProposeConfChange")
}

/// `periscope.v1.RegionPeer`: calls between the regions of a deployment.
public enum RegionPeerMethods {
    public static let service = "periscope.v1.RegionPeer"
    public static let subscribe = RPCMethod<Periscope_V1_ReplicationAck, Periscope_V1_ReplicationBatch>(service: service, name: "Subscribe")
    public static let backfill = RPCMethod<Periscope_V1_BackfillRequest, Periscope_V1_BackfillChunkMessage>(service: service, name: "Backfill")
    public static let getNamespaceVersions = RPCMethod<Periscope_V1_GetNamespaceVersionsRequest, Periscope_V1_NamespaceVersions>(service: service, name: "GetNamespaceVersions")
    public static let getNamespaces = RPCMethod<Periscope_V1_GetNamespacesRequest, Periscope_V1_NamespacesResponse>(service: service, name: "GetNamespaces")
    public static let offerNamespaces = RPCMethod<Periscope_V1_NamespacesOffer, Periscope_V1_NamespacesOfferResponse>(service: service, name: "OfferNamespaces")
    public static let getReplicationCursors = RPCMethod<Periscope_V1_GetReplicationCursorsRequest, Periscope_V1_ReplicationCursors>(service: service, name: "GetReplicationCursors")
    public static let listShardPages = RPCMethod<Periscope_V1_ShardPagesRequest, Periscope_V1_ShardPagesResponse>(service: service, name: "ListShardPages")
    public static let countShards = RPCMethod<Periscope_V1_CountShardsRequest, Periscope_V1_CountShardsResponse>(service: service, name: "CountShards")
    public static let findNewer = RPCMethod<Periscope_V1_FindNewerRequest, Periscope_V1_FindNewerResponse>(service: service, name: "FindNewer")
}
