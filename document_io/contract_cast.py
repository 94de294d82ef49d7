"""A contract's cast, read once: who the parties are (legal name as written, entity form, jurisdiction, the
defined terms the contract calls them by) and the definitions section as a table of defined terms.

EDGAR paper is the test bed: "by and between X, a Delaware corporation ("Company"), and Y ("Distributor")",
"among A, B and C", "BETWEEN: X (hereinafter "X") - and - Y", "hereinafter referred to as", letter agreements
("Ladies and Gentlemen: X, a Georgia corporation (the "Company"), proposes ..."), amendments naming the parties of
the original, exhibit covers and SEC redaction legends before the preamble, parties named only in the title
("AGREEMENT BY AND BETWEEN X, INC. AND Y CORPORATION") or in the signature block. A party is a legal person: never
a title, a recital, a date or a role word; when the text does not say, the cast is shorter, not invented.

Which party is which side of the deal (who pays, who supplies) is read from how the contract uses each party's
defined terms: `document_io/party_roles.py`.
"""

from __future__ import annotations

import re
from functools import lru_cache

from pydantic import BaseModel, Field

# --- names ------------------------------------------------------------------------------------------

# Entity forms, longest first so "Pty Ltd" wins over "Ltd". Written as they appear after a name.
_ENTITY_FORMS = [
    r"Pty\.?\s+Ltd\.?", r"Co\.,?\s+Ltd\.?", r"L\.\s?L\.\s?C\.?", r"L\.\s?L\.\s?P\.?", r"L\.\s?P\.?", r"S\.\s?A\.\s?S\.?",
    r"S\.\s?p\.\s?A\.?", r"S\.\s?[Aa]\.?(?:\s+de\s+C\.\s?V\.?)?", r"N\.\s?V\.?", r"B\.\s?V\.?", r"N\.\s?A\.?", r"S\.\s?r\.\s?l\.?",
    r"S\.\s?L\.?", r"A/S", r"K\.\s?K\.?", r"P\.\s?C\.?", r"P\.\s?A\.?",
    r"Incorporated", r"Corporation", r"Company", r"Limited", r"Inc\.?", r"Corp\.?", r"Co\.?", r"LLC", r"LLP", r"Ltd\.?",
    r"LP", r"PLC", r"plc", r"GmbH(?:\s+&\s+Co\.?\s+KG)?", r"AG", r"SAS", r"SA", r"SpA", r"NV", r"BV", r"AB", r"Oy", r"ApS",
    r"SE", r"KG", r"Pty", r"S/A", r"G\.\s?I\.\s?E\.?", r"Ltda\.?", r"S\.\s?R\.\s?L\.?", r"SRL", r"SARL", r"PLLC", r"LLLP",
    r"Pte\.?\s+Ltd\.?", r"Pte\.?", r"JSC", r"PJSC", r"OJSC", r"Sdn\.?\s+Bhd\.?", r"Bhd\.?", r"KGaA", r"ULC", r"e\.\s?V\.?",
    r"Trust", r"Bank", r"University", r"Institute", r"Foundation", r"Partnership", r"L\.?P\.?",
]
# the forms that make a capitalised phrase a company's name on their own ('… Bank', '… Trust' need a definition too)
_STRONG_FORMS = [f for f in _ENTITY_FORMS if f not in (r"Trust", r"Bank", r"University", r"Institute", r"Foundation",
                                                      r"Partnership", r"Company", r"Co\.?", r"NV", r"BV", r"AB", r"SE", r"KG")]
_ENTITY_FORM_AT_END = re.compile(r"(?:,?\s+)(?P<form>" + "|".join(_ENTITY_FORMS) + r")\s*$", re.IGNORECASE)
_ENTITY_FORM_WORD = re.compile(r"(?<![\w.])(?:" + "|".join(_ENTITY_FORMS) + r")(?![\w])", re.IGNORECASE)

# Words that are dropped when names are compared: legal forms, "the", "and"/"&", punctuation.
_NAME_NOISE = {"inc", "incorporated", "llc", "ltd", "limited", "plc", "gmbh", "ag", "sa", "sas", "bv", "nv", "corp",
               "corporation", "co", "company", "lp", "llp", "the", "srl", "spa", "oy", "ab", "as", "pty", "kk", "l", "c",
               "p", "s", "a", "v", "b", "n", "de", "cv", "kg", "se", "aps", "pc"}
_NAME_WORD = re.compile(r"[a-z0-9]+")
_DBA = re.compile(r"\s*,?\s*\b(?:d/b/a|d\.b\.a\.?|dba|doing\s+business\s+as|f/k/a|formerly\s+known\s+as|t/a|trading\s+as)\b\s*",
                  re.IGNORECASE)


def name_key(name: str | None) -> str:
    """A legal name compared loosely: case, punctuation, accents, "&"/"and", a leading "the" and legal forms
    ("Inc."/"Incorporated", "Ltd"/"Limited", "Corp."/"Corporation", "LLC", "Co.") dropped: 'Acme, Inc.' = 'ACME'.
    Legal-form words are dropped only at the end ('Company' in 'The Coca-Cola Company', not in 'Company Store')."""
    import unicodedata

    folded = "".join(ch for ch in unicodedata.normalize("NFKD", (name or "").lower()) if not unicodedata.combining(ch))
    words = _NAME_WORD.findall(folded.replace("&", " and "))
    words = [w for w in words if w != "and"]
    if words and words[0] == "the":
        words.pop(0)
    while len(words) > 1 and words[-1] in _NAME_NOISE:
        words.pop()
    return " ".join(words)


def name_variants(name: str) -> list[str]:
    """The keys a legal name answers to: the whole name, and each of its d/b/a / f/k/a parts."""
    parts = [name, *(_DBA.split(name) if _DBA.search(name) else [])]
    return list(dict.fromkeys(k for k in (name_key(p) for p in parts) if k))


