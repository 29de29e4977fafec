/// Runs `body` for every key concurrently; each key's result, failures included (a caller
/// may have cleanup to do for the others).
///
/// Child tasks hand their result back in a final class: release builds of Swift 6.3 were
/// seen reading garbage out of a task group's child-result buffer when the child type was a
/// tuple holding a `Result` with an existential error (a WriteBatch crashed a node), the
/// runtime bug that other projects report as well.
func settledConcurrently<Key: Hashable & Sendable, Value: Sendable>(
    _ keys: [Key], _ body: @escaping @Sendable (Key) async throws -> Value
) async -> [Key: Result<Value, any Error>] {
    await withTaskGroup(of: Settled<Key, Value>.self) { group in
        for key in keys {
            group.addTask {
                do { return Settled(key: key, result: .success(try await body(key))) } catch { return Settled(key: key, result: .failure(error)) }
            }
        }
        var results: [Key: Result<Value, any Error>] = [:]
        for await settled in group { results[settled.key] = settled.result }
        return results
    }
}

private final class Settled<Key: Sendable, Value: Sendable>: Sendable {
    let key: Key
    let result: Result<Value, any Error>

    init(key: Key, result: Result<Value, any Error>) {
        self.key = key
        self.result = result
    }
}
