/// PeriscopeModel: what a visibility record is, and the rules it must satisfy.
///
/// What it owns: the record of one workflow execution (Temporal's system fields, memo,
/// typed custom search attributes, a per-execution version), the catalog of system and
/// predefined attributes, a namespace's schema of custom attributes and its validation with
/// Temporal's default limits, timestamps with RFC3339Nano text, and the order-preserving
/// binary key encoding every index is built on.
///
/// What it must not touch: I/O of any kind. It is pure values and functions, so every rule
/// here is tested in isolation and can be reused by the API, the shard engine and the
/// migration tools alike.
public enum PeriscopeModelModule {}