# --- the model ----------------------------------------------------------------------------------------


class CastParty(BaseModel):
    name: str = Field(description="the legal name as the contract writes it")
    entity_form: str | None = Field(default=None, description="'Inc.', 'LLC', 'GmbH', 'corporation', …")
    jurisdiction: str | None = Field(default=None, description="where it is organised, when the preamble says")
    defined_terms: list[str] = Field(default_factory=list, description="what the contract calls it: 'Bluefly', 'Licensee'")
    start: int = Field(ge=0, description="where the name is in the document text")
    end: int = Field(ge=0)
    found_in: str = Field(description="preamble, title or signature block")

    @property
    def keys(self) -> list[str]:
        return name_variants(self.name)


class DefinedTerm(BaseModel):
    term: str
    meaning: str = Field(description="the definition's text (first 300 characters)")
    start: int = Field(ge=0)
    end: int = Field(ge=0)


class ContractCast(BaseModel):
    parties: list[CastParty] = Field(default_factory=list)
    definitions: list[DefinedTerm] = Field(default_factory=list)

    def definition(self, term: str) -> DefinedTerm | None:
        wanted = term.strip().lower()
        return next((d for d in self.definitions if d.term.lower() == wanted), None)


# --- where the preamble is ------------------------------------------------------------------------------

# a name starts with a capital or a digit, or is written in lower case on purpose: 'e.l.f. Beauty', 'iVillage', 'bw-3'
_NAME_START = r"(?:[A-Z0-9]|[a-z](?:\.[a-z]){1,3}\.|[a-z]{1,2}[A-Z]|[a-z]{1,3}-[A-Za-z0-9]|[a-z][\w-]*\.(?:com|net|org)\b)"
_OPEN_Q = "\"“”‘'?«"  # CUAD's text turns some curly quotes into "?"
_CLOSE_Q = "\"”“’'?»"
_QUOTED = re.compile(rf"[{_OPEN_Q}]\s*(?P<term>[A-Za-z0-9][^\"“”?()]{{0,60}}?)\s*,?\s*[{_CLOSE_Q}]")
_ANCHOR = re.compile(r"\b(?:by\s+and\s+between|by\s+and\s+among|between|among|B\s?E\s?T\s?W\s?E\s?E\s?N|A\s?M\s?O\s?N\s?G)\b\s*[:,]?\s*"
                     r"|\bPARTIES\s*:?\s*(?=\(1\)|1\.\s)"
                     r"|\b(?:(?:made|entered\s+into|executed|agreed)\b[^.;()]{0,80}?\bby)\s+(?=(?:the\s+)?[A-Z])"
                     r"|\bLadies\s+and\s+Gentlemen\s*:\s*|\bDear\s+(?:Sirs|Sir\s+or\s+Madam)\s*[:,]\s*", re.IGNORECASE)
# where the parties' clause stops: the recitals, the operative words, or the first numbered section
_PREAMBLE_END = re.compile(r"\b(?:W\s?H\s?E\s?R\s?E\s?A\s?S|RECITALS?|W\s?I\s?T\s?N\s?E\s?S\s?S\s?E\s?T\s?H|BACKGROUND|"
                           r"NOW,?\s+THEREFORE|In\s+consideration\s+of|The\s+parties\s+(?:hereto\s+)?(?:hereby\s+)?agree|"
                           r"(?:hereby\s+)?agree\s+as\s+follows|IN\s+WITNESS\s+WHEREOF|TABLE\s+OF\s+CONTENTS)\b|"
                           r"(?<=[.;:])\s+(?:ARTICLE\s+)?(?:1|I)\.\s+[A-Z]")

# defined terms that name something other than a party
_NOT_A_PARTY_TERM = re.compile(
    r"^(?:the\s+)?(?:agreement|amendment|addendum|contract|effective\s+date|execution\s+date|commencement\s+date|"
    r"(?:initial\s+)?term|part(?:y|ies)|date|closing|plan|products?|services?|territory|program(?:me)?|schedule|exhibit|"
    r"recitals?|property|premises|site|software|licensed\s+\w+|confidential\s+information|purchase\s+order|project|"
    r"work|deliverables?|shares|offering|act|commission|sec|registration\s+statement|prospectus|"
    r"original\s+agreement|existing\s+agreement|master\s+agreement|\w+\s+agreement|affiliates|group|you|we|us|our)$",
    re.IGNORECASE)
_NOT_A_NAME = re.compile(
    r"\b(?:agreement|agree|agrees|whereas|hereto|hereby|herein|hereinafter|dated|effective|entered|shall|will|may|made|"
    r"day\s+of|conditions?|pursuant|rule|exhibit|schedule|section|article|recitals?|witnesseth|page|"
    r"referred|collectively|individually|each|party|parties|between|among)\b|\d{1,2}/\d{1,2}/\d{2,4}|"
    r"\b(?:january|february|march|april|june|july|august|september|october|november|december)\s+\d",
    re.IGNORECASE)
# addresses, form labels, headings and people's titles, which a careless reading files as a party
_NOT_A_NAME_EITHER = re.compile(
    r"\b(?:street|avenue|road|drive|boulevard|blvd|suite|parkway|floor|building|p\.?\s?o\.?\s+box|lane|highway|"
    r"name\s+of|type\s+of|legal\s+entity|client\s+name|item\s+\d|regulation|event|matters|managing\s+director|"
    r"chief\s+\w+\s+officer|ceo|president|director\s+of|signature\s+(?:page|block|line)|title|address|telephone|fax|e-?mail|attention|"
    r"schedule\s+\w|page\s+\d|exhibit\s+\w|table\s+of|definitions?|in\s+addition|notwithstanding|provided\s+that|"
    r"confidential|redacted|omitted|date|signed|agreed\s+to|request\s+for|websites?|marketplace|plaza|c/o|register|"
    r"registration|number|cep|zip|postal|source|terms|ph\.?d)\b|^BY$|^\d+,|"
    r",\s*(?:AL|AK|AZ|AR|CA|CO|CT|DE|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|ND|OH|OK|OR|"
    r"PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY)\.?$",
    re.IGNORECASE)
