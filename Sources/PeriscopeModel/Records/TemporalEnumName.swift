/// An enum Temporal names two ways: a short PascalCase name (`Running`, `Keyword`) and its
/// protobuf name (`WORKFLOW_EXECUTION_STATUS_RUNNING`, `INDEXED_VALUE_TYPE_KEYWORD`).
public protocol TemporalEnumName: CaseIterable {
    var name: String { get }
    var protoName: String { get }
}

extension TemporalEnumName {
    /// Either name, case-sensitive, as Temporal's `...FromString` functions accept them.
    public init?(name: String) {
        guard let match = Self.allCases.first(where: { $0.name == name || $0.protoName == name }) else { return nil }
        self = match
    }
}
