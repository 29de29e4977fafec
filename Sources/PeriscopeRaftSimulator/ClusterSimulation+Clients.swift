import PeriscopeRaft

/// Clients: proposals sent to a random replica (redirected once to the leader it names) and
/// linearizable reads, each checked against what was committed when it began.
extension ClusterSimulation {
    func runClients() {
        if random.below(100) < config.proposalPercent {
            for _ in 0..<(1 + random.below(3)) { propose() }
        }
        if random.below(100) < config.readPercent { read() }
    }

    private var clientReachable: [SimulatedReplica] { upReplicas.filter { !$0.isRemoved } }

    private func propose() {
        guard var target = random.pick(clientReachable) else { return }
        let proposal = nextProposalID
        nextProposalID += 1
        let payload = proposalPayload(id: proposal, fillerBytes: random.below(48))
        for attempt in 0..<2 {
            guard let node = target.node else { return }
            do {
                let entry = try node.propose(payload)
                target.pendingProposals[entry.index] = (entry.term, proposal)
                report.proposalsAccepted += 1
                return
            } catch RaftError.notLeader(let leader?) where attempt == 0 {
                guard let redirected = replicas[leader], redirected.isUp else { return }
                target = redirected
            } catch {
                return
            }
        }
    }

    private func read() {
        guard let target = random.pick(clientReachable), let node = target.node else { return }
        let request = nextReadID
        nextReadID += 1
        // Everything applied anywhere so far was committed before this read began.
        let floor = checker.highestApplied
        do {
            try node.readIndex(requestID: request)
            target.pendingReads[request] = floor
        } catch {
            return
        }
    }
}