_GENERIC_WORDS = {"delaware", "nevada", "california", "new", "york", "texas", "florida", "italian", "german", "french",
                  "british", "english", "chinese", "japanese", "canadian", "american", "us", "u", "s", "operating",
                  "manufacturing", "holding", "holdings", "parent", "subsidiary", "joint", "venture", "the", "a", "an",
                  "of", "and", "limited", "liability", "corporation", "company", "inc", "llc", "ltd", "fob", "client",
                  "name", "legal", "entity", "party", "parties", "above", "below", "named", "said", "such", "other",
                  "group", "deposit", "bank", "trust", "terms", "general", "services", "service", "by", "signed",
                  *("alabama alaska arizona arkansas colorado connecticut georgia hawaii idaho illinois indiana iowa kansas "
                    "kentucky louisiana maine maryland massachusetts michigan minnesota mississippi missouri montana "
                    "nebraska hampshire jersey mexico carolina dakota ohio oklahoma oregon pennsylvania rhode island "
                    "tennessee utah vermont virginia washington west wisconsin wyoming ontario quebec british columbia "
                    "england wales scotland ireland irish swiss dutch israeli indian australian korean taiwanese "
                    "singapore hong kong cayman islands bermuda").split()}
# a party's clause goes on after the name: its form, address, place of business, who it acts for
_DESCRIPTOR = re.compile(
    r",?\s+(?:a|an)\s+(?=[A-Za-z-]+)(?!(?:Mutual|Limited|Professional)\b)|"
    r",?\s+(?:with|having|whose|located|organi[sz]ed|incorporated|existing|duly|acting|on\s+behalf|its|which|who|"
    r"residing|resident|through|by\s+and\s+through|as\s+(?:successor|agent|administrator|trustee|general\s+partner)|"
    r"doing\s+business|operating\s+with|an\s+individual|individually|of\s+the\s+(?:one|other|first|second)\s+part|"
    r"hereinafter|herein|in\s+its\s+capacity|for\s+itself|together\s+with|acting|represented|registered|"
    r"not\s+in\s+its|c/o|care\s+of|(?:listed|named|identified|set\s+forth|described)\s+(?:on|in|below|above)|of\s+(?=[A-Z][a-z]+\s+\d)|of\s+(?=\d)|is|are|was|hereby)\b|"
    r"\s+\d{1,6}[A-Za-z]?\s+(?=\d|[A-Z][A-Za-z]+\s+(?i:street|st\.?|avenue|ave\.?|road|rd\.?|drive|dr\.?|boulevard|"
    r"blvd\.?|lane|way|parkway|plaza|place|court|circle|highway|square)\b)|"
    r",\s+(?=\d)|,\s+(?=[A-Z][a-zäöüß-]+\s+\d{1,5}[a-z]?,)|\s+\d{1,6}\s+(?:[A-Z][a-z]|[NSEW]\.?\s)|\s*\(|\s+[-–—]\s+|\s*[:;]",
)
_LEADING_JOINER = re.compile(r"^[\s,;:.\-–—]*(?:(?:and|AND|And|&|-\s*and\s*-|or)\b[\s,;:.\-–—]*)?(?:\(\w{1,3}\)\s*|\d\.\s+)?")
_JURISDICTION = re.compile(
    r"\b(?:a|an)\s+(?P<a>[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)\s+(?:(?:limited\s+liability\s+|public\s+limited\s+|stock\s+|"
    r"business\s+|general\s+|limited\s+|statutory\s+|nonprofit\s+|non-profit\s+)?(?:corporation|company|partnership|"
    r"trust|bank|association|limited\s+partnership|entity|société|gmbh))|"
    r"\b(?:organi[sz]ed|incorporated|existing|formed|registered)\b[^.;()]{0,40}?\b(?:laws?\s+of|in)\s+(?:the\s+)?"
    r"(?:(?:State|Province|Commonwealth|Republic|Kingdom)\s+of\s+)?(?P<b>[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)")


@lru_cache(maxsize=1)
def _role_words() -> re.Pattern:
    from document_io.party_roles import ROLE_WORDS

    return re.compile(r"^(?:the\s+)?(?:" + "|".join(map(re.escape, sorted(ROLE_WORDS, key=len, reverse=True))) + r")s?$",
                      re.IGNORECASE)


def is_role_word(text: str) -> bool:
    """'Company', 'the Licensee', 'Distributor': what a party is called, not who it is."""
    return bool(_role_words().match(text.strip()))


