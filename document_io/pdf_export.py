"""DOCX to PDF with LibreOffice headless (installed by install.sh): the execution copy is what LibreOffice prints.

Each conversion runs in its own temporary folder with its own LibreOffice profile, so two conversions at once (two
reviewers executing) neither share a lock file nor see each other's output, and a stuck converter is killed."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

CONVERT_TIMEOUT_S = 180


class PdfExportFailed(RuntimeError):
    """LibreOffice is missing, failed or ran out of time: a one-line reason."""


def docx_to_pdf(docx: bytes, *, name: str = "contract") -> bytes:
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office is None:
        raise PdfExportFailed("LibreOffice (soffice) is not installed; ./install.sh installs it")
    with tempfile.TemporaryDirectory(prefix="clauseflow-pdf-") as folder:
        work = Path(folder)
        source = work / f"{name}.docx"
        source.write_bytes(docx)
        command = [office, f"-env:UserInstallation={(work / 'profile').as_uri()}", "--headless", "--norestore",
                   "--convert-to", "pdf", "--outdir", str(work / "out"), str(source)]
        try:
            done = subprocess.run(command, capture_output=True, timeout=CONVERT_TIMEOUT_S, cwd=work,
                                  env={**os.environ, "HOME": str(work)}, start_new_session=True)
        except subprocess.TimeoutExpired:
            raise PdfExportFailed(f"LibreOffice did not convert {name}.docx within {CONVERT_TIMEOUT_S} s") from None
        produced = work / "out" / f"{name}.pdf"
        if done.returncode != 0 or not produced.is_file():
            said = " ".join(done.stderr.decode("utf-8", "replace").split())[:200]
            raise PdfExportFailed(f"LibreOffice could not convert {name}.docx (exit {done.returncode}){': ' + said if said else ''}")
        return produced.read_bytes()
