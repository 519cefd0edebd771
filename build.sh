#!/usr/bin/env bash
# greyd build script: one entry point for setting up, building, publishing, running and testing.
#   ./build.sh run [greyd options]   build the AOT binary and run greyd on a local socket and store
#   ./build.sh test                  run every test suite (unit tests on the JIT build, integration tests on the AOT binary)
#   ./build.sh publish               build the Native AOT binary at artifacts/greyd/greyd
#   ./build.sh build                 build everything (Release)
#   ./build.sh rpm                   build the greyd and greyd-selinux RPMs into artifacts/rpm
#   ./build.sh bench                 compare greyd with the protocol floor and postgrey (artifacts/bench/comparison.md)
#   ./build.sh bench shared          greyd on a loopback Redis and Garnet: cost per request, failures under load
#   ./build.sh bench pools           --spf-pools: added latency, pool senders replayed (artifacts/bench/sender-pools.md)
#   ./build.sh bench micro [filter]  run the BenchmarkDotNet suite
#   ./build.sh deps                  install what the build and the tests need
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)
BIN="$ROOT/artifacts/greyd/greyd"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

say() { printf '== %s\n' "$*" >&2; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Installs the system packages the AOT link and the tests need, on Debian/Ubuntu or EL (dnf).
deps() {
  local need=()
  command -v gcc >/dev/null || need+=(gcc)
  command -v objcopy >/dev/null || need+=(binutils)
  [ -e /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 ] || [ -e /usr/lib64/faketime/libfaketime.so.1 ] || need+=(faketime)
  command -v postgrey >/dev/null || [ -x /usr/sbin/postgrey ] || need+=(postgrey)
  # Berkeley DB's db_dump and db_load, for the import tests; EL calls the package libdb-utils.
  command -v db_dump >/dev/null || need+=(db-util)
  [ -x /usr/sbin/postfix ] || need+=(postfix)
  command -v swaks >/dev/null || need+=(swaks)
  command -v rpmlint >/dev/null || need+=(rpmlint)
  command -v systemd-analyze >/dev/null || need+=(systemd)
  if command -v apt-get >/dev/null; then
    command -v afl-fuzz >/dev/null || need+=(afl++)
    [ -e /usr/include/stdio.h ] || need+=(libc6-dev)
    command -v rpmbuild >/dev/null || need+=(rpm)
    [ -e /usr/share/selinux/devel/Makefile ] || need+=(selinux-policy-dev checkpolicy semodule-utils)
    command -v dotnet >/dev/null || need+=(dotnet-sdk-10.0)
    if [ ${#need[@]} -gt 0 ]; then
      say "installing ${need[*]}"
      as_root apt-get update -qq
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    fi
    command -v redis-server >/dev/null || install_redis_without_service
  elif command -v dnf >/dev/null; then
    [ -e /usr/include/stdio.h ] || need+=(glibc-devel)
    command -v rpmbuild >/dev/null || need+=(rpm-build)
    [ -e /usr/share/selinux/devel/Makefile ] || need+=(selinux-policy-devel)
    command -v dotnet >/dev/null || need+=(dotnet-sdk-10.0)
    # EL10 ships Valkey in place of Redis; the tests take either server.
    command -v redis-server >/dev/null || command -v valkey-server >/dev/null || need+=(redis)
    # postgrey and libfaketime come from EPEL on EL.
    if [ ${#need[@]} -gt 0 ]; then
      say "installing ${need[*]}"
      as_root dnf install -y -q epel-release >/dev/null 2>&1 || true
      need=("${need[@]/#db-util/libdb-utils}")
      as_root dnf install -y -q "${need[@]/faketime/libfaketime}" >/dev/null || \
        { [[ " ${need[*]} " == *" redis "* ]] && as_root dnf install -y -q "${need[@]/redis/valkey}" >/dev/null; }
    fi
  fi
  command -v dotnet >/dev/null || { echo "build.sh: the .NET 10 SDK is needed (dotnet not found)" >&2; exit 1; }
  install_garnet
  # The sharpfuzz instrumenter for the AFL++ campaign in tests/Greyd.FuzzTests (dotnet-tools.json).
  dotnet tool restore >/dev/null || echo "build.sh: dotnet tool restore failed; the AFL++ fuzz test will fail" >&2
}

# Debian's redis-server starts a system Redis on port 6379 when it is installed; the tests start their own on random
# ports, so a temporary policy-rc.d (exit 101: "action forbidden") keeps the service from starting.
install_redis_without_service() {
  local own_policy=0 rc=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee /usr/sbin/policy-rc.d >/dev/null
    as_root chmod 755 /usr/sbin/policy-rc.d
    own_policy=1
  fi
  say "installing redis-server (its system service is not started)"
  as_root apt-get update -qq || rc=$?
  [ "$rc" = 0 ] && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null || rc=$?
  [ "$own_policy" = 1 ] && as_root rm -f /usr/sbin/policy-rc.d
  [ "$rc" = 0 ] || { echo "build.sh: installing redis-server failed" >&2; exit 1; }
}

# Microsoft Garnet (a .NET tool) for the shared-store tests, in artifacts/tools/garnet; the tests find it through
# GREYD_GARNET_SERVER.
GARNET_VERSION=2.2.11
install_garnet() {
  local dir="$ROOT/artifacts/tools/garnet"
  if [ ! -x "$dir/garnet-server" ]; then
    say "installing garnet-server $GARNET_VERSION into artifacts/tools/garnet"
    dotnet tool install garnet-server --version "$GARNET_VERSION" --tool-path "$dir" >/dev/null ||
      echo "build.sh: installing garnet-server failed; the Garnet shared-store tests will fail" >&2
  fi
  export GREYD_GARNET_SERVER="$dir/garnet-server"
}

build() {
  say "building (Release)"
  dotnet build AotGrey.sln -c Release -v quiet -nologo
}

publish() {
  say "publishing the Native AOT binary to artifacts/greyd/greyd"
  dotnet publish src/Greyd/Greyd.csproj -c Release -o "$ROOT/artifacts/greyd" -v quiet -nologo
  [ -x "$BIN" ] || { echo "build.sh: $BIN was not produced" >&2; exit 1; }
}

run_greyd() {
  deps
  publish
  mkdir -p "$ROOT/artifacts/run"
  say "running greyd on unix:$ROOT/artifacts/run/greyd.sock with its store in artifacts/run/db (Ctrl-C stops it)"
  say "commands: $BIN list|explain|whitelist|delete|stats|report --admin-socket=$ROOT/artifacts/run/admin.sock"
  exec "$BIN" --unix="$ROOT/artifacts/run/greyd.sock" --dbdir="$ROOT/artifacts/run/db" --admin-socket="$ROOT/artifacts/run/admin.sock" "$@"
}

# The SELinux link test needs a full policy. On Debian, unpack selinux-policy-default's modules beside the build
# instead of installing it, which would make it the system's policy.
selinux_policy_modules() {
  if [ -d /usr/share/selinux/default ] || [ -d /var/lib/selinux/targeted ] || [ -d /var/lib/selinux/default ]; then
    return 0
  fi
  local dir="$ROOT/artifacts/selinux-policy"
  if [ ! -d "$dir/root/usr/share/selinux/default" ] && command -v apt-get >/dev/null; then
    say "unpacking selinux-policy-default for the SELinux link test"
    rm -rf "$dir" && mkdir -p "$dir/root"
    (cd "$dir" && apt-get download -qq selinux-policy-default >/dev/null 2>&1) || true
    local deb
    deb=$(ls "$dir"/selinux-policy-default_*.deb 2>/dev/null | head -n 1 || true)
    [ -n "$deb" ] && dpkg-deb -x "$deb" "$dir/root"
  fi
  [ -d "$dir/root/usr/share/selinux/default" ] && export GREYD_SELINUX_POLICY_MODULES="$dir/root/usr/share/selinux/default"
  return 0
}

# Runs each test project, then prints the one summary line CI reads: "N passed, N failed".
run_tests() {
  deps
  build
  publish
  publish_bench_tools
  selinux_policy_modules
  local passed=0 failed=0 status=0 log
  log=$(mktemp)
  for project in tests/*/*.csproj; do
    say "testing $(basename "$project" .csproj)"
    local line p f ok=1
    if ! GREYD_BINARY="$BIN" dotnet test "$project" -c Release --no-build -nologo 2>&1 | tee "$log"; then
      status=1
      ok=0
    fi
    line=$(grep -E '(Passed|Failed)! +- +Failed: +[0-9]+, Passed: +[0-9]+' "$log" | tail -n 1 || true)
    if [ -z "$line" ]; then
      echo "build.sh: $project reported no test results" >&2
      failed=$((failed + 1))
      status=1
      continue
    fi
    f=$(sed -E 's/.*Failed: +([0-9]+),.*/\1/' <<<"$line")
    p=$(sed -E 's/.*Passed: +([0-9]+),.*/\1/' <<<"$line")
    # A run that ended badly with no failed test (an aborted test host) still counts as one failure.
    if [ "$ok" -eq 0 ] && [ "$f" -eq 0 ]; then
      echo "build.sh: $project ended with an error (test host aborted?)" >&2
      f=1
    fi
    passed=$((passed + p))
    failed=$((failed + f))
  done
  rm -f "$log"
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ] && [ "$status" -eq 0 ]
}

# The benchmark's load generator and protocol floor, Native AOT like greyd, in artifacts/bench.
publish_bench_tools() {
  say "publishing greyd-floor and greyd-load to artifacts/bench"
  dotnet publish bench/Greyd.Floor/Greyd.Floor.csproj -c Release -o "$ROOT/artifacts/bench" -v quiet -nologo
  dotnet publish bench/Greyd.Load/Greyd.Load.csproj -c Release -o "$ROOT/artifacts/bench" -v quiet -nologo
}

bench() {
  deps
  if [ "${1:-}" = micro ]; then
    dotnet run -c Release --project bench/Greyd.Benchmarks -- --filter "${2:-*}" --memory
    return
  fi
  publish
  if [ "${1:-}" = pools ]; then
    # Sender pools: the SPF check's added latency in-process, then pool senders replayed against the AOT binary.
    say "measuring --spf-pools (bench/Greyd.PoolBench)"
    dotnet build bench/Greyd.PoolBench/Greyd.PoolBench.csproj -c Release -v quiet -nologo
    local tool=(dotnet "$ROOT/bench/Greyd.PoolBench/bin/Release/net10.0/greyd-poolbench.dll")
    mkdir -p "$ROOT/artifacts/bench"
    { "${tool[@]}" latency; echo; "${tool[@]}" replay --greyd="$BIN" --networks=12; echo; "${tool[@]}" replay --greyd="$BIN" --networks=40; } \
      | tee "$ROOT/artifacts/bench/sender-pools.md"
    return
  fi
  publish_bench_tools
  if [ "${1:-}" = shared ]; then
    bench/shared.sh "$BIN" "$ROOT/artifacts/bench/greyd-load" "$ROOT/artifacts/bench/shared-store.md"
    return
  fi
  bench/compare.sh "$BIN" "$ROOT/artifacts/bench/greyd-floor" "$ROOT/artifacts/bench/greyd-load" "$ROOT/artifacts/bench/comparison.md"
}

# Builds the greyd and greyd-selinux RPMs (rpm/greyd.spec) into $RPM_OUTDIR (default artifacts/rpm) from the
# AOT binary $GREYD_BINARY (default artifacts/greyd/greyd). Where rpm has no package database of its own
# (Debian), BuildRequires cannot be checked, so rpmbuild gets --nodeps there.
build_rpm() {
  local bin="${GREYD_BINARY:-$BIN}" out="${RPM_OUTDIR:-$ROOT/artifacts/rpm}" top nodeps=() f
  [ -x "$bin" ] || { echo "build.sh: the greyd binary $bin is missing (./build.sh publish)" >&2; exit 1; }
  command -v rpmbuild >/dev/null || { echo "build.sh: rpmbuild is needed (./build.sh deps)" >&2; exit 1; }
  top=$(mktemp -d)
  mkdir -p "$top/SOURCES" "$out"
  cp -p "$bin" "$top/SOURCES/greyd"
  for f in systemd/greyd.service systemd/greyd.socket systemd/greyd.sysconfig systemd/greyd.sysusers systemd/greyd.tmpfiles \
           dist/whitelist_clients dist/whitelist_recipients man/greyd.8 LICENSE README.md \
           selinux/greyd.te selinux/greyd.fc selinux/greyd.if; do
    [ -f "$f" ] || { echo "build.sh: $f is missing" >&2; rm -rf "$top"; exit 1; }
    cp -p "$f" "$top/SOURCES/"
  done
  rpm -q rpm >/dev/null 2>&1 || nodeps=(--nodeps)
  say "building the greyd and greyd-selinux RPMs into $out"
  rm -f "$out"/greyd-*.rpm
  if ! rpmbuild -bb --quiet "${nodeps[@]}" --define "_topdir $top" --define "_rpmdir $out" \
      --define "_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm" rpm/greyd.spec; then
    rm -rf "$top"
    echo "build.sh: rpmbuild failed" >&2
    exit 1
  fi
  rm -rf "$top"
  ls -1 "$out"/greyd-*.rpm
}

case "${1:-}" in
  deps) deps ;;
  build) deps; build ;;
  publish) deps; publish ;;
  run) shift; run_greyd "$@" ;;
  test) run_tests ;;
  bench) shift; bench "$@" ;;
  rpm) deps; [ -n "${GREYD_BINARY:-}" ] || publish; build_rpm ;;
  *) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