def looks_like_legal_name(name: str) -> bool:
    """A legal person's name as a preamble writes it: starts with a capital or a digit, a few words, no verb of the
    preamble, no date, no title or recital word, not a role word on its own."""
    name = name.strip()
    if not (2 <= len(name) <= 120) or not re.match(_NAME_START, name) or not re.search(r"[A-Za-z]{2}", name):
        return False
    if _NOT_A_NAME.search(name) or is_role_word(name) or _NOT_A_PARTY_TERM.match(name):
        return False
    if re.search(r"[a-z]{2}\.\s+[A-Z]|^\(?[a-z0-9]{1,3}[.)]\s|^\d+(?:\.\d+)+\.?\s|^[IVX]+\.\s|^\d{1,3}(?:,\d{3})+|"
                 r"^(?:This|These|That|Those|Such|Said|Any|All|Each|Every|Other)\b|\d{4,}.*\b(?:and|AND|And)\b", name):  # a sentence break or a list or section number
        return False
    if _NOT_A_NAME_EITHER.search(name):
        return False
    core = _ENTITY_FORM_AT_END.sub("", name)
    if not core.strip(" ,.") or _ENTITY_FORM_WORD.fullmatch(core.strip(" ,.")):
        return False  # 'AB', 'Co., Ltd.': a legal form with no name
    if all(is_role_word(w) or w.lower() in _GENERIC_WORDS for w in re.findall(r"[A-Za-z0-9]+", core)):
        return False  # 'FRANCHISEE MEMBER', 'Delaware Company', 'Operating Company': roles and descriptions, no name
    words = name.split()
    if len(words) > 12:
        return False
    # mostly capitalised words ("Bank of America, N.A.", "WPD Pharmaceuticals"): prose is not a name
    small = {"of", "and", "the", "de", "du", "la", "le", "des", "für", "y", "e", "&", "for", "in", "on", "a", "an", "di", "van", "von", "der"}
    capitalised = sum(1 for w in words if w[0].isupper() or w[0].isdigit() or not w[0].isalpha() or w.lower() in small
                      or re.match(_NAME_START, w) or _ENTITY_FORM_WORD.fullmatch(w.strip(",")))
    return capitalised >= len(words) - (1 if len(words) >= 4 else 0)


def _clean_name(raw: str) -> str | None:
    """The legal name at the start of a party's clause: cut where its description starts."""
    text = _LEADING_JOINER.sub("", " ".join(re.sub(r"[-_=]{3,}", " ", raw).split()))
    text = re.sub(r"^(?:the\s+(?=[A-Z])|[A-Z][A-Za-z]{2,20}(?:\s+[A-Z][A-Za-z]{2,20})?\s*:\s+(?=[A-Z]))", "", text)  # 'the City of …', 'The Covenanter: …'
    # an address that ran on into the next party: 'Ontario, Canada M2J 5B5, and 2205925 Ontario Limited'
    text = re.sub(r"^[^()]*\d[^()]*?,?\s+(?:and|AND|And)\s*,?\s+(?=[A-Z0-9])", "", text)
    if text.lower().startswith(("the undersigned", "each of")) or text.startswith(("you ", "You ")):
        return None
    # "SHBV (HONG KONG) LTD", "Rise (Tianjin) Education Information Consulting Co., Ltd.": a parenthesis inside the
    # name, followed by more of the name and its legal form
    keep = re.match(r"[^()]{2,80}\([A-Z][A-Za-z .]{1,30}\)[^(),;]{0,60}?,?\s*(?:" + "|".join(_ENTITY_FORMS) + r")(?![\w])\.?", text)
    if keep:
        return keep.group(0).strip()
    cut = _DESCRIPTOR.search(text)
    name = text[:cut.start()] if cut else text
    # a trailing legal form written after the cut's comma: "Bellicum Pharmaceuticals, Inc., a US corporation"
    name = re.sub(r"\s+(?:of|at|in|and|the|for)$", "", name.strip(" ,;:-–—\"“”'"), flags=re.IGNORECASE).strip(" ,")
    name = re.sub(r"\.{2,}$", ".", name)
    if not _ENTITY_FORM_AT_END.search(name):
        name = name.rstrip(".")
    return name or None


def _entity_form(name: str, clause: str) -> str | None:
    if found := _ENTITY_FORM_AT_END.search(name):
        return found.group("form")
    if found := re.search(r"\b(?:a|an)\s+(?:[A-Z][a-z]+\s+){0,3}(?P<form>limited\s+liability\s+company|corporation|"
                          r"limited\s+partnership|partnership|company|statutory\s+trust|trust|bank)\b", clause, re.IGNORECASE):
        return found.group("form").lower()
    if re.search(r",?\s+an\s+individual\b", clause, re.IGNORECASE):
        return "individual"
    return None


def _jurisdiction(clause: str) -> str | None:
    found = _JURISDICTION.search(clause)
    if not found:
        return None
    place = found.group("a") or found.group("b")
    return None if place.lower() in {"limited", "new", "corporation", "company", "stock", "business", "private", "public"} else place


# --- parsing the parties' clause ----------------------------------------------------------------------

_DEFINITION_OPEN = re.compile(
    r"\((?=[^()]{0,160}[" + _OPEN_Q + r"])\s*(?:[^\"“”()?]{0,120}?[\s,])??(?:(?:hereinafter|herein(?:after)?|hereafter)\s*,?\s*)?(?:(?:to\s+be\s+)?(?:referred\s+to|called|known|designated)\s+"
    r"(?:herein\s+|in\s+this\s+agreement\s+|hereinafter\s+)?(?:as\s+)?)?(?:as\s+)?(?:the\s+|a\s+|an\s+)?"
    r"(?=[" + _OPEN_Q + r"])", re.IGNORECASE)
_DEFINITION_BARE = re.compile(
    r",?\s*(?:(?:hereinafter|hereafter|herein)\s*,?\s*(?:(?:referred\s+to|called)\s+)?(?:as\s+)?|"
    r"(?:referred\s+to|called)\s+(?:herein\s+|hereinafter\s+|in\s+this\s+agreement\s+)?as\s+)(?:the\s+)?(?=[" + _OPEN_Q + r"])",
    re.IGNORECASE)
_GROUP_WORDS = re.compile(r"\b(?:together|collectively|each|both|jointly|individually|respectively|with\s+[A-Z])", re.IGNORECASE)


def _balanced_paren_end(text: str, start: int, limit: int = 400) -> int:
    depth = 0
    for index in range(start, min(len(text), start + limit)):
        if text[index] == "(":
            depth += 1
        elif text[index] == ")":
            depth -= 1
            if depth == 0:
                return index + 1
    return -1


