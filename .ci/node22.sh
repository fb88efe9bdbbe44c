# Sourced (not run) by .ci/conformance.sh: a pinned Node 22 and one pinned npm package, installed from the
# npm registry into a cache folder once and reused by later runs.
#
# The machine's own Node may be older than 22 (the project supports Node 20): the tools the CI scripts
# run need Node 22, so its binary comes from the npm package node-<platform>-<arch> (plain package
# content, no install scripts), installed beside the tool with `npm install --ignore-scripts`.
#
# The caller defines say and die (its own message prefix) and has checked that node and npm exist.
#
#   node22_platform                              prints the platform-arch pair, e.g. linux-x64
#   node22_install DIR NAME PACKAGE VERSION WHAT installs node-<platform>@NODE22_VERSION and
#       PACKAGE@VERSION into DIR, unless DIR/.complete says it is there already. NAME names the private
#       package.json written there; WHAT names the tool in the failure message ("npm install of WHAT
#       failed"). The install happens in a staging folder beside DIR, which replaces DIR only once the
#       fetched Node has answered with the pinned version. Sets node22 to the Node 22 binary in DIR.

NODE22_VERSION=22.23.3   # node-<platform>-<arch>: the Node 22 the CI tools run on

node22_platform() {
  printf '%s-%s\n' "$(node -p 'process.platform === "win32" ? "win" : process.platform')" "$(node -p process.arch)"
}

node22_install() {
  local dir="$1" name="$2" package="$3" version="$4" what="$5"
  local node_pkg cache staging got
  node_pkg="node-$(node22_platform)"
  cache="$(dirname "$dir")"
  node22="$dir/node_modules/$node_pkg/bin/node"
  [ -f "$dir/.complete" ] && return 0

  say "installing $node_pkg@$NODE22_VERSION and $package@$version into $dir"
  mkdir -p "$cache" || die "cannot create $cache"
  staging="$(mktemp -d "$cache/.staging.XXXXXX")" || die "cannot create a folder in $cache"
  cat >"$staging/package.json" <<EOF
{ "name": "$name", "private": true,
  "dependencies": { "$node_pkg": "$NODE22_VERSION", "$package": "$version" } }
EOF
  # No install scripts are needed: the Node binary is plain package content.
  if ! (cd "$staging" && npm install --ignore-scripts --no-audit --no-fund --loglevel=error >install.log 2>&1); then
    cat "$staging/install.log" >&2
    rm -rf "$staging"
    die "npm install of $what failed"
  fi
  got="$("$staging/node_modules/$node_pkg/bin/node" --version 2>&1)"
  [ "$got" = "v$NODE22_VERSION" ] || { rm -rf "$staging"; die "the fetched Node says '$got', not v$NODE22_VERSION"; }
  touch "$staging/.complete"
  rm -rf "$dir"
  mv "$staging" "$dir" || die "cannot move the install into $dir"
}
