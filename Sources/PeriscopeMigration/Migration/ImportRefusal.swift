import PeriscopeAPI

/// How the migration treats a write Periscope refused in an ImportWrites answer.
enum ImportRefusal {
    /// INVALID_ARGUMENT: the write itself is wrong for Periscope (a value over a limit, an
    /// id too long) and will be refused again. Anything else may pass on a retry.
    static func isPermanent(_ outcome: Periscope_V1_WriteOutcome) -> Bool { outcome.code == 3 }
}