def _markers(region: str) -> list[tuple[int, int, list[str]]]:
    """Each place the region defines a term for the text before it: (start, end, terms), in order."""
    found: list[tuple[int, int, list[str]]] = []
    position = 0
    while position < len(region):
        paren = _DEFINITION_OPEN.search(region, position)
        bare = _DEFINITION_BARE.search(region, position)
        candidates = [m for m in (paren, bare) if m]
        if not candidates:
            break
        match = min(candidates, key=lambda m: m.start())
        if match is paren:
            end = _balanced_paren_end(region, match.start())
            if end < 0:
                position = match.end()
                continue
            body = region[match.end():end - 1]
        else:
            quoted = _QUOTED.match(region, match.end())
            if not quoted:
                position = match.end()
                continue
            end, body = quoted.end(), quoted.group(0)
        terms = []
        for quoted in _QUOTED.finditer(body):
            if terms and _GROUP_WORDS.search(body[:quoted.start()]):
                break  # '("Zynga Ireland," and together with Zynga US …, "Zynga")': the group's term is not this party's
            term = quoted.group("term").strip(" ,.")
            if term:
                terms.append(term)
        if terms:
            found.append((match.start(), end, terms))
        position = end
    # '(MICOA)', '(Torvec)': an unquoted short name right after the name it abbreviates
    for short in [*_UNQUOTED_SHORT.finditer(region), *_BARE_UNQUOTED.finditer(region)]:
        if any(s <= short.start() < e for s, e, _ in found):
            continue
        before = region[max(0, short.start() - 300):short.start()]
        term = short.group("term")
        if len(term) < 2 or term.upper() in {"TM", "SM", "R", "C"}:
            continue  # '(R)', '(TM)': marks, not terms
        if _short_form_of(term, before) or is_role_word(term) or re.fullmatch(r"Party\s+[A-D]", term):
            found.append((short.start(), short.end(), [short.group("term")]))
    return sorted(found)


# '— hereinafter referred to as Cremer —': an unquoted definition outside parentheses
_BARE_UNQUOTED = re.compile(r"[—–-]?\s*(?:hereinafter|hereafter)\s*,?\s*(?:(?:referred\s+to|called)\s+)?(?:as\s+)?(?:the\s+)?"
                            r"(?P<term>[A-Z][\w&.-]{1,20}(?:\s+[A-Z][\w&.-]{1,20}){0,2})\s*[—–-]?(?=\s|[,.;)]|$)")
_UNQUOTED_SHORT = re.compile(r"\(\s*(?:(?:hereinafter|herein)\s+(?:(?:to\s+be\s+)?referred\s+to\s+|called\s+)?(?:as\s+)?)?(?:the\s+)?"
                             r"(?P<term>[A-Z][\w&.-]{0,20}(?:\s+[A-Z][\w&.-]{0,20}){0,2})\s*\)")


def _names_a_party(term: str, name: str) -> bool:
    """A term a party goes by: a role ('Licensee', 'Party A'), its name's short form ('Bluefly', 'NTC'), or any
    term of one or two words ('Power2Ship', 'MD Anderson'); 'Additional Capital Contributions' names a thing."""
    return (is_role_word(term) or bool(re.fullmatch(r"Party\s+[A-D]", term)) or _short_form_of(term, name)
            or len(term.split()) <= 2)


def _short_form_of(term: str, name: str) -> bool:
    """'(Torvec)' after 'Torvec Inc.', '(MMI)' after 'Modus Media International', '(hereinafter Sabco)' after
    'SABCO RACING, INC.': the term's first word is a word of the name, or the term is the initials of a run of its
    capitalised words."""
    words = re.findall(r"[A-Za-z0-9]+", name)
    if term.split()[0].lower() in (w.lower() for w in words):
        return True
    wanted = term.replace(".", "").replace(" ", "").upper()
    capitalised = [w for w in words if w[0].isupper() or w.lower() in {"of", "and", "the"}]
    for start in range(len(capitalised)):
        run = capitalised[start:]
        with_small = "".join(w[0] for w in run).upper()
        without = "".join(w[0] for w in run if w.lower() not in {"of", "and", "the"}).upper()
        if wanted in (with_small, without):
            return True
    return False


_ANCHOR_IN_OWNER = re.compile(r".*(?:\b(?:by\s+and\s+between|by\s+and\s+among|between|among|BETWEEN|AMONG)\b\s*[:,]?|"
                              r"\bPARTIES\b\s*:?|\(\d{1,2}\)\s+(?=[A-Z]))", re.S)
_JOINER = re.compile(r"(?:(?:^|(?<=[\s,;]))(?:and|AND|And|&|-\s*and\s*-|in\s+favou?r\s+of)|;)\s*[,:]?\s*(?=[A-Za-z0-9\"“(\[])")
_SHARED_TERM = re.compile(r"^\(\s*(?:each|both|together|collectively|jointly|individually)\b", re.IGNORECASE)
_OFFICER_OF = re.compile(r"^[A-Z][\w.' -]{2,40},\s+(?:the\s+)?(?:director|president|chief\s+executive\s+officer|ceo|managing\s+"
                         r"director|owner|general\s+partner|manager|officer|founder|principal)\s+of\s+", re.IGNORECASE)


def _owner_start(owner: str, after_party: bool) -> int:
    """Where the text defined by a marker begins: after the anchor it follows ('… by and between'), or after the
    joiner that ends the previous party's description ('… a Delaware corporation, and Allied Esports …')."""
    if anchor := _ANCHOR_IN_OWNER.match(owner):
        return anchor.end()
    describing = re.match(r"\s*[,;)]?\s*(?:(?:a|an|with|having|whose|located|organi[sz]ed|incorporated|as)\b|[a-z])", owner)
    if not (after_party or describing):
        return 0
    joiners = list(_JOINER.finditer(owner))
    # a joiner after a comma (or at the start) before one inside a description ("the laws of England and Wales")
    for joiner in joiners:
        if not owner[:joiner.start()].strip(" ,;") or owner[:joiner.start()].rstrip().endswith((",", ";", ")")):
            return joiner.end()
    return joiners[0].end() if joiners else 0


