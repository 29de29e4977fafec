import Foundation
import PeriscopeAPI
import PeriscopeRaft
import PeriscopeRaftLog
import PeriscopeRPC
import PeriscopeShard

/// Any node accepts any request. A write is proposed where its group's leader is: here if
/// this replica leads, else forwarded to the leader this replica follows. While a group
/// has no leader (an election, a leader that just died) the node waits and retries within
/// `leaderWaitTimeout` instead of failing the write at once.
extension VisibilityNode {
    func proposeOnLeader<Machine>(_ group: ReplicaGroup<Machine>, _ data: [UInt8]) async throws -> Applied<Machine.Outcome> {
        let deadline = ContinuousClock.now + configuration.leaderWaitTimeout
        var pause: Duration = .milliseconds(10)
        while true {
            var lastError: any Error
            do {
                return try await group.propose(data)
            } catch ReplicationError.notLeader(let groupID, let leader) {
                lastError = ReplicationError.notLeader(group: groupID, leader: leader)
                let target = leader.flatMap { $0 != nodeID && !transport.isIsolated(from: $0) ? $0 : nil }
                do {
                    if let target, let endpoint = transport.address(of: target),
                       transport.isResponsive(target, within: LeaderBalancer.responsiveWithin) {
                        return try await forward(data, ofGroup: group.id, to: target, at: endpoint, as: Machine.Outcome.self)
                    }
                    if let relayed = try await relay(data, ofGroup: group.id, avoiding: target, as: Machine.Outcome.self) {
                        return relayed
                    }
                    if let target, let endpoint = transport.address(of: target) {
                        return try await forward(data, ofGroup: group.id, to: target, at: endpoint, as: Machine.Outcome.self)
                    }
                } catch let status as RPCStatus where status.code == .unavailable {
                    // That node no longer leads, or cannot be reached: learn the new leader.
                    lastError = status
                }
            } catch ReplicationError.transferring(let groupID, let target) {
                // The transfer ends within an election timeout: wait for the new leader.
                lastError = ReplicationError.transferring(group: groupID, to: target)
            }
            guard ContinuousClock.now + pause < deadline else {
                throw RPCStatus(.unavailable, "group \(group.id) found no reachable leader within \(configuration.leaderWaitTimeout): "
                    + "\(lastError)")
            }
            try await Task.sleep(for: pause)
            pause = min(pause * 2, .milliseconds(200))
        }
    }

    /// Forwards through another member that this node hears, when it has not heard from the
    /// leader lately or knows none: a partition that cut only this node's link to the leader
    /// leaves the leader a quorum through the others, and this node, campaigning in vain,
    /// forgets who leads (the chaos harness's bridge left the bridged-off nodes unable to
    /// write for the whole fault). The member relays it to the leader it follows. Nil when
    /// no other member is heard.
    private func relay<Outcome: Decodable>(_ data: [UInt8], ofGroup group: GroupID, avoiding leader: NodeID?,
                                           as: Outcome.Type) async throws -> Applied<Outcome>? {
        let relays = regionMap.map.members.map(\.nodeID).filter { member in
            member != nodeID && member != leader && !transport.isIsolated(from: member)
                && transport.isResponsive(member, within: LeaderBalancer.responsiveWithin)
        }
        var lastError: (any Error)?
        for relay in relays {
            guard let endpoint = transport.address(of: relay) else { continue }
            do {
                return try await forward(data, ofGroup: group, to: relay, at: endpoint, as: Outcome.self)
            } catch let status as RPCStatus where status.code == .unavailable {
                lastError = status
            }
        }
        if let lastError { throw lastError }
        return nil
    }

    /// Hops a forwarded proposal may take: to the leader, or to a member that relays it there once.
    static let forwardHopsMax: UInt32 = 2

    private func forward<Outcome: Decodable>(_ data: [UInt8], ofGroup group: GroupID, to leader: NodeID, at endpoint: RPCEndpoint,
                                             as: Outcome.Type) async throws -> Applied<Outcome> {
        let response = try await transport.pool.unary(endpoint, ClusterPeerMethods.forwardProposal, .with {
            $0.groupID = group
            $0.data = Data(data)
            $0.fromNode = nodeID
            $0.hops = 1
        }, timeout: configuration.forwardTimeout)
        do {
            return Applied(index: response.index, outcome: try JSONDecoder().decode(Outcome.self, from: response.outcome))
        } catch {
            throw RPCStatus(.internalError, "node \(leader) answered a forwarded proposal with an undecodable outcome: \(error)")
        }
    }

    /// The index a linearizable read of `group` must see (ReadIndex, confirmed by a quorum
    /// through the leader). An attempt waits at most an election timeout: one forwarded to a
    /// leader that just died is never answered, and by then another leader is known. Retries
    /// while no leader is known, within the consistency timeout.
    func confirmedReadIndex<Machine>(_ group: ReplicaGroup<Machine>) async throws -> UInt64 {
        let deadline = ContinuousClock.now + configuration.consistencyTimeout
        let attemptMax = configuration.raftTickInterval * configuration.raftTuning.electionTicks
        var pause: Duration = .milliseconds(10)
        while true {
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { throw ReplicationError.noQuorum(group: group.id, waited: configuration.consistencyTimeout) }
            do {
                return try await group.readIndex(timeout: min(remaining, attemptMax))
            } catch ReplicationError.notLeader {
                // No leader known yet: an election is under way.
                try await Task.sleep(for: min(pause, remaining))
                pause = min(pause * 2, .milliseconds(200))
            } catch ReplicationError.noQuorum {
                // Unanswered within an election timeout: ask again, of whoever leads now.
            }
        }
    }

