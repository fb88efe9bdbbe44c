#!/usr/bin/env bash
# Packaging checks for CI, on a clean clone after `npm ci`: packs the Claude Desktop extension, then checks it
# with the official mcpb CLI and by starting it as its manifest says, and checks server.json against the MCP
# registry's schema. One line per check; exits non-zero when any failed.
set -uo pipefail
cd "$(dirname "$0")/.."

mcpb=dist/sinch-groups-mcp.mcpb
# A packed file newer than the build is kept: packing again would change its sha256 (the zip records the
# time), and after `npm run release` server.json holds the sha256 of that very file.
if [ ! -f "$mcpb" ] || [ ! -f dist/cli/index.js ] || [ -n "$(find dist/cli -newer "$mcpb" -print -quit)" ]; then
  if ! out="$(npm run --silent pack:mcpb 2>&1)"; then
    echo "FAILED: npm run pack:mcpb"
    printf '%s\n' "$out"
    exit 1
  fi
  echo "ok: npm run pack:mcpb wrote $mcpb"
else
  echo "ok: $mcpb is newer than the build: checking it as it is"
fi
npx tsx .ci/check-packaging.ts