def _names_in_owner(owner: str, shared: bool) -> list[str]:
    """The legal name(s) a marker defines: one, or several when the term is shared ('X, … and Y, … (each and both of
    them "Recipient")')."""
    owner = owner.strip()
    if officer := _OFFICER_OF.match(owner):  # 'Natalija Tunevic, director of FreeCook'
        owner = owner[officer.end():]
    # a description before the name: 'professional golfer, TOM WATSON,'
    owner = re.sub(r"^[a-z][a-z ]{2,40},\s+(?=[A-Z])", "", owner)
    pieces = [owner]
    if shared:
        pieces = [p for p in re.split(r"(?:,\s*|\s+)(?:and|AND)\s+(?=[A-Z])", owner) if p.strip()]
    else:
        # 'X, a Michigan corporation (MICOA) and Stratton, Cheeseman & Walsh, Inc., a Nevada corporation ("Agency")':
        # when an earlier party's definition was missed, the term belongs to the last name, after its joiner
        joined = list(re.finditer(r"(?:\)|(?<=[a-z.]))\s*,?\s+(?:and|AND)\s+(?=[A-Z])", owner))
        if joined and _clean_name(owner[joined[-1].end():]) and looks_like_legal_name(_clean_name(owner[joined[-1].end():]) or ""):
            last = owner[joined[-1].end():]
            if _ENTITY_FORM_AT_END.search(_clean_name(last) or "") and _ENTITY_FORM_WORD.search(owner[:joined[-1].start()]):
                pieces = [last]
    names = []
    for piece in pieces:
        name = _clean_name(piece)
        if name and looks_like_legal_name(name):
            names.append(name)
    return names


def _parties_in_region(text: str, start: int, end: int, found_in: str) -> list[CastParty]:
    region = text[start:end]
    parties: list[CastParty] = []
    previous = 0
    for m_start, m_end, terms in _markers(region):
        owner = region[previous:m_start]
        owner_start = previous + _owner_start(owner, after_party=bool(parties))
        owner = region[owner_start:m_start]
        previous = m_end
        if all(_NOT_A_PARTY_TERM.match(t) for t in terms):
            continue
        terms = [t for t in terms if not _NOT_A_PARTY_TERM.match(t)]
        for name in _names_in_owner(owner, shared=bool(_SHARED_TERM.match(region[m_start:m_end]))):
            if not (_ENTITY_FORM_AT_END.search(name) or any(_names_a_party(t, name) for t in terms)):
                continue  # 'Withdrawal ("Additional Capital Contributions")': a defined thing, not a party
            _add(parties, _party(text, name, start + owner_start, start + m_start + 1, entity_form=_entity_form(name, owner),
                                 jurisdiction=_jurisdiction(owner), defined_terms=terms, found_in=found_in))
    # a last party without a definition: '… ("Tripath"), and Uniquest Corporation 780 Montague Expressway …'
    tail = region[previous:]
    if parties and (last := re.match(r"\s*[,;]?\s*(?:and|AND|-\s*and\s*-)\s*:?\s*(?P<rest>[A-Za-z].{2,200})", tail, re.S)):
        name = _clean_name(last.group("rest"))
        if name and looks_like_legal_name(name) and (_ENTITY_FORM_AT_END.search(name) or name.isupper()):
            _add(parties, _party(text, name, start + previous, end, entity_form=_entity_form(name, last.group("rest")),
                                 jurisdiction=_jurisdiction(last.group("rest")), found_in=found_in))
    return parties


def _locate(text: str, name: str, lo: int, hi: int | None = None) -> tuple[int, int]:
    """Where `name` (whitespace squeezed) is in text[lo:hi], as (start, end); (-1, -1) when it is not."""
    pattern = r"\s+".join(re.escape(word) for word in name.split())
    found = re.compile(pattern).search(text, max(0, lo), len(text) if hi is None else hi)
    return (found.start(), found.end()) if found else (-1, -1)


def _party(text: str, name: str, lo: int, hi: int | None, **fields) -> CastParty | None:
    name = name.strip(" ,;:")
    start, end = _locate(text, name, lo, hi)
    return CastParty(name=name, start=start, end=end, **fields) if start >= 0 else None


def _add(parties: list[CastParty], party: CastParty | None) -> None:
    """Add a party unless it is one already listed (the same name, or a d/b/a of it)."""
    if party is None:
        return
    keys = set(party.keys)
    for index, known in enumerate(parties):
        if keys & set(known.keys):
            merged = list(dict.fromkeys([*known.defined_terms, *party.defined_terms]))
            parties[index] = known.model_copy(update={"defined_terms": merged})
            return
    parties.append(party)


_NAME_WITH_FORM = re.compile(
    rf"(?P<name>(?:{_NAME_START}[\w&'’.-]*,?\s+)(?:(?:[A-Z0-9&][\w&'’.-]*|\([A-Z][A-Za-z .]{{1,30}}\)|of|and|for|the|de),?\s+){{0,6}}?(?:"
    + "|".join(_STRONG_FORMS) + r"))(?![\w])")


