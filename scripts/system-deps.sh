#!/usr/bin/env bash
# System packages `npm test` needs (run first by `npm test` and `.ci/run`; fast when all present):
#   chromium              the real-VS-Code end-to-end tests (code-server in headless Chromium)
#   libkrb5-dev           headers code-server's native kerberos module builds against
#   libopenblas0-pthread  native matMul behind the wasm backend (src/core/backend/blas.ts)
#   mesa-vulkan-drivers >= 25 + libvulkan1 from bookworm-backports
#                         lavapipe, the software Vulkan GPU the webgpu tests run on (Debian 12's
#                         own Mesa 22.3 is too old for Dawn; /work/shared/recipes/webgpu.md)
# As root it uses apt-get; otherwise sudo -n; otherwise it fails printing the exact commands.
# HYPERAT_SKIP_SYSTEM_DEPS=1 skips it. For tests: HYPERAT_SYSDEPS_ROOT (default /) prefixes the
# apt paths, HYPERAT_SYSDEPS_DRY_RUN=1 prints the commands instead of running them, and
# `--sources-only` only writes the backports source file.
set -euo pipefail

ROOT="${HYPERAT_SYSDEPS_ROOT:-}"
ROOT="${ROOT%/}"
SOURCES_DIR="$ROOT/etc/apt/sources.list.d"
BACKPORTS_FILE="$SOURCES_DIR/backports.sources"
DRY_RUN="${HYPERAT_SYSDEPS_DRY_RUN:-0}"
PLAIN_PKGS=(chromium libkrb5-dev libopenblas0-pthread)
BACKPORT_PKGS=(mesa-vulkan-drivers libvulkan1)
MIN_MESA=25

say() { echo "system-deps: $*" >&2; }

if [ "${HYPERAT_SKIP_SYSTEM_DEPS:-0}" = "1" ]; then exit 0; fi

# The mirror the machine already uses: the URIs: line of debian.sources (deb822), else the first
# `deb` line of sources.list; deb.debian.org when neither names one.
debian_mirror() {
  local f="$SOURCES_DIR/debian.sources" uri=""
  if [ -f "$f" ]; then
    uri="$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' "$f")"
  fi
  if [ -z "$uri" ] && [ -f "$ROOT/etc/apt/sources.list" ]; then
    uri="$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^(https?|file):/) { print $i; exit } }' "$ROOT/etc/apt/sources.list")"
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}

codename() {
  local c=""
  if [ -f "$ROOT/etc/os-release" ]; then c="$(. "$ROOT/etc/os-release" && echo "${VERSION_CODENAME:-}")"; fi
  echo "${c:-bookworm}"
}

backports_source_text() {
  printf 'Types: deb\nURIs: %s\nSuites: %s-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$(debian_mirror)" "$(codename)"
}

# Writes backports.sources unless one (or any source naming <codename>-backports) exists. 0 = wrote.
ensure_backports_source() {
  local suite
  suite="$(codename)-backports"
  if grep -rqs -- "$suite" "$SOURCES_DIR" "$ROOT/etc/apt/sources.list" 2>/dev/null; then return 1; fi
  mkdir -p "$SOURCES_DIR"
  local tmp="$BACKPORTS_FILE.tmp.$$"
  backports_source_text >"$tmp"
  mv "$tmp" "$BACKPORTS_FILE" # atomic: apt never reads half a file
  say "added $suite on $(debian_mirror) ($BACKPORTS_FILE)"
  return 0
}

if [ "${1:-}" = "--sources-only" ]; then
  ensure_backports_source || true
  exit 0
fi

installed_version() { dpkg-query -W -f='${Status} ${Version}\n' "$1" 2>/dev/null | awk '$3 == "installed" { print $4 }'; }

missing=()
for p in "${PLAIN_PKGS[@]}"; do [ -n "$(installed_version "$p" || true)" ] || missing+=("$p"); done
need_backports=0
mesa="$(installed_version mesa-vulkan-drivers || true)"
if [ -z "$mesa" ] || ! dpkg --compare-versions "$mesa" ge "$MIN_MESA"; then need_backports=1; fi
[ -n "$(installed_version libvulkan1 || true)" ] || need_backports=1

if ! command -v dpkg-query >/dev/null 2>&1 || [ ! -f "$ROOT/etc/debian_version" ]; then
  say "not a Debian/Ubuntu system: install these yourself, then set HYPERAT_SKIP_SYSTEM_DEPS=1:"
  say "  Chromium (or Chrome) on PATH as 'chromium', Kerberos headers (krb5 dev package), OpenBLAS,"
  say "  and a Vulkan loader with Mesa >= $MIN_MESA lavapipe (or a real GPU's Vulkan/Metal/D3D12 driver)"
  exit 1
fi
if [ ${#missing[@]} -eq 0 ] && [ "$need_backports" = 0 ]; then exit 0; fi

cmds=()
[ "$need_backports" = 1 ] && ! grep -rqs -- "$(codename)-backports" "$SOURCES_DIR" "$ROOT/etc/apt/sources.list" 2>/dev/null &&
  cmds+=("bash scripts/system-deps.sh --sources-only")
cmds+=("apt-get update -qq")
[ ${#missing[@]} -gt 0 ] && cmds+=("apt-get install -y -qq --no-install-recommends ${missing[*]}")
[ "$need_backports" = 1 ] && cmds+=("apt-get install -y -qq --no-install-recommends -t $(codename)-backports ${BACKPORT_PKGS[*]}")

say "missing: ${missing[*]:-}$([ "$need_backports" = 1 ] && echo " mesa-vulkan-drivers>=$MIN_MESA (have ${mesa:-none}) libvulkan1")"
if [ "$DRY_RUN" = "1" ]; then printf '%s\n' "${cmds[@]}"; exit 0; fi

if [ "$(id -u)" = "0" ]; then
  run() { DEBIAN_FRONTEND=noninteractive "$@"; }
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  run() { sudo -n env DEBIAN_FRONTEND=noninteractive "$@"; }
else
  say "not root and no passwordless sudo; run these as root, then npm test again:"
  for c in "${cmds[@]}"; do say "  ${c/bash scripts/bash $(pwd)/scripts}"; done
  exit 1
fi
for c in "${cmds[@]}"; do
  # shellcheck disable=SC2086 # each command is a fixed list of words built above
  run $c >/dev/null
done
say "installed"
