#!/usr/bin/env bash
# Side-by-side comparison of greyd, the protocol floor (greyd's listener and reader answering DUNNO) and postgrey,
# on private unix sockets of this machine, each at 1, 10 and 50 connections, plus greyd's start-up and memory with
# 1 million triplets. Writes a markdown report. Called by ./build.sh bench, which builds the binaries first.
#
#   bench/compare.sh GREYD FLOOR LOAD OUT.md
#
# Environment: BENCH_SECONDS (measured seconds a run, default 10), BENCH_WARMUP (default 2), BENCH_REPEAT (share of
# repeated triplets, default 0.5), BENCH_CONNECTIONS (default "1 10 50"), BENCH_ROUNDS (runs of greyd and the floor
# per connection count, interleaved; the median is reported; default 3), BENCH_TRIPLETS (store test, default 1000000).
#
# Load shapes: one connection is driven by a thread that polls for each reply (so the round trip measures the server,
# not the wake-up of an idle client); more connections by one event thread, so the generator takes as little of the
# machine as it can. Every server gets exactly the same load.
set -euo pipefail
GREYD=$1 FLOOR=$2 LOAD=$3 OUT=$4
SECONDS_RUN=${BENCH_SECONDS:-10}
WARMUP=${BENCH_WARMUP:-2}
REPEAT=${BENCH_REPEAT:-0.5}
CONNECTIONS=${BENCH_CONNECTIONS:-1 10 50}
TRIPLETS=${BENCH_TRIPLETS:-1000000}
ROUNDS=${BENCH_ROUNDS:-3}
DIST=$(cd "$(dirname "$0")/../dist" && pwd)
POSTGREY=$(command -v postgrey || echo /usr/sbin/postgrey)

say() { printf '== %s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

for f in "$GREYD" "$FLOOR" "$LOAD" "$POSTGREY"; do [ -x "$f" ] || die "$f is missing"; done
id postgrey >/dev/null 2>&1 || die "user postgrey is missing (install the postgrey package)"

WORK=$(mktemp -d /tmp/greyd-bench.XXXXXX)
chmod 755 "$WORK" # postgrey runs as its own user and must reach its socket and database
declare -A PID=() PEAK=([floor]=0 [greyd]=0 [postgrey]=0)
cleanup() {
  local name
  for name in "${!PID[@]}"; do kill "${PID[$name]}" 2>/dev/null || true; done
  for name in "${!PID[@]}"; do wait "${PID[$name]}" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

# greyd reads the whitelists it ships (as installed in /etc/greyd); postgrey reads those of its package.
GREYD_LISTS=(--whitelist-clients="$DIST/whitelist_clients" --whitelist-recipients="$DIST/whitelist_recipients")

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
hwm_kib() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

# Starts server $1 (floor, greyd or postgrey) on $WORK/$1.sock and waits until it answers.
start() {
  local name=$1 sock="$WORK/$1.sock"
  case $name in
    floor) "$FLOOR" --unix="$sock" 2>"$WORK/floor.log" & PID[floor]=$! ;;
    greyd) "$GREYD" --admin-socket=none --unix="$sock" --dbdir="$WORK/greyd-db" "${GREYD_LISTS[@]}" 2>"$WORK/greyd.log" & PID[greyd]=$! ;;
    postgrey)
      mkdir -p "$WORK/postgrey-db"
      chown postgrey:postgrey "$WORK/postgrey-db"
      "$POSTGREY" --unix="$sock" --dbdir="$WORK/postgrey-db" --pidfile="$WORK/postgrey.pid" 2>"$WORK/postgrey.log" &
      PID[postgrey]=$! ;;
  esac
  "$LOAD" --unix="$sock" --wait=60 -c 1 -n 1 -w 0 -l probe >/dev/null || die "$name did not start: $(tail -3 "$WORK/$name.log")"
}

stop() {
  kill "${PID[$1]}" 2>/dev/null || true
  wait "${PID[$1]}" 2>/dev/null || true
  unset "PID[$1]"
}

# The load shape for $1 connections (see the top of this file).
shape() { if [ "$1" -eq 1 ]; then echo "-t 0 --spin"; else echo "-t 1"; fi; }