def _parties_by_form(text: str, start: int, end: int, found_in: str) -> list[CastParty]:
    """Names that carry a legal form, in order: 'between Signature Orthopaedics Pty Ltd and CPM Medical Consultants, LLC'."""
    parties: list[CastParty] = []
    for found in _NAME_WITH_FORM.finditer(text, start, end):
        if re.search(r"\bthe\s*$", text[max(0, found.start() - 5):found.start()], re.IGNORECASE):
            continue  # 'the Manufacturing Company': a defined term in use, not a name
        # the match may have started too early ('… Chiriva Internati, PhD AND MOLIPHARMA S.R.L.'): try later starts
        matched = found.group("name")
        for word in re.finditer(r"(?:^|(?<=\s))\S", matched):
            name = _clean_name(matched[word.start():])
            if name and looks_like_legal_name(name):
                _add(parties, _party(text, name, found.start(), end, entity_form=_entity_form(name, ""), found_in=found_in))
                break
    return parties


# 'Party A: Beijing Baidu Netcom Science and Technology Co., Ltd.' / 'Licensor: PACIFICAP ENTERTAINMENT'
_LABELLED_PARTY = re.compile(
    r"(?:^|\n|\s)(?P<label>Party\s+[A-D]|Licensor|Licensee|Supplier|Customer|Client|Buyer|Seller|Purchaser|Vendor|"
    r"Distributor|Reseller|Consultant|Contractor|Provider|Manufacturer|Franchisor|Franchisee|Company|SENDER|SHIPPER)"
    r"(?:\s+(?:Full\s+)?(?:Legal\s+)?Name)?(?:\s*\((?P<role>[A-Za-z ]{2,20})\))?\s*[:：]\s*(?P<name>[^\n:：]{2,120}?)(?=\s*(?:\n|$|Address|Legal\s+[Rr]epresentative|Registered|Contact|Tel|TAX|"
    r"Licensee|Licensor|Party\s+[A-D]|Domicile|Authorized|Add:|Post))")


def _labelled_parties(text: str, window: int) -> list[CastParty]:
    parties: list[CastParty] = []
    for match in _LABELLED_PARTY.finditer(text, 0, min(window, 6000)):
        name = _clean_name(match.group("name"))
        if name and looks_like_legal_name(name):
            _add(parties, _party(text, name, match.start("name"), match.end("name") + 1,
                                 entity_form=_entity_form(name, ""), found_in="preamble",
                                 # 'Party A (Shipper): ZTO Express Co., Ltd.': the role in brackets is its term too
                                 defined_terms=[" ".join(t.split()) for t in (match.group("label"), match.group("role")) if t]))
    return parties


def _preamble_regions(text: str, window: int) -> list[tuple[int, int]]:
    """Candidate parties' clauses, in order: from each anchor ('by and between', 'among', 'Ladies and Gentlemen:') up
    to the next anchor or where the recitals or the operative part begin; and each paragraph near the top that defines
    a term in parentheses ('Aduro Biotech, Inc., with a place of business at … ("Aduro") and IREYA B.V … agree')."""
    regions = []
    anchors = list(_ANCHOR.finditer(text, 0, window))
    for number, anchor in enumerate(anchors):
        stop = _PREAMBLE_END.search(text, anchor.end(), anchor.end() + 2500)
        end = stop.start() if stop else min(len(text), anchor.end() + 1500)
        if number + 1 < len(anchors):
            end = min(end, anchors[number + 1].start())
        if end - anchor.end() > 8:
            regions.append((anchor.end(), end))
    for paragraph in re.finditer(r"[^\n]+", text[:min(window, 12_000)]):
        if not re.search(r"\b(?:agree\w*|part(?:y|ies)|made|entered|between|among|dated|effective|on\s+the\s+(?:one|other))\b",
                         paragraph.group(0), re.IGNORECASE):
            continue
        if _DEFINITION_OPEN.search(paragraph.group(0)) or _DEFINITION_BARE.search(paragraph.group(0)):
            stop = _PREAMBLE_END.search(text, paragraph.start(), paragraph.end())
            end = stop.start() if stop and stop.start() > paragraph.start() + 20 else paragraph.end()
            regions.append((paragraph.start(), end))
    return sorted(set(regions))


_SIGNATURE_BLOCK = re.compile(r"IN\s+WITNESS\s+WHEREOF|(?:AGREED|ACCEPTED)\s+(?:AND\s+(?:AGREED|ACCEPTED)\s+)?(?:TO\s+)?(?:BY|:)",
                              re.IGNORECASE)


def _signature_parties(text: str) -> list[CastParty]:
    """Names signed for at the end ('ACME INC.\nBy: ___', 'ABP TRUST /s/ Adam D. Portnoy'): the parties when the
    preamble names none (joint filing agreements, forms). Only names with a legal form, or in capitals."""
    blocks = [m.start() for m in _SIGNATURE_BLOCK.finditer(text)]
    start = blocks[-1] if blocks else max(0, len(text) - 4000)
    block = text[start:start + 4000]
    parties: list[CastParty] = []
    # a name on its own line above 'By:', or a name in capitals run into the page ('… 2020. ATHENE ANNUITY AND LIFE
    # COMPANY By: …'); never the 'By: X, its general partner' that signs for it
    signer = re.compile(r"(?:(?:^|\n|\)\s|:\s)\s*(?P<name>[A-Z][A-Za-z0-9&.,'’ -]{2,90}?)|(?<![A-Za-z,])\s(?P<caps>[A-Z][A-Z0-9&.,'’ -]{2,90}?))"
                        r"\s*[,:]?\s*(?=\n?\s*(?:By|BY)\s*[:_.]|\s*/s/)")
    for line in signer.finditer(block):
        if re.search(r"\bBy\s*:\s*$", block[max(0, line.start() - 6):line.start() + 1]):
            continue
        raw, role = _signing_label(line.group("name") or line.group("caps"), block[max(0, line.start() - 60):line.start() + 1])
        name = _clean_name(raw)
        if not name or not looks_like_legal_name(name):
            continue
        if not (_ENTITY_FORM_AT_END.search(name) or (name.isupper() and len(name.split()) <= 6)):
            continue
        if re.search(r"\b(?:APPROVED|ACCEPTED|AGREED|WITNESS|SIGNATURE|NAME|TITLE|DATE|FOR|ON\s+BEHALF)\b", name, re.IGNORECASE):
            continue
        _add(parties, _party(text, name, start, None, entity_form=_entity_form(name, ""), found_in="signature block",
                             defined_terms=[role] if role else []))
    return parties


