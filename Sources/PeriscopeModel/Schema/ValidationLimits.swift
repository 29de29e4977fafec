/// The bounds a record and a namespace schema must respect.
///
/// Defaults are Temporal's frontend defaults, so anything Temporal accepted, Periscope
/// accepts (the reverse would lose visibility for executions that exist). Each can be set
/// per namespace, as Temporal's dynamic config can.
public struct ValidationLimits: Sendable, Equatable {
    /// Attributes in one record's map (`frontend.searchAttributesNumberOfKeysLimit`).
    public var searchAttributesPerRecordMax: Int
    /// One value's JSON payload (`frontend.searchAttributesSizeOfValueLimit`).
    public var searchAttributeValueBytesMax: Int
    /// Names plus payloads of one record's map (`frontend.searchAttributesTotalSizeLimit`).
    /// Temporal measures the protobuf encoding, which adds framing; measuring without it
    /// keeps Periscope at least as permissive.
    public var searchAttributesTotalBytesMax: Int
    /// WorkflowId, RunId, WorkflowType, TaskQueue and parent/root ids (`limit.maxIDLength`).
    public var identifierBytesMax: Int
    /// The memo blob (`limit.memoSize.error`).
    public var memoBytesMax: Int
    /// Custom attributes a namespace may register. Periscope has no pre-allocated columns,
    /// so this bounds schema size rather than mirroring SQL's per-type column counts.
    public var customAttributesPerNamespaceMax: Int
    /// A custom attribute's name.
    public var attributeNameBytesMax: Int

    public init(
        searchAttributesPerRecordMax: Int = 100,
        searchAttributeValueBytesMax: Int = 2 * 1024,
        searchAttributesTotalBytesMax: Int = 40 * 1024,
        identifierBytesMax: Int = 1000,
        memoBytesMax: Int = 2 * 1024 * 1024,
        customAttributesPerNamespaceMax: Int = 500,
        attributeNameBytesMax: Int = 255
    ) {
        self.searchAttributesPerRecordMax = searchAttributesPerRecordMax
        self.searchAttributeValueBytesMax = searchAttributeValueBytesMax
        self.searchAttributesTotalBytesMax = searchAttributesTotalBytesMax
        self.identifierBytesMax = identifierBytesMax
        self.memoBytesMax = memoBytesMax
        self.customAttributesPerNamespaceMax = customAttributesPerNamespaceMax
        self.attributeNameBytesMax = attributeNameBytesMax
    }

    public static let temporalDefaults = ValidationLimits()
}
