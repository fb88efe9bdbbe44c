#!/usr/bin/env bash
# Runs the official MCP conformance suite (@modelcontextprotocol/conformance) against this server's
# Streamable HTTP mode and compares the outcome with .ci/conformance-baseline.json (.ci/conformance-compare.mjs).
#
#   npm run build && bash .ci/conformance.sh            # start our server, run every server scenario
#   bash .ci/conformance.sh --url http://127.0.0.1:3000/mcp   # test a server that is already running
#
# It builds nothing. The suite needs Node 22, which it does not require on the machine: a pinned Node 22
# binary (the npm package node-<platform>-<arch>) and the pinned suite are installed from the npm registry
# into $CONFORMANCE_CACHE (default node_modules/.cache/conformance), once; later runs reuse them.
#
# Our server runs on 127.0.0.1 with a free port, on the built-in emulator (a clean environment, so no
# Sinch credentials), and without MCP_AUTH_TOKEN: the suite cannot send an Authorization header (its
# client is built from the URL alone), and the server allows loopback without a token.
#
# A scenario passes when none of its checks is a FAILURE or a WARNING (the suite's own baseline rule).
# Exit 0 when every scenario not in the baseline passes and every baseline entry still fails; exit 1
# when a scenario outside the baseline fails, or a baseline entry passes (then update the baseline),
# or the suite or server could not be run. The last line is "conformance: N passed, N failed, N skipped",
# where skipped are the baseline's expected failures and failed counts stale baseline entries too.
#
# Environment: CONFORMANCE_CACHE (install folder), CONFORMANCE_KEEP=1 (keep logs and results even on
# success), CONFORMANCE_SERVER_ENTRY (the JS file started with --http; default dist/cli/index.js).
set -uo pipefail

SUITE_VERSION=0.1.16   # @modelcontextprotocol/conformance
SUITE_TIMEOUT=900      # seconds for the whole suite run
# The Node the suite runs on is NODE22_VERSION, pinned in .ci/node.sh.

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BASELINE="$ROOT/.ci/conformance-baseline.json"
started=$SECONDS
say() { printf 'conformance: %s\n' "$*"; }
die() { say "$*" >&2; exit 1; }
# shellcheck source=node.sh
. "$ROOT/.ci/node.sh" || die "cannot read $ROOT/.ci/node.sh"

url=""
while [ $# -gt 0 ]; do
  case "$1" in
    --url) url="${2:-}"; [ -n "$url" ] || die "--url needs a value"; shift 2 ;;
    --url=*) url="${1#--url=}"; shift ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done

command -v node >/dev/null || die "node is needed to fetch Node 22 and the suite (npm) and to read results"
command -v npm >/dev/null || die "npm is needed to fetch Node 22 and the suite from the registry"
[ -f "$BASELINE" ] || die "missing $BASELINE"

# --- Node 22 and the suite, from the npm registry, cached ------------------------------------------
platform="$(node_platform)"
cache="${CONFORMANCE_CACHE:-$ROOT/node_modules/.cache/conformance}"
install_dir="$cache/suite-$SUITE_VERSION-node-$NODE22_VERSION-$platform"
node_install "$NODE22_VERSION" "$install_dir" @modelcontextprotocol/conformance "$SUITE_VERSION" "the suite"
node22="$node_bin"
suite="$install_dir/node_modules/@modelcontextprotocol/conformance/dist/index.js"
got="$("$node22" "$suite" --version 2>&1)"
[ "$got" = "$SUITE_VERSION" ] || die "the cached suite says '$got', not $SUITE_VERSION: delete $install_dir and run again"
say "@modelcontextprotocol/conformance@$SUITE_VERSION on Node $("$node22" --version) ($(( SECONDS - started )) s to get ready)"

