#!/usr/bin/env bash
# What a shared store costs and what its failures cost: greyd alone, greyd on a loopback redis-server and greyd on a
# loopback Garnet, each at 1 and 10 connections; then, under load, the shared store paused (SIGSTOP) and killed.
# Writes a markdown report. Called by ./build.sh bench shared, which builds the binaries first.
#
#   bench/shared.sh GREYD LOAD OUT.md
#
# Environment: BENCH_SECONDS (measured seconds a run, default 10), BENCH_WARMUP (default 2), BENCH_ROUNDS (runs per
# row, interleaved; medians reported; default 3), BENCH_CONNECTIONS (default "1 10"), REDIS_SERVER (default
# redis-server), GARNET_SERVER (default artifacts/tools/garnet/garnet-server; that row is left out when missing).
set -euo pipefail
GREYD=$1 LOAD=$2 OUT=$3
SECONDS_RUN=${BENCH_SECONDS:-10}
WARMUP=${BENCH_WARMUP:-2}
ROUNDS=${BENCH_ROUNDS:-3}
CONNECTIONS=${BENCH_CONNECTIONS:-1 10}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
REDIS_SERVER=${REDIS_SERVER:-$(command -v redis-server || echo /usr/bin/redis-server)}
GARNET_SERVER=${GARNET_SERVER:-$ROOT/artifacts/tools/garnet/garnet-server}
TIMEOUT_MS=50

say() { printf '== %s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

for f in "$GREYD" "$LOAD" "$REDIS_SERVER"; do [ -x "$f" ] || die "$f is missing (./build.sh deps)"; done

WORK=$(mktemp -d /tmp/greyd-shared-bench.XXXXXX)
declare -A PID=() PORT=()
cleanup() {
  local name
  for name in "${!PID[@]}"; do kill -CONT "${PID[$name]}" 2>/dev/null || true; kill "${PID[$name]}" 2>/dev/null || true; done
  for name in "${!PID[@]}"; do wait "${PID[$name]}" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
  local port
  while :; do
    port=$((30000 + RANDOM % 30000))
    ss -Hltn "sport = :$port" 2>/dev/null | grep -q . || { echo "$port"; return; }
  done
}

ping_store() { exec 3<>"/dev/tcp/127.0.0.1/$1" && printf 'PING\r\n' >&3 && timeout 1 head -c 7 <&3 | grep -q PONG; local ok=$?; exec 3<&- 3>&-; return $ok; }

# Starts shared store $1 (redis or garnet) on a free loopback port and waits until it answers PING.
start_store() {
  local name=$1 port i
  port=$(free_port)
  PORT[$name]=$port
  case $name in
    redis) "$REDIS_SERVER" --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK" >"$WORK/$name.log" 2>&1 & ;;
    garnet) "$GARNET_SERVER" --bind 127.0.0.1 --port "$port" --lua --lua-transaction-mode --memory 256m --index 64m -q --logger-level Error >"$WORK/$name.log" 2>&1 & ;;
  esac
  PID[$name]=$!
  for i in $(seq 100); do ping_store "$port" 2>/dev/null && return; sleep 0.1; done
  die "$name did not start: $(tail -3 "$WORK/$name.log")"
}

# Starts greyd $1 (local, or on shared store $1) on $WORK/greyd-$1.sock and waits until it answers.
start_greyd() {
  local name=$1 sock="$WORK/greyd-$1.sock" store=()
  [ "$name" != local ] && store=(--store="redis://127.0.0.1:${PORT[$name]}/0" --store-timeout=$TIMEOUT_MS)
  "$GREYD" --admin-socket=none --unix="$sock" --dbdir="$WORK/db-$name" "${store[@]}" 2>"$WORK/greyd-$name.log" & PID[greyd-$name]=$!
  "$LOAD" --unix="$sock" --wait=30 -c 1 -n 1 -w 0 -l probe >/dev/null || die "greyd ($name) did not start: $(tail -3 "$WORK/greyd-$name.log")"
}

shape() { if [ "$1" -eq 1 ]; then echo "-t 0 --spin"; else echo "-t 1"; fi; }

