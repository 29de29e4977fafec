/// Reads the node's free space every `diskCheckInterval` (`DiskSpaceGuard`), logs when the
/// node becomes low and when it recovers, and while it is low hands every leadership it
/// holds to a member that can take it: a leader that refuses proposals would leave its
/// groups without writes until an election.
struct DiskWatch {
    let node: VisibilityNode

    func run() async {
        guard let guardian = node.loop.diskGuard else { return }
        while !Task.isCancelled {
            do {
                switch try guardian.check() {
                case .becameLow?:
                    node.logger.warning("low on disk: refusing writes, handing off leaderships, dropping appends",
                                        metadata: ["why": "\(guardian.refusal().map { "\($0)" } ?? "")"])
                case .recovered?:
                    node.logger.notice("disk space recovered: taking writes again",
                                       metadata: ["free": "\(DiskSpaceGuard.megabytes(guardian.availableBytes))"])
                case nil:
                    break
                }
            } catch {
                node.logger.warning("cannot read the free disk space", metadata: ["error": "\(error)"])
            }
            if guardian.isLow {
                await handOff(node.regionGroup)
                await handOff(node.catalogGroup)
                for group in node.groups { await handOff(group) }
            }
            try? await Task.sleep(for: node.configuration.diskCheckInterval)
        }
    }

    /// Transfers `group`'s leadership, if this node holds it, to a member that can take it now.
    private func handOff<Machine>(_ group: ReplicaGroup<Machine>) async {
        let status = group.status
        guard status.leader == node.nodeID, status.transferringTo == nil else { return }
        let target = status.voters.sorted().first { member in
            member != node.nodeID && LeaderBalancer.canTakeOver(status, member: member,
                                                                isResponsive: node.transport.isResponsive(member, within: LeaderBalancer.responsiveWithin))
        }
        guard let target else { return }
        do {
            try await group.transferLeadership(to: target)
            node.logger.info("low on disk: handed a group's leadership over", metadata: ["group": "\(group.id)", "to": "\(target)"])
        } catch {
            node.logger.debug("low on disk: leadership transfer refused", metadata: ["group": "\(group.id)", "error": "\(error)"])
        }
    }
}
