import Metrics
import PeriscopeModel
import Prometheus

/// A node's metrics, through swift-metrics into its own Prometheus registry (not the
/// process-wide bootstrap, so several nodes in one test process stay apart). Request
/// latencies are histograms; lags and sizes are gauges sampled when `/metrics` is scraped.
public final class NodeMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let factory: PrometheusMetricsFactory

    public init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // 100 µs ... 10 s: a group commit is a few ms, a broad query hundreds.
        factory.defaultDurationHistogramBuckets = [
            .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
            .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1), .seconds(2), .seconds(5), .seconds(10),
        ]
        self.factory = factory
    }

    /// Time of one call of `method` (`RecordExecutionStarted`, `ListExecutions`, …) that
    /// ended with `code` (`OK`, `INVALID_ARGUMENT`, …).
    public func recordCall(method: String, kind: String, code: String, duration: Duration) {
        Metrics.Timer(label: "periscope_rpc_duration_seconds", dimensions: [("method", method), ("kind", kind), ("code", code)],
                      factory: factory)
            .recordSeconds(duration.seconds)
    }

    func gauge(_ name: String, _ dimensions: [(String, String)] = []) -> Metrics.Gauge {
        Metrics.Gauge(label: name, dimensions: dimensions, factory: factory)
    }

    /// The registry in Prometheus' text format.
    public func exposition() -> [UInt8] { registry.emitToBuffer() }
}

extension VisibilityNode {
    /// Samples the gauges (Raft and index lag, storage sizes, fsyncs) and returns the
    /// exposition. **Blocks** briefly on RocksDB properties.
    public func scrapeMetrics() -> [UInt8] {
        for (index, shard) in shards.enumerated() {
            let status = groups[index].status
            let label = [("shard", String(index))]
            metrics.gauge("periscope_raft_commit_index", label).record(Double(status.committedIndex))
            metrics.gauge("periscope_raft_apply_lag_entries", label).record(Double(status.committedIndex - min(status.committedIndex, status.appliedIndex)))
            metrics.gauge("periscope_index_lag_entries", label).record(Double((try? shard.indexLag()) ?? 0))
            metrics.gauge("periscope_shard_storage_bytes", label).record(Double((try? shard.storageBytes()) ?? 0))
            metrics.gauge("periscope_raft_is_leader", label).record(status.leader == configuration.nodeID ? 1 : 0)
            metrics.gauge("periscope_page_points_in_time", label).record(Double(shard.pointsInTimeOpen))
            metrics.gauge("periscope_indexer_failed", label).record(indexers[index].stoppedBecause == nil ? 0 : 1)
        }
        switch clocks.judgement {
        case .agreed(let correction):
            metrics.gauge("periscope_clock_agreed").record(1)
            metrics.gauge("periscope_clock_correction_seconds").record(Double(correction) / 1e9)
        case .unknown:
            metrics.gauge("periscope_clock_agreed").record(0)
            metrics.gauge("periscope_clock_correction_seconds").record(0)
        }
        if let disk = loop.diskGuard {
            metrics.gauge("periscope_disk_free_bytes").record(Double(disk.availableBytes))
            metrics.gauge("periscope_disk_low").record(disk.isLow ? 1 : 0)
            metrics.gauge("periscope_disk_reserve_held").record(disk.holdsReserve ? 1 : 0)
        }
        let counters = store.counters
        metrics.gauge("periscope_raft_log_fsyncs").record(Double(counters.fsyncs))
        metrics.gauge("periscope_raft_log_entries_written").record(Double(counters.entriesWritten))
        metrics.gauge("periscope_raft_log_bytes_written").record(Double(counters.bytesWritten))
        let groupStatuses = allGroups.map(\.status)
        metrics.gauge("periscope_raft_groups_quiesced").record(Double(groupStatuses.filter(\.quiesced).count))
        metrics.gauge("periscope_raft_messages_received").record(Double(transport.statistics.messagesReceived))
        metrics.gauge("periscope_raft_snapshots_sent").record(Double(transport.snapshots.delivered))
        metrics.gauge("periscope_raft_snapshots_installed").record(Double(transport.snapshotsInstalled))
        metrics.gauge("periscope_namespaces").record(Double(catalog.namespaces.count))
        recordReplicationMetrics()
        metrics.gauge("periscope_node_ready").record(isReady ? 1 : 0)
        return metrics.exposition()
    }
}
