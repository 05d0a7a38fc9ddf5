#!/usr/bin/env bash
# Puts a runnable valkey-server in a cache dir and prints its path, for running the Redis tests against
# Valkey (tests/valkey_test.ts; OPENCLAW_TEST_REDIS_SERVER=<path> for any Redis test file).
#
# Debian 12 (bookworm, this project's CI image) packages no Valkey, even in backports; Debian 13 (trixie)
# packages Valkey 8.1. Its binary needs glibc 2.38 and bookworm has 2.36, so this downloads trixie's
# valkey-server, valkey-tools and libc6 packages (apt-get download, into a private apt state: the system's
# sources and packages are not touched) and writes a wrapper that starts the binary with trixie's own loader
# in front of the system libraries. On a system with a valkey-server on PATH it prints that one instead.
#
# Usage: scripts/valkey_from_debian.sh [dest-dir]   (default: ~/.cache/openclaw-gateway-ts/valkey)
set -euo pipefail

if command -v valkey-server >/dev/null 2>&1; then
  command -v valkey-server
  exit 0
fi

dest="${1:-${XDG_CACHE_HOME:-$HOME/.cache}/openclaw-gateway-ts/valkey}"
wrapper="$dest/valkey-server"
if [[ -x "$wrapper" ]] && "$wrapper" --version >/dev/null 2>&1; then
  echo "$wrapper"
  exit 0
fi

case "$(dpkg --print-architecture)" in
  amd64) triplet=x86_64-linux-gnu loader=ld-linux-x86-64.so.2 ;;
  arm64) triplet=aarch64-linux-gnu loader=ld-linux-aarch64.so.1 ;;
  *) echo "no Valkey recipe for $(dpkg --print-architecture)" >&2; exit 1 ;;
esac

apt_dir="$(mktemp -d)"
trap 'rm -rf "$apt_dir"' EXIT
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
echo "deb http://deb.debian.org/debian trixie main" >"$apt_dir/sources.list"
apt_opts=(
  -o "Dir::Etc::sourcelist=$apt_dir/sources.list" -o "Dir::Etc::sourceparts=-"
  -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
  -o "Debug::NoLocking=1" -o "APT::Get::List-Cleanup=0" -o "APT::Sandbox::User=root"
)
apt-get -qq "${apt_opts[@]}" update >&2
(cd "$apt_dir" && apt-get -qq "${apt_opts[@]}" download valkey-server valkey-tools libc6 >&2)

rm -rf "$dest"
mkdir -p "$dest/root"
for deb in "$apt_dir"/*.deb; do dpkg-deb -x "$deb" "$dest/root"; done
lib="$dest/root/usr/lib/$triplet"
cat >"$wrapper" <<EOF
#!/bin/sh
# Valkey from Debian trixie, on trixie's glibc (written by scripts/valkey_from_debian.sh).
exec "$lib/$loader" --library-path "$lib:/lib/$triplet:/usr/lib/$triplet" "$dest/root/usr/bin/valkey-server" "\$@"
EOF
chmod +x "$wrapper"
"$wrapper" --version >&2
echo "$wrapper"
