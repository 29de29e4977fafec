extension NamespaceSchema {
    /// Every problem with a record's search-attribute map, sorted by attribute name, with the
    /// map-wide limits (count, total size) last.
    public func problems(in searchAttributes: [String: SearchAttributeValue]) -> [ValidationError] {
        var problems: [ValidationError] = []
        var totalBytes = 0
        for (name, value) in searchAttributes.sorted(by: { $0.key < $1.key }) {
            let payloadBytes = PayloadSize.of(value)
            totalBytes += name.utf8.count + payloadBytes
            if let problem = problem(name: name, value: value, payloadBytes: payloadBytes) { problems.append(problem) }
        }
        if searchAttributes.count > limits.searchAttributesPerRecordMax {
            problems.append(ValidationError(
                field: "SearchAttributes",
                reason: .tooManyAttributes(count: searchAttributes.count, limit: limits.searchAttributesPerRecordMax),
                message: "number of search attributes \(searchAttributes.count) exceeds limit \(limits.searchAttributesPerRecordMax)"))
        }
        if totalBytes > limits.searchAttributesTotalBytesMax {
            problems.append(ValidationError(
                field: "SearchAttributes",
                reason: .attributesTooLarge(bytes: totalBytes, limit: limits.searchAttributesTotalBytesMax),
                message: "total size of search attributes \(totalBytes) exceeds size limit \(limits.searchAttributesTotalBytesMax)"))
        }
        return problems
    }

    private func problem(name: String, value: SearchAttributeValue, payloadBytes: Int) -> ValidationError? {
        guard let definition = definition(of: name) else {
            return ValidationError(field: name, reason: .undefinedAttribute, message: "search attribute \(name) is not defined")
        }
        guard definition.kind != .system else {
            return ValidationError(field: name, reason: .systemAttributeInMap, message: "\(name) attribute can't be set in SearchAttributes")
        }
        guard value.type == definition.type else {
            return ValidationError(field: name, reason: .wrongType(expected: definition.type, actual: value.type), message:
                "invalid value for search attribute \(name) of type \(definition.type): \(value) (a \(value.type) value)")
        }
        if case .double(let number) = value, !number.isFinite {
            return ValidationError(field: name, reason: .invalidValue, message:
                "invalid value for search attribute \(name) of type Double: \(number) is not a finite number")
        }
        guard payloadBytes <= limits.searchAttributeValueBytesMax else {
            return ValidationError(field: name, reason: .valueTooLarge(bytes: payloadBytes, limit: limits.searchAttributeValueBytesMax),
                                   message: "search attribute \(name) value size \(payloadBytes) exceeds size limit \(limits.searchAttributeValueBytesMax)")
        }
        return nil
    }

    /// Checks a whole record: its identifiers, memo, counters and search attributes.
    /// Throws every problem at once, so a client can fix them in one round.
    public func validate(_ record: VisibilityRecord) throws(RecordValidationError) {
        var problems = recordFieldProblems(record)
        problems += self.problems(in: record.searchAttributes)
        guard problems.isEmpty else { throw RecordValidationError(key: record.key, problems: problems) }
    }

    private func recordFieldProblems(_ record: VisibilityRecord) -> [ValidationError] {
        var problems: [ValidationError] = []
        let required: [(String, String)] = [
            ("NamespaceId", record.key.namespaceId), ("WorkflowId", record.key.workflowId),
            ("RunId", record.key.runId), ("WorkflowType", record.workflowType), ("TaskQueue", record.taskQueue),
        ]
        for (field, value) in required where value.isEmpty {
            problems.append(ValidationError(field: field, reason: .emptyField, message: "\(field) is empty"))
        }
        let identifiers = required + [
            ("ParentWorkflowId", record.parentWorkflowId ?? ""), ("ParentRunId", record.parentRunId ?? ""),
            ("RootWorkflowId", record.rootWorkflowId), ("RootRunId", record.rootRunId),
        ]
        for (field, value) in identifiers where value.utf8.count > limits.identifierBytesMax {
            problems.append(ValidationError(field: field, reason: .fieldTooLong(bytes: value.utf8.count, limit: limits.identifierBytesMax),
                                            message: "\(field) length \(value.utf8.count) exceeds limit \(limits.identifierBytesMax)"))
        }
        if record.memo.count > limits.memoBytesMax {
            problems.append(ValidationError(field: "Memo", reason: .fieldTooLong(bytes: record.memo.count, limit: limits.memoBytesMax),
                                            message: "Memo size \(record.memo.count) exceeds limit \(limits.memoBytesMax)"))
        }
        let counters: [(String, Int64?)] = [
            ("ExecutionDuration", record.executionDuration), ("HistoryLength", record.historyLength),
            ("HistorySizeBytes", record.historySizeBytes), ("StateTransitionCount", record.stateTransitionCount),
        ]
        for case let (field, value?) in counters where value < 0 {
            problems.append(ValidationError(field: field, reason: .negativeField, message: "\(field) must not be negative: \(value)"))
        }
        if record.version < 0 {
            problems.append(ValidationError(field: "Version", reason: .negativeField, message: "Version must not be negative: \(record.version)"))
        }
        return problems
    }
}
