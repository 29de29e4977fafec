import PeriscopeModel

/// Temporal's name resolution for queries (`store/query/resolve.go`): a namespace's custom
/// attribute by exact name, then system and predefined attributes, then the same with the
/// `Temporal` prefix added or removed (`WorkerDeployment` → `TemporalWorkerDeployment`,
/// `TemporalBuildIds` → `BuildIds`), then `ScheduleId`/`TemporalScheduleId` as
/// `WorkflowId` unless the namespace has its own `ScheduleId`. Names are case-sensitive.
struct NameResolver {
    let schema: NamespaceSchema

    func resolve(_ name: String) -> QueryField? {
        if AttributeCatalog.builtIn(name) == nil, let custom = schema.customAttributes[name] {
            return QueryField(AttributeDefinition(name: name, type: custom, kind: .custom))
        }
        if let builtIn = AttributeCatalog.builtIn(name) { return QueryField(builtIn) }
        let toggled = name.hasPrefix("Temporal") ? String(name.dropFirst("Temporal".count)) : "Temporal" + name
        if let builtIn = AttributeCatalog.builtIn(toggled) { return QueryField(builtIn) }
        if name == "ScheduleId" || name == "TemporalScheduleId" { return .workflowId }
        return nil
    }
}
