#!/usr/bin/env bash
# Installs everything the project needs into the project folder, and nothing twice:
#   .venv/          Python 3.11 virtualenv synced to requirements.lock (uv)
#   node_modules/   Anvil, cast, solc-js, OpenZeppelin, Chainlink, exactly as package-lock.json says
#   .toolchain/     `solc-v<version>` (solc-js adapter) and an `anvil` that prunes history
# Each step is skipped when its stamp is newer than its inputs.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
python=${PYTHON:-python3.11}
solc_version=$(node -p 'require("./package.json").dependencies.solc')

fresh() { [ -e "$1" ] && [ -z "$(find "${@:2}" -newer "$1" 2>/dev/null)" ]; }

if ! fresh .venv/.synced requirements.lock; then
  echo "==> Python environment (.venv)"
  [ -x .venv/bin/python ] || "$python" -m venv .venv
  [ -x .venv/bin/uv ] || .venv/bin/pip install -q "$(grep '^uv==' requirements.lock)"
  .venv/bin/uv pip sync -q --python .venv/bin/python requirements.lock
  touch .venv/.synced
fi

if ! fresh node_modules/.synced package.json package-lock.json; then
  echo "==> Node packages (node_modules)"
  # `npm ci` installs exactly the lock and never rewrites it (the deployment record names the
  # git commit, so setup must leave the tree clean). The lock lists every platform's Anvil and
  # cast package; npm installs only this machine's.
  npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
  touch node_modules/.synced
fi

if ! fresh .toolchain/.synced toolchain/install.sh package.json; then
  echo "==> Compiler and chain wrappers (.toolchain)"
  mkdir -p .toolchain/bin .toolchain/solc
  cat > ".toolchain/solc/solc-v${solc_version}" <<SH
#!/bin/sh
exec node "$root/toolchain/solc-adapter.cjs" "\$@"
SH
  # ape-foundry starts `anvil` from PATH and has no option for extra flags, nor one to drop the
  # `--steps-tracing` it always passes (85-90% of Anvil's CPU per transaction; the call tracer the
  # harness uses for return and revert data works without it), so the wrapper strips it.
  # 256 recent states stay in memory (traces of recent transactions work), nothing goes to disk.
  # `--order fifo`: a block of batched actions (difftest.ledger) holds them in the order sent.
  cat > .toolchain/bin/anvil <<SH
#!/bin/sh
for arg do
  shift
  [ "\$arg" = "--steps-tracing" ] && continue
  set -- "\$@" "\$arg"
done
exec "$root/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil" --prune-history 256 --order fifo "\$@"
SH
  chmod +x ".toolchain/solc/solc-v${solc_version}" .toolchain/bin/anvil
  # Every Python started from .venv (pytest, ape, scripts) finds both wrappers and the project.
  site=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  cat > "$site/_perp_backstop_toolchain.py" <<PY
import os
import sys
# The project's packages (pymodel, chainio, tests) resolve from the project root first.
if "$root" not in sys.path:
    sys.path.insert(0, "$root")
os.environ.setdefault("SOLCX_BINARY_PATH", "$root/.toolchain/solc")
if "$root/.toolchain/bin" not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = "$root/.toolchain/bin" + os.pathsep + os.environ.get("PATH", "")
PY
  echo "import _perp_backstop_toolchain" > "$site/_perp_backstop_toolchain.pth"
  touch .toolchain/.synced
fi
