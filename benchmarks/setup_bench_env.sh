#!/usr/bin/env bash
# Create benchmarks/.venv-bench: a SEPARATE environment holding the peer (SDV's `ctgan`, BSL-licensed:
# we only run it, it is never a dependency of synthohive), SDMetrics, psutil and our package.
# CPU torch goes in first so that nothing later pulls a CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
VENV=benchmarks/.venv-bench
if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet "torch==2.13.0"
"$VENV/bin/python" -m pip install --quiet ctgan sdmetrics psutil
"$VENV/bin/python" -m pip install --quiet -e .
"$VENV/bin/python" - <<'PY'
from importlib.metadata import version
for name in ("torch", "ctgan", "rdt", "sdmetrics", "pandas", "numpy", "synthohive"):
    print(f"{name:<11} {version(name)}")
PY
echo "benchmark environment ready: $VENV (run: $VENV/bin/python benchmarks/bench_ctgan.py --help)"
