#!/usr/bin/env bash
# Side-by-side comparison of greyd, the protocol floor (greyd's listener and reader answering DUNNO) and postgrey,
# on private unix sockets of this machine, each at 1, 10 and 50 connections, plus greyd's start-up and memory with
# 1 million triplets. Writes a markdown report. Called by ./build.sh bench, which builds the binaries first.
#
#   bench/compare.sh GREYD FLOOR LOAD OUT.md
#
# Environment: BENCH_SECONDS (measured seconds a run, default 10), BENCH_WARMUP (default 2), BENCH_REPEAT (share of
# repeated triplets, default 0.5), BENCH_CONNECTIONS (default "1 10 50"), BENCH_TRIPLETS (store test, default 1000000).
set -euo pipefail
GREYD=$1 FLOOR=$2 LOAD=$3 OUT=$4
SECONDS_RUN=${BENCH_SECONDS:-10}
WARMUP=${BENCH_WARMUP:-2}
REPEAT=${BENCH_REPEAT:-0.5}
CONNECTIONS=${BENCH_CONNECTIONS:-1 10 50}
TRIPLETS=${BENCH_TRIPLETS:-1000000}
POSTGREY=$(command -v postgrey || echo /usr/sbin/postgrey)

say() { printf '== %s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

for f in "$GREYD" "$FLOOR" "$LOAD" "$POSTGREY"; do [ -x "$f" ] || die "$f is missing"; done
id postgrey >/dev/null 2>&1 || die "user postgrey is missing (install the postgrey package)"

WORK=$(mktemp -d /tmp/greyd-bench.XXXXXX)
chmod 755 "$WORK" # postgrey runs as its own user and must reach its socket and database
declare -A PID=() PEAK=()
cleanup() {
  local name
  for name in "${!PID[@]}"; do kill "${PID[$name]}" 2>/dev/null || true; done
  for name in "${!PID[@]}"; do wait "${PID[$name]}" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
hwm_kib() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

# Starts server $1 (floor, greyd or postgrey) on $WORK/$1.sock and waits until it answers.
start() {
  local name=$1 sock="$WORK/$1.sock"
  case $name in
    floor) "$FLOOR" --unix="$sock" 2>"$WORK/floor.log" & PID[floor]=$! ;;
    greyd) "$GREYD" --unix="$sock" --dbdir="$WORK/greyd-db" 2>"$WORK/greyd.log" & PID[greyd]=$! ;;
    postgrey)
      mkdir -p "$WORK/postgrey-db"
      chown postgrey:postgrey "$WORK/postgrey-db"
      "$POSTGREY" --unix="$sock" --dbdir="$WORK/postgrey-db" --pidfile="$WORK/postgrey.pid" 2>"$WORK/postgrey.log" &
      PID[postgrey]=$! ;;
  esac
  "$LOAD" --unix="$sock" --wait=60 -c 1 -n 1 -w 0 -l probe >/dev/null || die "$name did not start: $(tail -3 "$WORK/$name.log")"
  PEAK[$name]=0
}

stop() {
  kill "${PID[$1]}" 2>/dev/null || true
  wait "${PID[$1]}" 2>/dev/null || true
  unset "PID[$1]"
}

# Runs one load against server $1 with $2 connections; prints its result line.
run() {
  "$LOAD" --unix="$WORK/$1.sock" -c "$2" -d "$SECONDS_RUN" -w "$WARMUP" -r "$REPEAT" -l "$1" | grep '^result:' \
    || die "the load against $1 with $2 connections failed"
}

field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"; }

say "work directory $WORK; $SECONDS_RUN s measured after $WARMUP s of warm-up per run, $REPEAT of triplets repeated"
start floor
start greyd
start postgrey
declare -A RESULT=()
for c in $CONNECTIONS; do
  for name in floor greyd postgrey; do
    say "$name, $c connection(s)"
    RESULT[$name,$c]=$(run "$name" "$c")
    rss=$(hwm_kib "${PID[$name]}")
    [ "$rss" -gt "${PEAK[$name]}" ] && PEAK[$name]=$rss
    echo "   $(cut -d' ' -f2- <<<"${RESULT[$name,$c]}")" >&2
  done