    /// Polls `condition` until it holds, or throws UNAVAILABLE naming `what` after `timeout`.
    func waitUntil(timeout: Duration, what: @autoclosure () -> String, _ condition: @Sendable () -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition() {
            guard ContinuousClock.now < deadline else { throw RPCStatus(.unavailable, "timed out after \(timeout) waiting for \(what())") }
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    /// Answers a proposal another node forwarded: proposed here only (this replica must lead).
    func proposeForwarded(_ request: Periscope_V1_ForwardProposalRequest) async throws -> Periscope_V1_ForwardProposalResponse {
        guard !transport.isIsolated(from: request.fromNode) else {
            throw RPCStatus(.unavailable, "node \(nodeID) is cut off from node \(request.fromNode) (fault injection)")
        }
        let data = Array(request.data)
        func answer<Outcome: Encodable>(_ applied: Applied<Outcome>) throws -> Periscope_V1_ForwardProposalResponse {
            let outcome = try JSONEncoder().encode(applied.outcome)
            return .with {
                $0.index = applied.index
                $0.outcome = outcome
            }
        }
        do {
            if request.groupID == Self.catalogGroupID { return try answer(try await catalogGroup.propose(data)) }
            if request.groupID == Self.regionGroupID { return try answer(try await regionGroup.propose(data)) }
            guard let shard = shardIndex(ofGroup: request.groupID) else {
                throw RPCStatus(.notFound, "node \(nodeID) hosts no group \(request.groupID)")
            }
            return try answer(try await groups[shard].propose(data))
        } catch ReplicationError.notLeader(let group, let leader?) where request.hops < Self.forwardHopsMax && leader != nodeID
            && leader != request.fromNode && !transport.isIsolated(from: leader) {
            // Sent here to be relayed (the sender cannot reach the leader), or this node just
            // stopped leading: pass it on, once.
            guard let endpoint = transport.address(of: leader) else { throw ReplicationError.notLeader(group: group, leader: leader) }
            var relayed = request
            relayed.hops += 1
            relayed.fromNode = nodeID
            return try await transport.pool.unary(endpoint, ClusterPeerMethods.forwardProposal, relayed, timeout: configuration.forwardTimeout)
        }
    }

    func shardIndex(ofGroup group: GroupID) -> Int? {
        guard group >= Self.groupID(ofShard: 0), group < Self.groupID(ofShard: shardCount) else { return nil }
        return Int(group - Self.groupID(ofShard: 0))
    }
}

/// `periscope.v1.ClusterPeer` on a running node: forwarded proposals, and a repeated
/// `Bootstrap` (answered `created: false` for this region, refused for another).
struct ClusterPeerService: Sendable {
    let node: VisibilityNode

    func register(in router: inout RPCRouter) {
        let node = self.node
        VisibilityService.route(ClusterPeerMethods.forwardProposal, &router, metrics: node.metrics, kind: "peer") { request in
            try await node.proposeForwarded(request)
        }
        VisibilityService.route(ClusterPeerMethods.proposeConfChange, &router, metrics: node.metrics, kind: "peer") { request in
            try await node.proposeConfChangeForwarded(request)
        }
        VisibilityService.route(ClusterPeerMethods.injectPartition, &router, metrics: node.metrics, kind: "peer") { request in
            guard node.configuration.allowsFaultInjection else {
                throw RPCStatus(.permissionDenied, "fault injection is off; start the node with --allow-fault-injection (tests and chaos only)")
            }
            node.transport.isolate(from: Set(request.isolatedFrom))
            try node.checkRegionsKnown(request.isolatedFromRegions)
            node.links.isolate(from: Set(request.isolatedFromRegions))
            node.logger.warning("fault injection: cut off", metadata: [
                "nodes": "\(request.isolatedFrom.sorted())", "regions": "\(request.isolatedFromRegions.sorted())",
            ])
            return .with {
                $0.isolatedFrom = node.transport.isolatedFrom.sorted()
                $0.isolatedFromRegions = node.links.isolatedRegions.sorted()
            }
        }
        VisibilityService.route(ClusterPeerMethods.readClock, &router, metrics: node.metrics, kind: "peer") { _ in
            .with {
                $0.wallClockUnixNanos = node.configuration.wallClock().nanosecondsSinceEpoch
                $0.nodeID = node.nodeID
            }
        }
        VisibilityService.route(ClusterPeerMethods.bootstrap, &router, metrics: node.metrics, kind: "peer") { request in
            let asked = try ClusterIdentity.from(request, nodeID: node.nodeID)
            guard asked.isSameRegion(as: node.identity) else {
                throw RPCStatus(.alreadyExists, "node \(node.nodeID) already belongs to region \(node.identity.region) "
                    + "(cluster \(node.identity.clusterID)); its data directory must be emptied to join another")
            }
            return .with { $0.created = false }
        }
    }
}
