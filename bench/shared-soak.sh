#!/usr/bin/env bash
# Two greyds (MX1, MX2) on one loopback redis-server, each under load at 10 connections, while the store is paused
# for 2 s, killed and restarted empty, five times over. Prints both loads' result lines (max_us is the slowest
# reply), the outage and recovery lines each greyd logged, and its status; exits 1 if a reply failed, a greyd is
# not back on the store at the end, or a reply took longer than 1 s.
#
#   bench/shared-soak.sh [GREYD [LOAD]]     (defaults: artifacts/greyd/greyd, artifacts/bench/greyd-load)
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
GREYD=${1:-$ROOT/artifacts/greyd/greyd} LOAD=${2:-$ROOT/artifacts/bench/greyd-load}
REDIS_SERVER=${REDIS_SERVER:-$(command -v redis-server || echo /usr/bin/redis-server)}
for f in "$GREYD" "$LOAD" "$REDIS_SERVER"; do [ -x "$f" ] || { echo "shared-soak: $f is missing" >&2; exit 1; }; done

WORK=$(mktemp -d /tmp/greyd-soak.XXXXXX)
PORT=$((30000 + RANDOM % 30000))
declare -a PIDS=()
cleanup() { kill -CONT "${PIDS[@]}" 2>/dev/null; kill "${PIDS[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

start_redis() { "$REDIS_SERVER" --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK" >/dev/null 2>&1 & REDIS=$!; PIDS+=("$REDIS"); sleep 0.3; }
start_redis
for mx in 1 2; do
  "$GREYD" --admin-socket=none --unix="$WORK/mx$mx.sock" --dbdir="$WORK/db$mx" --store="redis://127.0.0.1:$PORT/0" 2>"$WORK/mx$mx.log" &
  GREYDS[$mx]=$!
  PIDS+=("${GREYDS[$mx]}")
done
sleep 1
for mx in 1 2; do
  "$LOAD" --unix="$WORK/mx$mx.sock" -c 10 -t 1 -d 75 -w 0 -r 0.7 -l "mx$mx" >"$WORK/load$mx.out" &
  LOADS[$mx]=$!
done
for _ in 1 2 3 4 5; do
  sleep 4; kill -STOP "$REDIS"; sleep 2; kill -CONT "$REDIS"
  sleep 4; kill -9 "$REDIS"; wait "$REDIS" 2>/dev/null; sleep 2
  start_redis
done
wait "${LOADS[1]}" "${LOADS[2]}"
sleep 2
kill -USR1 "${GREYDS[1]}" "${GREYDS[2]}"
sleep 0.5
status=0
for mx in 1 2; do
  line=$(grep '^result:' "$WORK/load$mx.out" | sed 's/ target=[^ ]*//')
  echo "$line"
  grep -q ' failed=0 ' <<<"$line" || status=1
  max=$(sed -n 's/.* max_us=\([0-9]*\).*/\1/p' <<<"$line")
  [ "${max:-0}" -le 1000000 ] || status=1
  echo "mx$mx: $(grep -c 'greylisting from the local store' "$WORK/mx$mx.log") outages, $(grep -c 'back, greylisting from it again' "$WORK/mx$mx.log") recoveries"
  state=$(grep -o 'shared-state=[a-z]*' "$WORK/mx$mx.log" | tail -1)
  echo "mx$mx: $state"
  [ "$state" = shared-state=up ] || status=1
done
exit $status
