#!/usr/bin/env bash
# HTTP/2 benchmark: h2load against Periscope's gRPC health check and against nghttpd serving a
# tiny file, on this machine, with the same flags, one after the other. Prints req/s of both
# and the ratio; latency from the -c1 -m1 run. Results go to docs/benchmarks.md by hand, with
# the conditions this script prints.
#   scripts/bench-http2.sh            (make bench-http2)
#   REQUESTS=500000 THREADS=2 scripts/bench-http2.sh
set -euo pipefail
cd "$(dirname "$0")/.."

REQUESTS=${REQUESTS:-200000}
ROUNDS=${ROUNDS:-5}                   # alternating runs; the median of each side is reported
LATENCY_REQUESTS=${LATENCY_REQUESTS:-20000}
THREADS=${THREADS:-$(nproc)}          # server event-loop threads, and nghttpd workers
CLIENT_THREADS=${CLIENT_THREADS:-1}   # h2load -t
PERISCOPE_PORT=${PERISCOPE_PORT:-17280}
NGHTTPD_PORT=${NGHTTPD_PORT:-17281}

for tool in h2load nghttpd; do
  command -v "$tool" >/dev/null || { echo "bench: $tool missing; run scripts/setup.sh" >&2; exit 1; }
done

echo "bench: building periscope (release)"
swift build -c release --product periscope >/dev/null
periscope="$(swift build -c release --show-bin-path)/periscope"

work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

# The gRPC health check request: one empty HealthCheckRequest, length-prefixed.
printf '\x00\x00\x00\x00\x00' > "$work/health-request"
mkdir "$work/docroot" && printf 'ok\n' > "$work/docroot/tiny"

"$periscope" rpc serve --host 127.0.0.1 --port "$PERISCOPE_PORT" --threads "$THREADS" > "$work/periscope.log" 2>&1 &
pids+=($!)
nghttpd --no-tls -n "$THREADS" -d "$work/docroot" "$NGHTTPD_PORT" > "$work/nghttpd.log" 2>&1 &
pids+=($!)

wait_for_port() {
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "bench: nothing listens on port $1" >&2; exit 1
}
wait_for_port "$PERISCOPE_PORT"
wait_for_port "$NGHTTPD_PORT"

periscope_load() {
  h2load "$@" -t "$CLIENT_THREADS" -d "$work/health-request" \
    -H 'content-type: application/grpc' -H 'te: trailers' \
    "http://127.0.0.1:$PERISCOPE_PORT/grpc.health.v1.Health/Check"
}
nghttpd_load() {
  h2load "$@" -t "$CLIENT_THREADS" "http://127.0.0.1:$NGHTTPD_PORT/tiny"
}

reqs_per_second() { sed -n 's/^finished in .*, \([0-9.]*\) req\/s.*/\1/p'; }
succeeded() { sed -n 's/^requests: .* \([0-9]*\) succeeded.*/\1/p'; }
latency() { awk '/^time for request:/ { print "min " $4 ", max " $5 ", mean " $6 ", sd " $7 }'; }

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

run() {  # name, flags...  Alternates the two servers ROUNDS times: this machine's speed drifts.
  local name=$1; shift
  : > "$work/p.rates"; : > "$work/n.rates"; : > "$work/ratios"
  for _ in $(seq 1 "$ROUNDS"); do
    periscope_load "$@" > "$work/p.out"; nghttpd_load "$@" > "$work/n.out"
    [ "$(succeeded < "$work/p.out")" = "$(succeeded < "$work/n.out")" ] || { echo "bench: failed requests"; cat "$work/p.out"; exit 1; }
    local pr nr
    pr=$(reqs_per_second < "$work/p.out"); nr=$(reqs_per_second < "$work/n.out")
    echo "$pr" >> "$work/p.rates"; echo "$nr" >> "$work/n.rates"
    awk -v a="$pr" -v b="$nr" 'BEGIN { print a / b }' >> "$work/ratios"
  done
  local p n
  p=$(median < "$work/p.rates"); n=$(median < "$work/n.rates")
  # The ratio is the median of the per-round ratios: each round runs both back to back.
  printf '%-22s periscope %9.0f req/s   nghttpd %9.0f req/s   ratio %.2f   (medians of %s rounds; periscope %s; nghttpd %s)\n' \
    "$name" "$p" "$n" "$(median < "$work/ratios")" "$ROUNDS" \
    "$(sort -n "$work/p.rates" | awk '{ printf "%d ", $1 }')" "$(sort -n "$work/n.rates" | awk '{ printf "%d ", $1 }')"
  echo "  last run's latency: periscope $(latency < "$work/p.out"); nghttpd $(latency < "$work/n.out")"
}

echo "bench: $(nproc) cores, server threads $THREADS, h2load threads $CLIENT_THREADS, $(h2load --version | head -1), periscope $("$periscope" version)"
# Warm both up.
periscope_load -n 20000 -c10 -m100 >/dev/null; nghttpd_load -n 20000 -c10 -m100 >/dev/null
run "throughput -c10 -m100" -n "$REQUESTS" -c10 -m100
run "latency -c1 -m1" -n "$LATENCY_REQUESTS" -c1 -m1
