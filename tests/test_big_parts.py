"""A small DOCX can carry a huge part: zeros compress a thousandfold, so a 1 MB file may hold a 1 GB image. Reviewing
reads only the text parts under limits; finalising streams every other part across, so memory stays far below the
part's size (the writer used to open the whole package: 2.24 GB for this file)."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

from conftest import ROOT, SAMPLES, app_env

GIB = 1 << 30
_MEASURED = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, repr(done.stdout[-3000:]), repr(done.stderr[-2000:]),
      sep="\\n")
"""


def _with_a_gigabyte_image(source: Path, target: Path) -> None:
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out:
        for member in original.infolist():
            data = original.read(member.filename)
            if member.filename == "word/_rels/document.xml.rels":
                data = data.replace(b"</Relationships>", b'<Relationship Id="rIdBig" Type="http://schemas.openxmlformats.org/'
                                    b'officeDocument/2006/relationships/image" Target="media/filler.png"/></Relationships>')
            elif member.filename == "[Content_Types].xml" and b'Extension="png"' not in data:
                data = data.replace(b"</Types>", b'<Default Extension="png" ContentType="image/png"/></Types>')
            out.writestr(member, data)
        info = zipfile.ZipInfo("word/media/filler.png")
        info.compress_type = zipfile.ZIP_DEFLATED
        with out.open(info, "w") as sink:
            block = bytes(1 << 24)
            for _ in range(GIB // len(block)):
                sink.write(block)


def _peak(args: list[str], data: Path) -> tuple[int, int, str]:
    """(exit code, peak resident memory of app.py in MB, its output)."""
    run = subprocess.run([sys.executable, "-c", _MEASURED, sys.executable, str(ROOT / "app.py"), *args], cwd=ROOT,
                         env=app_env(data), capture_output=True, text=True, timeout=600)
    code, peak_kb, out, err = run.stdout.split("\n", 3)
    return int(code), int(peak_kb) // 1024, out + err


def test_a_gigabyte_part_is_reviewed_and_finalised_in_well_under_a_gigabyte(tmp_path):
    contract = tmp_path / "msa_with_filler.docx"
    _with_a_gigabyte_image(SAMPLES / "msa_orion.docx", contract)
    assert contract.stat().st_size < 10 * 1024 * 1024  # a small file
    data, out = tmp_path / "data", tmp_path / "out"
    code, reviewed_mb, said = _peak(["review", str(contract), "--out", str(out)], data)
    assert code == 0, said
    thread = said.split("thread ")[1].split(" ")[0]
    code, finalised_mb, said = _peak(["decide", thread, "--approve-all", "--reviewer", "Ann"], data)
    assert code == 0, said
    assert reviewed_mb < 1024 and finalised_mb < 1024, (reviewed_mb, finalised_mb)
    redlined = next(out.glob("*.redlined.docx"))
    with zipfile.ZipFile(redlined) as package:  # the part is still there, whole, and Word's XML carries the edits
        assert package.getinfo("word/media/filler.png").file_size == GIB
        assert b"<w:ins " in package.read("word/document.xml")
    report = json.loads(next(out.glob("*.review.json")).read_text())
    assert report["thread_id"] == thread
