#!/usr/bin/env bash
# Create benchmarks/.venv-mostly: a SEPARATE environment holding the peer for bench_tabular_ar.py,
# MOSTLY AI's `mostlyai-engine` (TabularARGN) and its scorer `mostlyai-qa`, plus our package.
# We only run them; they are never dependencies of synthohive.
# CPU torch goes in first; the engine and qa go in with --no-deps, then only the dependencies their
# tabular path needs (torchvision, torchaudio, peft, xgrammar, vllm... are not needed).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
VENV=benchmarks/.venv-mostly
if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip install --quiet)
"${PIP[@]}" --upgrade pip
"${PIP[@]}" "torch==2.13.0"
"${PIP[@]}" --no-deps mostlyai-engine mostlyai-qa
"${PIP[@]}" accelerate datasets huggingface-hub joblib json-repair numpy opacus pandas "psutil<6" pyarrow \
    scikit-learn tokenizers transformers jinja2 model2vec phik plotly pydantic scipy xxhash
"${PIP[@]}" -e .
"$VENV/bin/python" - <<'PY'
from importlib.metadata import version
for name in ("torch", "mostlyai-engine", "mostlyai-qa", "pandas", "numpy", "synthohive"):
    print(f"{name:<16} {version(name)}")
PY
echo "peer environment ready: $VENV (run: $VENV/bin/python benchmarks/bench_tabular_ar.py --help)"
