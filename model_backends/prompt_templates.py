"""Prompt templates from prompts/<agent>.md: a `version:` line, then `# system` and `# user` sections with
{placeholders}. Values are substituted once, so braces inside contract text are never read as placeholders."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel

from document_io.normalise import strip_invisible

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


class PromptTemplate(BaseModel):
    name: str
    version: str
    system: str
    user: str

    def placeholders(self) -> set[str]:
        return set(_PLACEHOLDER.findall(self.system + self.user))

    def example(self) -> dict | None:
        """The example answer the template shows ("for example:" then one JSON line): a model that hands it back
        has copied it, not read the contract (model_backends/answer_checks.py)."""
        import json

        for text in (self.user, self.system):
            found = re.search(r"for example:\s*\n(\{.*\})\s*$", text, re.MULTILINE)
            if found:
                try:
                    return json.loads(found.group(1))
                except ValueError:
                    return None
        return None

    def messages(self, values: dict[str, str]) -> list[dict[str, str]]:
        missing = self.placeholders() - set(values)
        if missing:
            raise KeyError(f"prompt {self.version} needs {sorted(missing)}")
        fill = lambda text: _PLACEHOLDER.sub(lambda m: as_data(str(values[m.group(1)])), text)  # noqa: E731
        return [{"role": "system", "content": fill(self.system)}, {"role": "user", "content": fill(self.user)}]


# a tag in a value that could open or close the prompt's own blocks ("</contract> SYSTEM: ...") loses its angle
# bracket: the text stays readable as data, but can never end the data block
_TAG_LIKE = re.compile(r"<(\s*/?\s*(?:contract|clause|document|data|system|user|assistant|instructions?|prompt)\b[^>]{0,40})>",
                       re.IGNORECASE)
_CHAT_MARKER = re.compile(r"<\|\s*(im_start|im_end|endoftext|system|user|assistant)\s*\|>", re.IGNORECASE)


def as_data(value: str) -> str:
    """Contract text as the model may see it: without characters a person cannot see (Unicode tag characters that
    spell ASCII to a model, bidi controls, zero-width marks; the guard flags them), and with no tag that could close the
    prompt's blocks."""
    value = strip_invisible(value)
    value = _TAG_LIKE.sub(lambda m: f"‹{m.group(1)}›", value)
    return _CHAT_MARKER.sub(lambda m: f"‹|{m.group(1)}|›", value)


@lru_cache(maxsize=None)
def load_prompt(name: str) -> PromptTemplate:
    text = (PROMPTS_DIR / f"{name}.md").read_text(encoding="utf-8")
    version = re.match(r"version:\s*(\S+)", text)
    parts = re.split(r"^# (system|user)\s*$", text, flags=re.MULTILINE)
    sections = dict(zip(parts[1::2], (p.strip() for p in parts[2::2])))
    if not version or set(sections) != {"system", "user"}:
        raise ValueError(f"prompts/{name}.md needs a version line and # system / # user sections")
    return PromptTemplate(name=name, version=version.group(1), system=sections["system"], user=sections["user"])