run() {
  # shellcheck disable=SC2046 # the shape is several words on purpose
  "$LOAD" --unix="$WORK/greyd-$1.sock" -c "$2" $(shape "$2") -d "${3:-$SECONDS_RUN}" -w "${4:-$WARMUP}" -r 0.5 -l "$1" | grep '^result:' \
    || die "the load against greyd ($1) with $2 connections failed"
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"; }
outages() { grep -c 'greylisting from the local store' "$WORK/greyd-$1.log" || true; }

NAMES="local redis"
start_store redis
if [ -x "$GARNET_SERVER" ]; then
  start_store garnet
  NAMES="$NAMES garnet"
else
  say "no Garnet at $GARNET_SERVER: its row is left out"
fi
for name in $NAMES; do start_greyd "$name"; done

declare -A RESULT=() RPS=() P50=() P99=()
for c in $CONNECTIONS; do
  for round in $(seq "$ROUNDS"); do
    for name in $NAMES; do
      say "greyd ($name), $c connection(s), round $round of $ROUNDS"
      line=$(run "$name" "$c")
      echo "   $(cut -d' ' -f2- <<<"$line")" >&2
      RESULT[$name,$c]="${RESULT[$name,$c]:-}$line"$'\n'
    done
  done
  for name in $NAMES; do
    RPS[$name,$c]=$(sed -n 's/.* rps=\([^ ]*\).*/\1/p' <<<"${RESULT[$name,$c]}" | median | awk '{ printf "%d", $1 + 0.5 }')
    P50[$name,$c]=$(sed -n 's/.* p50_us=\([^ ]*\).*/\1/p' <<<"${RESULT[$name,$c]}" | median)
    P99[$name,$c]=$(sed -n 's/.* p99_us=\([^ ]*\).*/\1/p' <<<"${RESULT[$name,$c]}" | median)
  done
done
declare -A DEGRADED=()
for name in $NAMES; do DEGRADED[$name]=$(outages "$name"); done

# Failures under load: the store is paused, then killed, 2 s into a 6 s run at 10 connections.
fault_run() {
  local action=$1 line
  ( sleep 2; kill "-$action" "${PID[redis]}" ) &
  line=$(run redis 10 6 0)
  wait $! || true
  echo "$line"
}
say "redis paused (SIGSTOP) under load"
paused=$(fault_run STOP)
kill -CONT "${PID[redis]}"
for _ in $(seq 50); do grep -q 'back, greylisting from it again' "$WORK/greyd-redis.log" && break; sleep 0.1; done
say "redis killed (SIGKILL) under load"
killed=$(fault_run KILL)
wait "${PID[redis]}" 2>/dev/null || true
unset "PID[redis]"
fault_log=$(grep -E 'shared store' "$WORK/greyd-redis.log" | sed 's/^<[0-9]>//')

verdict() { awk -v v="$1" -v t="$2" 'BEGIN { print (v <= t) ? "met" : "missed" }'; }
added() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", a - b }'; }
{
  echo "# greyd on a shared store: the cost per request, and failures under load"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), greyd $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) CPUs, $(uname -sr)."
  echo "greyd with default options on a private unix socket; the shared stores on loopback TCP (redis-server $("$REDIS_SERVER" --version | sed -n 's/.*v=\([^ ]*\).*/\1/p')$([ -x "$GARNET_SERVER" ] && echo ", Garnet with --lua --lua-transaction-mode"));"
  echo "--store-timeout=$TIMEOUT_MS. greyd-load as in \`./build.sh bench\` (half the triplets repeated), $SECONDS_RUN s per run after $WARMUP s of warm-up,"
  echo "$ROUNDS interleaved rounds per row, medians shown. Command: \`./build.sh bench shared\`."
  echo
  echo "| store | connections | req/s | p50 (µs) | p99 (µs) | p50 added (µs) | p99 added (µs) | outages logged |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|"
  for c in $CONNECTIONS; do
    for name in $NAMES; do
      echo "| $name | $c | ${RPS[$name,$c]} | ${P50[$name,$c]} | ${P99[$name,$c]} | $(added "${P50[$name,$c]}" "${P50[local,$c]}") | $(added "${P99[$name,$c]}" "${P99[local,$c]}") | ${DEGRADED[$name]} |"
    done
  done
  echo
  echo "**Failures under load** (10 connections, 6 s, the fault 2 s in):"
  echo
  echo "| fault | req/s | p99 (µs) | max (µs) | replies |"
  echo "|---|---:|---:|---:|---:|"
  echo "| redis paused (SIGSTOP) | $(field "$paused" rps) | $(field "$paused" p99_us) | $(field "$paused" max_us) | $(field "$paused" requests) |"
  echo "| redis killed | $(field "$killed" rps) | $(field "$killed" p99_us) | $(field "$killed" max_us) | $(field "$killed" requests) |"
  echo
  echo "greyd's log of the two faults:"
  echo
  echo '```'
  echo "$fault_log"
  echo '```'
  echo
  echo "| target | measured | |"
  echo "|---|---:|---|"
  last=${CONNECTIONS##* }
  v=${P99[redis,$last]}; echo "| p99 with redis at $last connections < 1000 µs | $v µs | $(verdict "$v" 1000) |"
  [ -x "$GARNET_SERVER" ] && { v=${P99[garnet,$last]}; echo "| p99 with Garnet at $last connections < 1000 µs | $v µs | $(verdict "$v" 1000) |"; }
  v=$(field "$paused" max_us); echo "| slowest reply with redis paused ≤ timeout + 20 ms | $v µs | $(verdict "$v" $(( (TIMEOUT_MS + 20) * 1000 ))) |"
  v=$(field "$killed" max_us); echo "| slowest reply with redis killed ≤ timeout + 20 ms | $v µs | $(verdict "$v" $(( (TIMEOUT_MS + 20) * 1000 ))) |"
} >"$OUT"
cat "$OUT"
