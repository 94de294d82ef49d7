"""Resource bounds on hostile and large files, each in a fresh process (peak RSS from the kernel):

    python benchmarks/hostile_limits.py

1. a ~2 MB DOCX whose document.xml inflates to ~2 GB (a zip bomb): how fast it is refused, and the peak memory;
2. the same bomb with its ZIP headers lying about the size (only chunked inflation with a cap can stop it);
3. the largest CUAD contract rebuilt as DOCX, reviewed end to end to the human checkpoint: the peak memory of a
   real review of a long contract.

Writes benchmarks/reports/hostile-limits.json; the README quotes it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.report import machine, write_report  # noqa: E402

_LOAD = """
import resource, sys, time
sys.path.insert(0, {root!r})
from document_io.loader import load_document
from document_io.errors import DocumentError
started = time.perf_counter()
try:
    load_document({path!r})
    outcome = "read"
except DocumentError as error:
    outcome = "refused: " + str(error)
print(round(time.perf_counter() - started, 3), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, outcome, sep="\\t")
"""


def zip_bomb(path: Path, inflated_gb: float) -> None:
    from docx import Document

    template = tempfile.NamedTemporaryFile(suffix=".docx", delete=False).name
    Document().save(template)
    with zipfile.ZipFile(template) as package:
        parts = {n: package.read(n) for n in package.namelist()}
    head, tail = parts["word/document.xml"].split(b"<w:body>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as bomb:
        for name, data in parts.items():
            if name != "word/document.xml":
                bomb.writestr(name, data)
        with bomb.open("word/document.xml", "w", force_zip64=True) as stream:
            stream.write(head + b"<w:body><!--")
            block = b" " * (16 * 1024 * 1024)
            for _ in range(int(inflated_gb * 1024 / 16)):
                stream.write(block)
            stream.write(b"-->" + tail)
    os.unlink(template)


def lie_about_size(path: Path) -> Path:
    """The same package with document.xml's declared size rewritten to 1 kB in both ZIP headers."""
    raw = bytearray(path.read_bytes())
    for signature, size_at, name_len_at, name_at in ((b"PK\x03\x04", 22, 26, 30), (b"PK\x01\x02", 24, 28, 46)):
        for match in re.finditer(re.escape(signature), bytes(raw)):
            start = match.start()
            length = int.from_bytes(raw[start + name_len_at:start + name_len_at + 2], "little")
            if bytes(raw[start + name_at:start + name_at + length]) == b"word/document.xml":
                raw[start + size_at:start + size_at + 4] = (1024).to_bytes(4, "little")
    liar = path.with_name("liar.docx")
    liar.write_bytes(bytes(raw))
    return liar


def in_fresh_process(path: Path) -> dict:
    result = subprocess.run([sys.executable, "-c", _LOAD.format(root=str(ROOT), path=str(path))], capture_output=True,
                            text=True, timeout=600)
    seconds, peak_mb, outcome = result.stdout.strip().split("\t")
    return {"file_mb": round(path.stat().st_size / 1_048_576, 2), "seconds": float(seconds), "peak_rss_mb": int(peak_mb),
            "outcome": outcome}


def review_peak(folder: Path) -> dict:
    from evals.cuad_docx import cuad_text_to_docx
    from evals.datasets import CuadDataset

    longest = max(CuadDataset().contracts("all"), key=lambda c: len(c.text))
    path = folder / "longest_cuad.docx"
    path.write_bytes(cuad_text_to_docx(longest.text))
    started = time.perf_counter()
    command = [sys.executable, "-c", "import resource, runpy, sys; sys.argv = ['app.py', 'review', sys.argv[1], '--out', "
               "sys.argv[2]]; code = 0\ntry:\n    runpy.run_path('app.py', run_name='__main__')\nexcept SystemExit as e:\n"
               "    code = e.code or 0\nprint('PEAK', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, code)",
               str(path), str(folder / "out")]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=1200,
                            env={**os.environ, "CLAUSEFLOW_DATA_DIR": str(folder / "data")})
    peak = re.search(r"PEAK (\d+) (\d+)", result.stdout)
    return {"contract": longest.id, "characters": len(longest.text), "seconds": round(time.perf_counter() - started, 1),
            "peak_rss_mb": int(peak.group(1)) if peak else None, "exit_code": int(peak.group(2)) if peak else result.returncode}


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        bomb = folder / "bomb.docx"
        zip_bomb(bomb, inflated_gb=2.0)
        results = {
            "machine": machine(),
            "zip_bomb": in_fresh_process(bomb),
            "zip_bomb_lying_headers": in_fresh_process(lie_about_size(bomb)),
            "longest_cuad_review": review_peak(folder),
        }
    write_report("hostile-limits", results)

if __name__ == "__main__":
    main()
