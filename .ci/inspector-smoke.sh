#!/usr/bin/env bash
# Smoke-tests this server's stdio mode with the official MCP Inspector's CLI (@modelcontextprotocol/inspector):
#
#   npm run build && bash .ci/inspector-smoke.sh
#
# It builds nothing. The inspector starts our server itself (node dist/cli/index.js, on the machine's
# own Node, with a clean environment: no SINCH_* credentials, so the built-in emulator and its example
# groups, and no MCP_* settings) and is asked twice:
#   --method tools/list                          all seven tools must be listed;
#   --method tools/call --tool-name list_groups  the result must not be an error result ("isError": true)
#                                                and must name the example groups "VIP customers" and
#                                                "Newsletter".
# Success is judged from the inspector's output (the result as JSON on stdout), and its exit code must
# be 0 as well. Exit 0 with "inspector: tools/list ok (N tools), tools/call list_groups ok" as the last
# line; exit 1 with what was wrong and the inspector's output.
#
# The inspector needs Node >= 22.19, which it does not require on the machine: a pinned Node 22 binary
# (the npm package node-<platform>-<arch>, see .ci/node22.sh) and the pinned inspector are installed from
# the npm registry into $INSPECTOR_CACHE (default node_modules/.cache/inspector), once; later runs reuse
# them.
#
# Environment: INSPECTOR_CACHE (install folder), INSPECTOR_SERVER_ENTRY (the JS file the inspector
# starts; default dist/cli/index.js).
set -uo pipefail

INSPECTOR_VERSION=2.12.0   # @modelcontextprotocol/inspector
CALL_TIMEOUT=60            # seconds for each inspector run
EXPECTED_TOOLS="create_group list_groups get_group list_group_members update_group replace_group delete_group"
EXPECTED_GROUPS="VIP customers|Newsletter"   # names the emulator seeds, separated by |

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
started=$SECONDS
say() { printf 'inspector: %s\n' "$*"; }
die() { say "$*" >&2; exit 1; }
# shellcheck source=node22.sh
. "$ROOT/.ci/node22.sh" || die "cannot read $ROOT/.ci/node22.sh"

case "${1:-}" in
  "") ;;
  -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown argument: $1 (see --help)" ;;
esac

command -v node >/dev/null || die "node is needed to run our server, to fetch Node 22 and the inspector (npm) and to read results"
command -v npm >/dev/null || die "npm is needed to fetch Node 22 and the inspector from the registry"
entry="${INSPECTOR_SERVER_ENTRY:-$ROOT/dist/cli/index.js}"
[ -f "$entry" ] || die "$entry not found: run 'npm run build' first"
node_bin="$(command -v node)"

