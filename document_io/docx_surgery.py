"""Edit a DOCX's XML without holding its other parts in memory.

python-docx opens a whole package: a 1 MB file carrying a 1 GB image part (zeros compress a thousandfold) costs
gigabytes to finalise. Here the editor (the tracked-changes writer, the comments writer) is handed a light copy whose
binary parts are empty, its XML parts inflated under the reading limits; the result's XML parts are then written
into a copy of the original package whose binary parts are streamed member by member, never whole.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

from document_io.docx_package import MAX_PART_BYTES, MAX_TOTAL_BYTES, _inflate, open_package

_CHUNK = 1 << 20
_XML = (".xml", ".rels")


def edit_light(docx: bytes, edit: Callable[[bytes], bytes], *, name: str = "the document") -> bytes:
    """`edit` applied to the package's XML; every other part carried over from `docx` as it was, streamed."""
    source, members = open_package(name, docx)
    light, total = io.BytesIO(), 0
    with zipfile.ZipFile(light, "w", zipfile.ZIP_DEFLATED) as writer:
        for member in members:
            if member.filename.endswith(_XML):
                data = _inflate(name, source, member, min(MAX_PART_BYTES, MAX_TOTAL_BYTES - total))
                total += len(data)
                writer.writestr(member.filename, data)
            else:
                writer.writestr(member.filename, b"")  # a placeholder: the editor never reads media
    edited = zipfile.ZipFile(io.BytesIO(edit(light.getvalue())))
    out = io.BytesIO()
    originals = {m.filename: m for m in members}
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as writer:
        for member in edited.infolist():
            original = originals.get(member.filename)
            if member.filename.endswith(_XML) or original is None:
                writer.writestr(member.filename, edited.read(member.filename))
                continue
            target = zipfile.ZipInfo(member.filename, original.date_time)
            target.compress_type = zipfile.ZIP_DEFLATED
            with source.open(original) as reader, writer.open(target, "w", force_zip64=original.file_size > (1 << 31)) as sink:
                while chunk := reader.read(_CHUNK):
                    sink.write(chunk)
    return out.getvalue()
