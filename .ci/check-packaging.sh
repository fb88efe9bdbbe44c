#!/usr/bin/env bash
# Packaging checks for CI, on a clean clone after `npm ci`: packs the Claude Desktop extension, then checks it
# with the official mcpb CLI and by starting it as its manifest says, and checks server.json against the MCP
# registry's schema. One line per check; exits non-zero when any failed.
set -uo pipefail
cd "$(dirname "$0")/.."

if ! out="$(npm run --silent pack:mcpb 2>&1)"; then
  echo "FAILED: npm run pack:mcpb"
  printf '%s\n' "$out"
  exit 1
fi
echo "ok: npm run pack:mcpb wrote dist/sinch-groups-mcp.mcpb"
npx tsx .ci/check-packaging.ts
