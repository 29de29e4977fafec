/// PeriscopeAPI: Periscope's API as protobuf messages (Generated/, from proto/ by
/// `make proto`), the typed method descriptors of each service (Methods/), and the services
/// that need no storage (Services/: gRPC health, diagnostics). The visibility, admin and Raft
/// transport services are implemented by the node.
public enum PeriscopeAPI {}
