import PeriscopeRaft

/// The tests' seeded generator is the one the Raft core and its simulator use.
public typealias SeededRandom = PeriscopeRaft.SeededRandom