# --- Our server, unless --url names one ---------------------------------------------------------------
work="$(mktemp -d "${TMPDIR:-/tmp}/conformance.XXXXXX")"
server_pid=""
keep=${CONFORMANCE_KEEP:-}
stop_server() {
  [ -n "$server_pid" ] || return 0
  kill -TERM "$server_pid" 2>/dev/null
  for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$server_pid" 2>/dev/null
  wait "$server_pid" 2>/dev/null
  server_pid=""
}
cleanup() {
  stop_server
  if [ -n "$keep" ]; then say "logs and results kept in $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -z "$url" ]; then
  entry="${CONFORMANCE_SERVER_ENTRY:-$ROOT/dist/cli/index.js}"
  [ -f "$entry" ] || die "$entry not found: run 'npm run build' first"
  port="$(node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')"
  url="http://127.0.0.1:$port/mcp"
  # A clean environment: no Sinch credentials (so the emulator), no MCP_AUTH_TOKEN, no MCP_ALLOWED_HOSTS,
  # no tool selection. The server runs on the machine's own Node, like the project's users.
  env -i PATH="$PATH" HOME="${HOME:-/tmp}" TMPDIR="${TMPDIR:-/tmp}" \
    node "$entry" --http --host 127.0.0.1 --port "$port" >"$work/server.log" 2>&1 &
  server_pid=$!
  say "server: node ${entry#"$ROOT"/} --http --host 127.0.0.1 --port $port (emulator, no MCP_AUTH_TOKEN)"
  health="http://127.0.0.1:$port/healthz"
  ready=""
  for _ in $(seq 100); do
    if ! kill -0 "$server_pid" 2>/dev/null; then
      wait "$server_pid"; code=$?; server_pid=""
      sed 's/^/  server| /' "$work/server.log" >&2
      die "the server exited (code $code) before answering $health"
    fi
    if node -e 'fetch(process.argv[1], { signal: AbortSignal.timeout(1000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "$health"; then
      ready=1; break
    fi
    sleep 0.2
  done
  if [ -z "$ready" ]; then
    sed 's/^/  server| /' "$work/server.log" >&2
    die "no answer from $health within about 20 s"
  fi
  say "server ready at $url"
fi

# --- The suite: every server scenario, pending ones too -------------------------------------------------
"$node22" "$suite" list --server >"$work/scenarios.txt" 2>&1 || { cat "$work/scenarios.txt" >&2; die "the suite could not list its scenarios"; }
sed -n 's/^  - \([^ ]*\).*/\1/p' "$work/scenarios.txt" >"$work/scenarios"
[ -s "$work/scenarios" ] || { cat "$work/scenarios.txt" >&2; die "found no server scenarios in the suite's list"; }
say "running $(wc -l <"$work/scenarios") server scenarios against $url"
suite_started=$SECONDS
(cd "$work" && timeout "$SUITE_TIMEOUT" "$node22" "$suite" server --url "$url" --suite all -o "$work/results" >"$work/suite.log" 2>&1)
suite_code=$?
suite_secs=$(( SECONDS - suite_started ))
stop_server
if [ "$suite_code" = 124 ]; then keep=1; die "the suite did not finish within $SUITE_TIMEOUT s (log: $work/suite.log)"; fi
if [ ! -d "$work/results" ]; then keep=1; sed 's/^/  suite| /' "$work/suite.log" >&2; die "the suite wrote no results (exit $suite_code)"; fi

# --- Compare with the baseline -------------------------------------------------------------------------
# The report goes to stdout; its closing count line to a file, printed last of all.
node "$ROOT/.ci/conformance-compare.mjs" "$work/results" "$work/scenarios" "$BASELINE" "$suite_secs" "$(( SECONDS - started ))" "$SUITE_VERSION" "$work/closing"
status=$?
[ -s "$work/closing" ] || { keep=1; die "could not compare the results with the baseline (exit $status)"; }
if [ "$status" != 0 ] || [ -n "$keep" ]; then
  say "kept: suite log $work/suite.log, results $work/results$([ -f "$work/server.log" ] && echo ", server log $work/server.log")"
  trap 'stop_server' EXIT  # said already: keep the folder without saying it again
fi
cat "$work/closing"
exit "$status"
