"""Undo the disguises a counterparty can put on text so that patterns see what a reader (or a model) would read:
compatibility forms (full-width letters, ligatures), zero-width and soft-hyphen characters, letters borrowed from
other alphabets, digits standing in for letters, letters spaced apart, words hyphenated across a line break, and
percent-encoding. The result is for matching only; citations always point at the original text.
"""

from __future__ import annotations

import re
import unicodedata
import urllib.parse

# Cyrillic and Greek letters that look like Latin ones
_HOMOGLYPHS = str.maketrans({
    "а": "a", "в": "b", "е": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c", "т": "t", "у": "y",
    "х": "x", "і": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "ɡ": "g", "ӏ": "l", "ԛ": "q", "ԝ": "w",
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T", "Х": "X",
    "І": "I", "Ј": "J", "Ѕ": "S", "Ү": "Y",
    "α": "a", "β": "b", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O", "Ρ": "P",
    "Τ": "T", "Υ": "Y", "Χ": "X",
})
_LOOKALIKE_LETTERS = set("авекмнорстухіјѕԁɡӏԛԝАВЕКМНОРСТХІЈЅҮαβεικνορτυχΑΒΕΖΗΙΚΜΝΟΡΤΥΧ")
_LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
_LEET_IN_WORD = re.compile(r"(?<=[A-Za-z])[013457@$]+(?=[A-Za-z])|(?<=\b)[013457@$](?=[A-Za-z]{2,})")
_DOTTED_LETTERS = re.compile(r"\b(?:[A-Za-z][._-]){2,}[A-Za-z]\b")
_SPACED_LETTERS = re.compile(r"\b(?:[A-Za-z] ){2,}[A-Za-z]\b")
_HYPHEN_BREAK = re.compile(r"(?<=[a-z])-\s*\n\s*(?=[a-z])")
_PERCENT = re.compile(r"(?:%[0-9A-Fa-f]{2}){3,}")


def for_matching(text: str, *, fold_lookalikes: bool = True) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf" and ch != "\u00ad")  # zero-width, soft hyphen
    if fold_lookalikes:
        text = text.translate(_HOMOGLYPHS)
    text = _HYPHEN_BREAK.sub("", text)
    text = _PERCENT.sub(lambda m: urllib.parse.unquote(m.group(0)), text)
    text = _DOTTED_LETTERS.sub(lambda m: re.sub(r"[._-]", "", m.group(0)), text)  # "i.g.n.o.r.e"
    text = _SPACED_LETTERS.sub(lambda m: m.group(0).replace(" ", ""), text)  # "i g n o r e   a l l": words stay apart
    text = _LEET_IN_WORD.sub(lambda m: "".join(_LEET[c] for c in m.group(0)), text)
    return " ".join(text.split())


def mixes_alphabets(text: str) -> bool:
    """A word that mixes Latin letters with look-alikes from another alphabet ("аpprove" with a Cyrillic а): real
    prose never does this; disguised text does."""
    for word in re.findall(r"\w{3,}", text):
        if any(ch in _LOOKALIKE_LETTERS for ch in word) and any("a" <= ch.lower() <= "z" for ch in word):
            return True
    return False


_INVISIBLE_CATEGORIES = ("Cc", "Cf", "Co", "Cs")
TAG_CHARACTERS = re.compile("[\U000E0000-\U000E007F]+")  # invisible; each spells an ASCII character to a model
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
_ZERO_WIDTH = re.compile("[\u200b-\u200d\u2060\ufeff\u00ad]")


def tag_text(text: str) -> str:
    """What Unicode tag characters in `text` spell ("\U000E0069\U000E0067..." -> "ig..."): ASCII smuggled past a reader."""
    return "".join(chr(ord(c) - 0xE0000) for run in TAG_CHARACTERS.findall(text) for c in run
                   if 0x20 <= ord(c) - 0xE0000 < 0x7F)


def strip_invisible(text: str) -> str:
    """`text` without what a person cannot see but a model reads: tag characters, bidi controls, zero-width marks."""
    return _ZERO_WIDTH.sub("", BIDI_CONTROLS.sub("", TAG_CHARACTERS.sub("", text)))


def visible_name(name) -> str:
    """A file name as it can be shown on a terminal or a page: control characters (ESC starts a terminal escape
    sequence), bidi overrides (U+202E shows "exe.docx" as "xcod.exe") and other invisible characters written as escapes,
    so the name stays recognisable and cannot act on what shows it."""
    text = str(name)
    return "".join(c if unicodedata.category(c) not in _INVISIBLE_CATEGORIES else
                   (f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}") for c in text)