# Runs one load against server $1 with $2 connections; prints its result line.
run() {
  # shellcheck disable=SC2046 # the shape is several words on purpose
  "$LOAD" --unix="$WORK/$1.sock" -c "$2" $(shape "$2") -d "$SECONDS_RUN" -w "$WARMUP" -r "$REPEAT" -l "$1" | grep '^result:' \
    || die "the load against $1 with $2 connections failed"
}

# The median of the numbers on stdin.
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"; }

say "work directory $WORK; $SECONDS_RUN s measured after $WARMUP s of warm-up per run, $REPEAT of triplets repeated"
start floor
start greyd
start postgrey
declare -A RESULT=() RPS=() P99=()
for c in $CONNECTIONS; do
  for round in $(seq "$ROUNDS"); do
    # postgrey is slow and steady: one run per connection count is enough.
    names="floor greyd"
    [ "$round" -eq 1 ] && names="floor greyd postgrey"
    for name in $names; do
      say "$name, $c connection(s), round $round of $ROUNDS"
      line=$(run "$name" "$c")
      echo "   $(cut -d' ' -f2- <<<"$line")" >&2
      RESULT[$name,$c]="${RESULT[$name,$c]:-}$line"$'\n'
      rss=$(hwm_kib "${PID[$name]}")
      [ "$rss" -gt "${PEAK[$name]}" ] && PEAK[$name]=$rss
    done
  done
  for name in floor greyd postgrey; do
    RPS[$name,$c]=$(sed -n 's/.* rps=\([^ ]*\).*/\1/p' <<<"${RESULT[$name,$c]}" | median | awk '{ printf "%d", $1 + 0.5 }')
    P99[$name,$c]=$(sed -n 's/.* p99_us=\([^ ]*\).*/\1/p' <<<"${RESULT[$name,$c]}" | median)
  done
done
greyd_log_lines=$(grep -c 'action=' "$WORK/greyd.log" || true)
greylisted=$(printf '%s' "${RESULT[@]}" | grep 'label=greyd' | sed -n 's/.* other=\([0-9]*\).*/\1/p' | awk '{ s += $1 } END { print s + 0 }')
stop floor
stop greyd
stop postgrey

say "greyd with $TRIPLETS triplets: fill, restart, read back"
rm -rf "$WORK/greyd-db"
start greyd
per=$(( (TRIPLETS + 7) / 8 ))
seed=$RANDOM$RANDOM
fill=$("$LOAD" --unix="$WORK/greyd.sock" -c 8 -n "$per" -w 0 -d 3600 -r 0 --seed="$seed" -l fill | grep '^result:') || die "filling greyd failed"
filled_rss=$(rss_kib "${PID[greyd]}")
stop greyd
: >"$WORK/greyd.log"
"$GREYD" --admin-socket=none --unix="$WORK/greyd.sock" --dbdir="$WORK/greyd-db" 2>"$WORK/greyd.log" & PID[greyd]=$!
ready=$("$LOAD" --unix="$WORK/greyd.sock" --wait=60 -c 1 -n 1 -w 0 -l ready | grep '^result:') || die "greyd did not restart: $(tail -3 "$WORK/greyd.log")"
started_ms=$(sed -n 's/.*(started in \([0-9]*\) ms).*/\1/p' "$WORK/greyd.log" | head -1)
kill -USR1 "${PID[greyd]}"
sleep 0.5
held=$(sed -n 's/.*status: .* triplets=\([0-9]*\) .*/\1/p' "$WORK/greyd.log" | tail -1)
# Every request now repeats one of the stored triplets: the store is read, not grown.
reread=$("$LOAD" --unix="$WORK/greyd.sock" -c 8 -d "$SECONDS_RUN" -w 1 -r 1 --seed="$seed" --known="$per" -l reread | grep '^result:') || die "reading greyd's triplets back failed"
after_rss=$(rss_kib "${PID[greyd]}")
peak_rss=$(hwm_kib "${PID[greyd]}")
stop greyd

