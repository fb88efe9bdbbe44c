# Sourced (not run) by .ci/run and .ci/conformance.sh: a pinned Node, and optionally one pinned npm package
# beside it, installed from the npm registry into a cache folder once and reused by later runs.
#
# The machine's own Node may be older than the one a job needs: the test suite runs on each supported Node
# line, and the conformance suite needs Node 22. The binary comes from the npm package node-<platform>-<arch>
# (plain package content, no install scripts), installed with `npm install --ignore-scripts`.
#
# The caller defines say and die (its own message prefix) and has checked that node and npm exist.
#
#   node_platform                     prints the platform-arch pair, e.g. linux-x64
#   node_install VERSION DIR [PACKAGE PACKAGE_VERSION WHAT]
#       installs node-<platform>@VERSION, and PACKAGE@PACKAGE_VERSION when given, into DIR, unless
#       DIR/.complete says it is there already. WHAT names the tool in the failure message ("npm install of
#       WHAT failed"). The install happens in a staging folder beside DIR, which replaces DIR only once the
#       fetched Node has answered with the pinned version. Sets node_bin to the Node binary in DIR.

# The newest release of each line on the registry when pinned; bump them together with a run of .ci/run.
NODE22_VERSION=22.23.5
NODE24_VERSION=24.22.3

node_platform() {
  printf '%s-%s\n' "$(node -p 'process.platform === "win32" ? "win" : process.platform')" "$(node -p process.arch)"
}

node_install() {
  local version="$1" dir="$2" package="${3:-}" package_version="${4:-}" what="${5:-Node $1}"
  local node_pkg cache staging got deps
  node_pkg="node-$(node_platform)"
  cache="$(dirname "$dir")"
  node_bin="$dir/node_modules/$node_pkg/bin/node"
  [ -f "$dir/.complete" ] && return 0

  deps="\"$node_pkg\": \"$version\""
  [ -z "$package" ] || deps="$deps, \"$package\": \"$package_version\""
  say "installing $node_pkg@$version${package:+ and $package@$package_version} into $dir"
  mkdir -p "$cache" || die "cannot create $cache"
  staging="$(mktemp -d "$cache/.staging.XXXXXX")" || die "cannot create a folder in $cache"
  printf '{ "name": "sinch-groups-mcp-ci-tools", "private": true, "dependencies": { %s } }\n' "$deps" >"$staging/package.json"
  # No install scripts are needed: the Node binary is plain package content.
  if ! (cd "$staging" && npm install --ignore-scripts --no-audit --no-fund --loglevel=error >install.log 2>&1); then
    cat "$staging/install.log" >&2
    rm -rf "$staging"
    die "npm install of $what failed"
  fi
  got="$("$staging/node_modules/$node_pkg/bin/node" --version 2>&1)"
  [ "$got" = "v$version" ] || { rm -rf "$staging"; die "the fetched Node says '$got', not v$version"; }
  touch "$staging/.complete"
  rm -rf "$dir"
  mv "$staging" "$dir" || die "cannot move the install into $dir"
}
