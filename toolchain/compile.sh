#!/usr/bin/env bash
# Compiles the contracts. ape-solidity 0.8.6 recompiles only the files that changed, not the
# files that import them, so any change under contracts/ (or to the config) forces a full build.
set -euo pipefail
cd "$(dirname "$0")/.."
digest=$(cat ape-config.yaml package-lock.json $(find contracts -name '*.sol' | sort) | sha256sum | cut -d' ' -f1)
stamp=.build/.sources.sha256
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$digest" ]; then
  exit 0
fi
.venv/bin/ape compile --force
echo "$digest" > "$stamp"