# The report.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
verdict() { awk -v v="$1" -v t="$2" -v dir="$3" 'BEGIN { ok = (dir == "min") ? v >= t : v <= t; print ok ? "met" : "missed" }'; }
{
  echo "# greyd, the protocol floor and postgrey, side by side"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), greyd $(git -C "$(dirname "$0")/.." rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)), $(uname -sr)."
  echo "Each server on a private unix socket with default options (greyd and postgrey with the whitelists they ship); greyd-load"
  echo "on the same machine, each connection sending one request at a time like a Postfix smtpd process,"
  echo "$(awk -v r="$REPEAT" 'BEGIN { printf "%d", r * 100 }')% of them repeating an earlier triplet; $SECONDS_RUN s measured after $WARMUP s of warm-up. greyd and the floor ran $ROUNDS times"
  echo "in turn per row (medians shown), postgrey once. One connection is driven by a thread polling for its replies, more by one event thread."
  echo "Command: \`./build.sh bench\`."
  echo
  echo "| connections | floor req/s | greyd req/s | postgrey req/s | greyd / floor | greyd / postgrey | greyd p99 (µs) | floor p99 (µs) | postgrey p99 (µs) |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for c in $CONNECTIONS; do
    echo "| $c | ${RPS[floor,$c]} | ${RPS[greyd,$c]} | ${RPS[postgrey,$c]} | $(ratio "${RPS[greyd,$c]}" "${RPS[floor,$c]}") | $(ratio "${RPS[greyd,$c]}" "${RPS[postgrey,$c]}") | ${P99[greyd,$c]} | ${P99[floor,$c]} | ${P99[postgrey,$c]} |"
  done
  echo
  echo "Peak resident memory over these runs: floor $(mib "${PEAK[floor]}") MiB, greyd $(mib "${PEAK[greyd]}") MiB, postgrey $(mib "${PEAK[postgrey]}") MiB."
  echo "greyd answered $greylisted requests with a greylist reply over these runs and wrote $greyd_log_lines decision lines."
  echo
  echo "**Store with $TRIPLETS triplets** (default options): filled at $(field "$fill" rps) req/s with 8 connections; RSS $(mib "$filled_rss") MiB after filling."
  echo "After a restart greyd answered its first request $(field "$ready" ready_ms) ms after it was started (it logged \"started in ${started_ms:-?} ms\"), holding ${held:-?} triplets;"
  echo "reading them back at $(field "$reread" rps) req/s (p99 $(field "$reread" p99_us) µs) left RSS at $(mib "$after_rss") MiB (peak $(mib "$peak_rss") MiB)."
  echo
  echo "| target | measured | |"
  echo "|---|---:|---|"
  first=${CONNECTIONS%% *} last=${CONNECTIONS##* }
  r=$(ratio "${RPS[greyd,$first]}" "${RPS[floor,$first]}"); echo "| greyd / floor at $first connection ≥ 0.8 | $r | $(verdict "$r" 0.8 min) |"
  r=$(ratio "${RPS[greyd,$last]}" "${RPS[floor,$last]}"); echo "| greyd / floor at $last connections ≥ 0.8 | $r | $(verdict "$r" 0.8 min) |"
  r=$(ratio "${RPS[greyd,$first]}" "${RPS[postgrey,$first]}"); echo "| greyd / postgrey at $first connection ≥ 20 | $r | $(verdict "$r" 20 min) |"
  r=$(ratio "${RPS[greyd,$last]}" "${RPS[postgrey,$last]}"); echo "| greyd / postgrey at $last connections ≥ 40 | $r | $(verdict "$r" 40 min) |"
  v=${P99[greyd,$first]}; echo "| greyd p99 at $first connection ≤ 100 µs | $v µs | $(verdict "$v" 100 max) |"
  v=${P99[greyd,$last]}; echo "| greyd p99 at $last connections ≤ 2000 µs | $v µs | $(verdict "$v" 2000 max) |"
  v=$(field "$ready" ready_ms); echo "| start-up to ready with $TRIPLETS triplets < 1000 ms | $v ms | $(verdict "$v" 1000 max) |"
  v=$(awk -v k="$peak_rss" 'BEGIN { printf "%.1f", k * 1024 / 1e6 }'); echo "| resident memory with $TRIPLETS triplets < 128 MB | $v MB | $(verdict "$v" 128 max) |"
} >"$OUT"
cat "$OUT"
