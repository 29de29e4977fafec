# Periscope. Two commands on a fresh machine:
#   make run    install what is missing, build, start a node (data in ./data, 127.0.0.1:7280)
#   make test   install what is missing, build, run every test
SWIFT ?= swift
# `make run` starts the embedded single node; `make run ARGS="query check '...'"` runs another command.
ARGS ?= node start

.PHONY: run test build setup clean chaos proto bench-http2 fuzz-query sim bench-raft bench-shard bench-node bench-region bench-regions bench-migration cluster cluster-stop

run: setup
	$(SWIFT) build --product periscope
	"$$($(SWIFT) build --show-bin-path)/periscope" $(ARGS)

# The socket tests measure deadlines, keepalives and shutdowns in seconds; on two cores the
# CPU-bound suites (simulator, differential queries, crash loaders) would starve them, so they
# run first on their own. The suites that run whole regions of node processes (3 to 9 nodes
# each), and the migration's (a PostgreSQL server and a node each), run next, one test at a
# time: side by side with each other and the CPU-bound suites, nodes took over 30 s to start. Then one short seeded chaos run (a 3-node region under faults,
# every checker; under 2 minutes), then everything else. Together the runs cover every test.
SOCKET_TESTS = ^(PeriscopeHTTP2Tests|PeriscopeRPCTests)\.
REGION_TESTS = ^PeriscopeCLITests\.(RegionTests|MultiRegionTests|TransportIsolationTests|ClockSkewTests|MigrationSourceTests|MigrationBackfillTests|MigrationValidationTests|MigrationCutoverTests)

test: setup
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --filter '$(SOCKET_TESTS)'
	$(SWIFT) test --skip-build --no-parallel --filter '$(REGION_TESTS)'
	"$$($(SWIFT) build --show-bin-path)/periscope-chaos" --seeds 1 --duration 45 --output .build/chaos-smoke
	$(SWIFT) test --skip-build --skip '$(SOCKET_TESTS)' --skip '$(REGION_TESTS)'

# The chaos harness (docs/reliability.md): a 3-node region on 127.0.90.1-3 under a seeded
# workload and fault schedule, then the checkers; reports under chaos/runs/. As root for the
# kernel faults. make chaos SEEDS=1-20 DURATION=180 NEMESES=split,kill CHAOS_TOPOLOGY=chaos/topologies/region5.json
SEEDS ?= 1
DURATION ?= 120
NEMESES ?= all
CHAOS_TOPOLOGY ?= chaos/topologies/region3.json
chaos: setup
	$(SWIFT) build
	"$$($(SWIFT) build --show-bin-path)/periscope-chaos" --topology $(CHAOS_TOPOLOGY) --seeds $(SEEDS) --duration $(DURATION) --nemesis $(NEMESES)

# A local region of 3 nodes on 127.0.0.2-4 (TOPOLOGY=cluster/region5.json: 5 nodes on .2-.6),
# data and logs under cluster/run/; `make cluster-stop` stops it (WIPE=1 deletes the data).
TOPOLOGY ?= cluster/region3.json
cluster: setup
	$(SWIFT) build --product periscope
	./cluster/start.sh $(TOPOLOGY)

cluster-stop:
	./cluster/stop.sh $(TOPOLOGY) $(if $(WIPE),--wipe)

build: setup
	$(SWIFT) build

setup:
	@./scripts/setup.sh

# Regenerate Sources/PeriscopeAPI/Generated from the .proto files (committed; CI never runs it).
proto:
	./scripts/generate-proto.sh

# h2load against Periscope's health check and against nghttpd, side by side (docs/benchmarks.md).
bench-http2: setup
	./scripts/bench-http2.sh

# A long fuzzing run of the query compiler (CASES=1000000 SEED=...).
fuzz-query: setup
	./scripts/fuzz-query.sh $(or $(CASES),1000000) $(SEED)

# A long run of the Raft cluster simulator (SEEDS=100000 FIRST=1); prints the seed of any violation.
sim: setup
	./scripts/sim.sh $(or $(SEEDS),10000) $(or $(FIRST),1)

# Durable Raft commits/s and fsyncs per entry at 1, 16 and 256 proposers, next to etcd (docs/benchmarks.md).
bench-raft:
	@./scripts/setup.sh bench
	./scripts/bench-raft.sh

# One shard with 1,000,000 synthetic executions: ingest, index lag, query latencies (docs/benchmarks.md).
bench-shard: setup
	./scripts/bench-shard.sh

# One node loaded through the client: writes/s and p50/p99 at 1, 16, 128 writers, visibility lag, query mix.
bench-node: setup
	./scripts/bench-node.sh

# A 3-node region beside a 3-member etcd: writes/s and p50/p99 at 1, 16, 128 writers, the ratio,
# follower visibility lag, and failover after kill -9 of a leader (docs/benchmarks.md).
bench-region:
	@./scripts/setup.sh bench
	./scripts/bench-region.sh

# 3 regions x 1 node: the home's writes/s with and without two replica regions, cross-region
# replication lag p50/p99 at 1, 16, 128 writers, and catching up 100,000 writes after a cut.
bench-regions: setup
	./scripts/bench-regions.sh

# The migration from Temporal's PostgreSQL store: backfill of 1,000,000 rows beside COPY ... TO,
# validation's duration, capture lag p50/p99 at 1,000 and 5,000 rows/s (docs/benchmarks.md).
bench-migration: setup
	./scripts/bench-migration.sh

clean:
	rm -rf .build .build-protoc-gen-swift