# 'Acceptance by Developer SEATTLE SOFTWARE DEVELOPERS, Inc.', 'Accepted by Client: PELICAN DELIVERS INC.': the label is
# not part of the name, and the role it names (Developer, Client) is how the contract calls that party
_SIGNING_LABEL = re.compile(r"(?:Acceptance|Accepted|Agreed(?:\s+(?:and|&)\s+accepted)?|Signed|Executed|Approved)\s+(?:by|for)\s+"
                            r"(?:the\s+)?(?:(?P<role>(?-i:[A-Z][a-z]{2,20}))\b\s*:?\s*)?", re.IGNORECASE)


def _signing_label(raw: str, before: str) -> tuple[str, str | None]:
    """The name without a signing label in front of it, and the role the label names, if any."""
    name = raw.strip()
    if (label := _SIGNING_LABEL.match(name)) and label.end() < len(name):
        return name[label.end():], label.group("role")
    if label := re.search(_SIGNING_LABEL.pattern + r"$", before.rstrip(), re.IGNORECASE):
        return raw, label.group("role")
    return raw, None


_TITLE_BETWEEN = re.compile(r"\bBY\s+AND\s+(?:BETWEEN|AMONG)\s+(?P<names>[A-Z0-9][A-Z0-9 ,.&'’/()-]{4,300}?)"
                            r"(?=\s+(?:[A-Z][a-z]|\d{1,2}[,/ ]|Dated|DATED|Source|SOURCE|Execution|EXECUTION|TABLE|Exhibit|$))")


def _title_parties(text: str, window: int) -> list[CastParty]:
    """'COLLABORATION AGREEMENT BY AND BETWEEN ASTELLAS PHARMA INC. AND FIBROGEN, INC.' on a cover page."""
    for match in _TITLE_BETWEEN.finditer(text, 0, window):
        parties = _parties_by_form(text, match.start("names"), match.end("names"), "title")
        if len(parties) >= 2:
            return parties
    return []


# --- definitions ------------------------------------------------------------------------------------

_DEFINITION = re.compile(r"(?:^|\n|[.;:]\s+|\d\s+|\([a-z0-9]{1,4}\)\s+)[" + _OPEN_Q + r"](?P<term>[A-Z][^\"“”?\n]{0,60}?)[" + _CLOSE_Q
                         + r"]\s*(?:\([^)]{0,80}\)\s*)?(?:shall\s+)?(?:means?|has\s+the\s+meaning|shall\s+have\s+the\s+meaning|"
                         r"refers?\s+to|includes?|is\s+defined)\b")


def _definitions(text: str) -> list[DefinedTerm]:
    found: dict[str, DefinedTerm] = {}
    for match in _DEFINITION.finditer(text):
        term = match.group("term").strip(" ,.")
        key = term.lower()
        if key in found or len(term) < 2:
            continue
        sentence_end = re.search(r"(?<!\b[A-Z])\.(?=\s+[\"“(A-Z0-9])|\n", text[match.end():match.end() + 1500])
        meaning_end = match.end() + (sentence_end.start() if sentence_end else min(1500, len(text) - match.end()))
        found[key] = DefinedTerm(term=term, meaning=" ".join(text[match.end():meaning_end].split())[:300],
                                 start=match.start("term"), end=meaning_end)
    return list(found.values())


# --- the cast -------------------------------------------------------------------------------------------

PREAMBLE_WINDOW = 30_000  # covers a table of contents and a redaction legend before the preamble


def read_cast(text: str) -> ContractCast:
    """The parties and defined terms of a contract's text: the first parties' clause that names two parties, each
    with the term the contract calls it by; else the first that names two; else the one that names most, completed
    from the title and the signature block."""
    window = min(len(text), PREAMBLE_WINDOW)
    chosen: list[CastParty] = []
    fallback: list[CastParty] = []
    anchored = {m.end() for m in _ANCHOR.finditer(text, 0, window)}
    for start, end in _preamble_regions(text, window):
        parties = _parties_in_region(text, start, end, "preamble")
        if len(parties) < 2 and start in anchored:
            for party in _parties_by_form(text, start, min(end, start + 800), "preamble"):
                _add(parties, party)
        if len(parties) >= 2 and sum(bool(p.defined_terms) for p in parties) >= 2:
            chosen = parties
            break
        if (len(fallback) < 2 and len(parties) > len(fallback)) or (len(parties) >= 2 and not fallback):
            fallback = parties
    best = chosen
    if not best and fallback:
        # a cover page ('Between: ACME INC. And BETA LLC') names the parties the preamble then defines terms for
        for start, end in _preamble_regions(text, window):
            for later in _parties_in_region(text, start, end, "preamble"):
                for party in fallback:
                    if name_key(later.name) == name_key(party.name):
                        party.defined_terms = list(dict.fromkeys([*party.defined_terms, *later.defined_terms]))
    if not best:
        labelled = _labelled_parties(text, window)  # 'Party A: …' / 'Licensor: …' before names guessed by their form
        best = labelled if len(labelled) >= 2 else fallback
    if len(best) < 2:
        for party in _title_parties(text, window) + _signature_parties(text):
            if len(best) >= 2 and party.found_in == "signature block":
                break
            _add(best, party)
    return ContractCast(parties=best, definitions=_definitions(text))