done
greyd_log_lines=$(grep -c 'action=' "$WORK/greyd.log" || true)
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
"$GREYD" --unix="$WORK/greyd.sock" --dbdir="$WORK/greyd-db" 2>"$WORK/greyd.log" & PID[greyd]=$!
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
  echo "Each server on a private unix socket with default options; greyd-load on the same machine, each connection"
  echo "sending one request at a time like a Postfix smtpd process, $(awk -v r="$REPEAT" 'BEGIN { printf "%d", r * 100 }')% of them repeating an earlier triplet; $SECONDS_RUN s measured after $WARMUP s of warm-up."
  echo "Command: \`./build.sh bench\`."
  echo
  echo "| connections | floor req/s | greyd req/s | postgrey req/s | greyd / floor | greyd / postgrey | greyd p50 / p90 / p99 / max (µs) | floor p99 (µs) | postgrey p99 (µs) |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for c in $CONNECTIONS; do
    f=${RESULT[floor,$c]} g=${RESULT[greyd,$c]} p=${RESULT[postgrey,$c]}
    echo "| $c | $(field "$f" rps) | $(field "$g" rps) | $(field "$p" rps) | $(ratio "$(field "$g" rps)" "$(field "$f" rps)") | $(ratio "$(field "$g" rps)" "$(field "$p" rps)") | $(field "$g" p50_us) / $(field "$g" p90_us) / $(field "$g" p99_us) / $(field "$g" max_us) | $(field "$f" p99_us) | $(field "$p" p99_us) |"
  done
  echo
  echo "Peak resident memory over these runs: floor $(mib "${PEAK[floor]}") MiB, greyd $(mib "${PEAK[greyd]}") MiB, postgrey $(mib "${PEAK[postgrey]}") MiB."
  echo "greyd answered $(for c in $CONNECTIONS; do g=${RESULT[greyd,$c]}; echo "$(field "$g" other) greylist / $(field "$g" dunno) DUNNO / $(field "$g" prepend) PREPEND"; done | paste -sd';' | sed 's/;/; /g') and wrote $greyd_log_lines decision lines."
  echo
  echo "**Store with $TRIPLETS triplets** (default options): filled at $(field "$fill" rps) req/s with 8 connections; RSS $(mib "$filled_rss") MiB after filling."
  echo "After a restart greyd answered its first request $(field "$ready" ready_ms) ms after it was started (it logged \"started in ${started_ms:-?} ms\"), holding ${held:-?} triplets;"
  echo "reading them back at $(field "$reread" rps) req/s (p99 $(field "$reread" p99_us) µs) left RSS at $(mib "$after_rss") MiB (peak $(mib "$peak_rss") MiB)."
  echo
  echo "| target | measured | |"
  echo "|---|---:|---|"
  first=${CONNECTIONS%% *} last=${CONNECTIONS##* }
  r=$(ratio "$(field "${RESULT[greyd,$first]}" rps)" "$(field "${RESULT[floor,$first]}" rps)"); echo "| greyd / floor at $first connection ≥ 0.8 | $r | $(verdict "$r" 0.8 min) |"
  r=$(ratio "$(field "${RESULT[greyd,$last]}" rps)" "$(field "${RESULT[floor,$last]}" rps)"); echo "| greyd / floor at $last connections ≥ 0.8 | $r | $(verdict "$r" 0.8 min) |"
  r=$(ratio "$(field "${RESULT[greyd,$first]}" rps)" "$(field "${RESULT[postgrey,$first]}" rps)"); echo "| greyd / postgrey at $first connection ≥ 20 | $r | $(verdict "$r" 20 min) |"
  r=$(ratio "$(field "${RESULT[greyd,$last]}" rps)" "$(field "${RESULT[postgrey,$last]}" rps)"); echo "| greyd / postgrey at $last connections ≥ 40 | $r | $(verdict "$r" 40 min) |"
  v=$(field "${RESULT[greyd,$first]}" p99_us); echo "| greyd p99 at $first connection ≤ 100 µs | $v µs | $(verdict "$v" 100 max) |"
  v=$(field "${RESULT[greyd,$last]}" p99_us); echo "| greyd p99 at $last connections ≤ 2000 µs | $v µs | $(verdict "$v" 2000 max) |"
  v=$(field "$ready" ready_ms); echo "| start-up to ready with $TRIPLETS triplets < 1000 ms | $v ms | $(verdict "$v" 1000 max) |"
  v=$(awk -v k="$peak_rss" 'BEGIN { printf "%.1f", k * 1024 / 1e6 }'); echo "| resident memory with $TRIPLETS triplets < 128 MB | $v MB | $(verdict "$v" 128 max) |"
} >"$OUT"
cat "$OUT"