# --- Node 22 and the inspector, from the npm registry, cached --------------------------------------
platform="$(node22_platform)"
cache="${INSPECTOR_CACHE:-$ROOT/node_modules/.cache/inspector}"
case "$cache" in /*) ;; *) cache="$PWD/$cache" ;; esac   # the runs below start in $ROOT
install_dir="$cache/inspector-$INSPECTOR_VERSION-node-$NODE22_VERSION-$platform"
node22_install "$install_dir" inspector-runner @modelcontextprotocol/inspector "$INSPECTOR_VERSION" "the inspector"
package_dir="$install_dir/node_modules/@modelcontextprotocol/inspector"
inspector="$package_dir/clients/launcher/build/index.js"   # the package's mcp-inspector bin
got="$("$node22" -p 'require(process.argv[1]).version' "$package_dir/package.json" 2>&1)"
[ "$got" = "$INSPECTOR_VERSION" ] && [ -f "$inspector" ] ||
  die "the cached inspector says '$got', not $INSPECTOR_VERSION (or lacks ${inspector#"$package_dir"/}): delete $install_dir and run again"
say "@modelcontextprotocol/inspector@$INSPECTOR_VERSION on Node $("$node22" --version) ($(( SECONDS - started )) s to get ready)"

# --- The two inspector runs, side by side ----------------------------------------------------------------
work="$(mktemp -d "${TMPDIR:-/tmp}/inspector-smoke.XXXXXX")" || die "cannot create a temporary folder"
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
mkdir "$work/home"

# run NAME ARGS...: the inspector CLI against our server, ARGS after the server command. A clean
# environment for the inspector, and so for the server it starts: only PATH and TMPDIR, plus a fresh HOME so no
# ~/.mcp-inspector settings of the machine take part and nothing is written to the real one.
run() {
  local name="$1" quoted; shift
  quoted="$(printf '%q ' "$@")"; printf '%s\n' "${quoted% }" >"$work/$name.args"
  (cd "$ROOT" && env -i PATH="$PATH" HOME="$work/home" TMPDIR="${TMPDIR:-/tmp}" \
    timeout "$CALL_TIMEOUT" "$node22" "$inspector" --cli "$node_bin" "$entry" "$@" \
    </dev/null >"$work/$name.out" 2>"$work/$name.err")
  echo $? >"$work/$name.code"
}
run list --method tools/list &
run call --method tools/call --tool-name list_groups &
wait

# --- Judge the output -----------------------------------------------------------------------------------
# One line per run: "ok <detail>" or "FAIL <reason>".
node - "$work" "$EXPECTED_TOOLS" "$EXPECTED_GROUPS" >"$work/verdict" 2>&1 <<'EOF'
const fs = require('node:fs');
const path = require('node:path');
const [work, expectedTools, expectedGroups] = process.argv.slice(2);
const read = (name) => fs.readFileSync(path.join(work, name), 'utf8');

function judge(name, check) {
  const code = Number(read(`${name}.code`).trim());
  const out = read(`${name}.out`);
  let result;
  try {
    result = JSON.parse(out);
  } catch {
    return `FAIL the output is not a JSON result (exit ${code})`;
  }
  const problem = check(result, out);
  if (problem) return `FAIL ${problem} (exit ${code})`;
  if (code === 124) return 'FAIL the inspector printed a result but did not finish in time (exit 124)';
  if (code !== 0) return `FAIL the output looks right, but the inspector exited ${code}`;
  return `ok ${check.detail(result)}`;
}

const tools = (result) => (Array.isArray(result?.tools) ? result.tools.map((t) => t?.name) : []);
const listCheck = (result) => {
  if (!Array.isArray(result?.tools)) return 'no "tools" array in the result';
  const missing = expectedTools.split(' ').filter((n) => !tools(result).includes(n));
  return missing.length
    ? `missing tool${missing.length === 1 ? '' : 's'} ${missing.join(', ')} (listed: ${tools(result).join(', ') || 'none'})`
    : '';
};
listCheck.detail = (result) => `${tools(result).length} tools`;

const callCheck = (result, out) => {
  if (result?.isError === true || /"isError":\s*true/.test(out)) return 'list_groups returned an error result ("isError": true)';
  if (!Array.isArray(result?.content)) return 'no "content" array in the result';
  const text = JSON.stringify(result);
  const missing = expectedGroups.split('|').filter((g) => !text.includes(g));
  return missing.length ? `the result does not name the example group${missing.length === 1 ? '' : 's'} ${missing.map((g) => `"${g}"`).join(', ')}` : '';
};
callCheck.detail = (result) => `${result.structuredContent?.groups?.length ?? '?'} groups`;

console.log(judge('list', listCheck));
console.log(judge('call', callCheck));
EOF
[ "$(wc -l <"$work/verdict")" = 2 ] || { cat "$work/verdict" >&2; die "could not read the inspector's output"; }
list_verdict="$(sed -n 1p "$work/verdict")"
call_verdict="$(sed -n 2p "$work/verdict")"

excerpt() {  # FILE: its first 120 lines, indented
  local lines
  lines=$(wc -l <"$1")
  if [ ! -s "$1" ]; then echo "    (empty)"; return; fi
  sed -n '1,120s/^/    | /p' "$1"
  [ "$lines" -le 120 ] || echo "    ... ($(( lines - 120 )) more lines)"
}
show() {  # the failed run: its command, exit code and output
  local name="$1" label="$2" verdict="$3"
  say "$label FAILED: ${verdict#FAIL }" >&2
  {
    printf '  command: (cd %q && env -i PATH="$PATH" HOME="$(mktemp -d)" %q %q --cli %q %q %s)\n' \
      "$ROOT" "$node22" "$inspector" "$node_bin" "$entry" "$(cat "$work/$name.args")"
    echo "  exit code: $(cat "$work/$name.code")"
    echo "  stdout:"; excerpt "$work/$name.out"
    echo "  stderr:"; excerpt "$work/$name.err"
  } >&2
}
failed=""
case "$list_verdict" in ok*) ;; *) show list tools/list "$list_verdict"; failed=1 ;; esac
case "$call_verdict" in ok*) ;; *) show call "tools/call list_groups" "$call_verdict"; failed=1 ;; esac
[ -z "$failed" ] || die "smoke test failed ($(( SECONDS - started )) s)"
say "tools/list ok (${list_verdict#ok }), tools/call list_groups ok"
