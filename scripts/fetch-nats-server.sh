#!/usr/bin/env bash
# Unpacks nats-server 2.10 from Debian 13 (trixie) into .tools/, beside the 2.9 that Debian 12's
# apt installs: production clusters run 2.10 or later, and a 3-node 2.10 cluster answers a retried
# append differently from 2.9 (see packages/platform/src/event-store.ts), so the tests run on both.
# Nothing about the machine's apt sources changes. The file is checked along Debian's own chain:
# InRelease signed by a key in the machine's debian-archive-keyring, which names the hash of the
# Packages index, which names the hash of the .deb. Prints the binary's path.
set -euo pipefail
cd "$(dirname "$0")/.."

mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=trixie
series=2.10
existing=$(ls -d .tools/nats-server-$series.*[0-9]/usr/sbin/nats-server 2>/dev/null | sort -V | tail -1 || true)
if [ -n "$existing" ] && [ -x "$existing" ]; then
  echo "$existing"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
curl -fsS --retry 3 -o "$work/InRelease" "$mirror/dists/$suite/InRelease"
gpgv --keyring /usr/share/keyrings/debian-archive-keyring.gpg --output "$work/Release" "$work/InRelease" 2>/dev/null
index=main/binary-amd64/Packages.xz
index_sha=$(awk -v f="$index" '/^SHA256:/{s=1;next} /^[^ ]/{s=0} s && $3==f {print $1}' "$work/Release")
[ -n "$index_sha" ] || { echo "no $index in $suite's Release" >&2; exit 1; }
curl -fsS --retry 3 -o "$work/Packages.xz" "$mirror/dists/$suite/$index"
echo "$index_sha  $work/Packages.xz" | sha256sum -c --quiet
xz -d "$work/Packages.xz"
stanza=$(awk '/^Package: nats-server$/{p=1} p&&/^$/{exit} p' "$work/Packages")
version=$(awk '/^Version:/{print $2}' <<<"$stanza")
filename=$(awk '/^Filename:/{print $2}' <<<"$stanza")
deb_sha=$(awk '/^SHA256:/{print $2}' <<<"$stanza")
case "$version" in
  $series.*) ;;
  *) echo "trixie's nats-server is $version, not $series.x" >&2; exit 1 ;;
esac
curl -fsS --retry 3 -o "$work/nats-server.deb" "$mirror/$filename"
echo "$deb_sha  $work/nats-server.deb" | sha256sum -c --quiet
upstream=${version%%-*}
dest=.tools/nats-server-$upstream
rm -rf "$dest.tmp" && mkdir -p "$dest.tmp"
dpkg-deb -x "$work/nats-server.deb" "$dest.tmp"
"$dest.tmp/usr/sbin/nats-server" --version >/dev/null
rm -rf "$dest" && mv "$dest.tmp" "$dest"
echo "$dest/usr/sbin/nats-server"
