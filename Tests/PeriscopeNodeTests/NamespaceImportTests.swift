@testable import PeriscopeNode
import Testing

/// A namespace that is a migration's target: imported writes order by the source's log in
/// the failover version's place, a planned failover waits for the import to finish, and
/// finishing raises the failover version above every imported order.
@Suite struct NamespaceImportTests {
    static let entry = NamespaceEntry(name: "orders", id: "ns-a", retentionSeconds: 86_400, homeRegion: "east", regions: ["east", "west"])

    static func apply(_ command: CatalogCommand, to entry: NamespaceEntry) -> Result<NamespaceEntry, CatalogRefusal> {
        do {
            return .success(try NamespaceCatalog.apply(command, to: [entry.name: entry], localRegion: "east"))
        } catch {
            return .failure(error)
        }
    }

    @Test func importingBlocksAPlannedFailoverUntilFinishedAboveEveryOrder() throws {
        let importing = try Self.apply(.setImporting(name: "orders", importing: true, failoverVersion: nil, ceiling: nil), to: Self.entry).get()
        #expect(importing.importing && importing.failoverVersion == 0 && importing.metadataVersion == Self.entry.metadataVersion + 1)

        guard case .failure(let refusal) = Self.apply(.beginHandover(name: "orders", to: "west"), to: importing) else {
            Issue.record("a planned failover of a namespace being imported was accepted")
            return
        }
        #expect(refusal.code == .failedPrecondition && refusal.message.contains("target of a migration"), "\(refusal)")

        // Finishing: the failover version the node computed (above the largest imported order) is taken.
        let imported = try #require(DeploymentDirectory.importedFailoverVersion(order: 5_000, issuer: 1))
        let next = DeploymentDirectory.nextFailoverVersion(after: imported, for: 1)
        let finished = try Self.apply(.setImporting(name: "orders", importing: false, failoverVersion: next, ceiling: imported), to: importing).get()
        #expect(!finished.importing && finished.failoverVersion == 500_101 && DeploymentDirectory.issuer(of: finished.failoverVersion) == 1)
        #expect(finished.importCeiling == 500_001)
        #expect(throws: Never.self) { try Self.apply(.beginHandover(name: "orders", to: "west"), to: finished).get() }

        // A lower version never moves it back.
        let again = try Self.apply(.setImporting(name: "orders", importing: false, failoverVersion: 101, ceiling: nil), to: finished).get()
        #expect(again.failoverVersion == 500_101 && again.importCeiling == 500_001)
        // Importing again (a rollback after the write cutover): uncapped, ordered by the source's log.
        let resumed = try Self.apply(.setImporting(name: "orders", importing: true, failoverVersion: nil, ceiling: nil), to: again).get()
        #expect(resumed.importing && resumed.importCeiling == nil && resumed.failoverVersion == 500_101)
    }

    @Test func anImportedOrderKeepsItsIssuerAndRefusesWhatDoesNotFit() {
        #expect(DeploymentDirectory.importedFailoverVersion(order: 0, issuer: 3) == 3)
        #expect(DeploymentDirectory.importedFailoverVersion(order: 0x1_6000_0000, issuer: 2) == Int64(590_558_003_202))
        #expect(DeploymentDirectory.issuer(of: DeploymentDirectory.importedFailoverVersion(order: 987_654_321, issuer: 7)!) == 7)
        #expect(DeploymentDirectory.importedFailoverVersion(order: -1, issuer: 1) == nil)
        #expect(DeploymentDirectory.importedFailoverVersion(order: Int64.max / 100 + 1, issuer: 1) == nil)
    }
}
