"""Clause frames: for a sentence of a contract, who is bound, who benefits, and how.

- **bound**: the party that is the subject of shall / must / will / may / agrees to ("Supplier shall indemnify";
  "In no event shall Licensor be liable"; "Licensee's liability shall not exceed": the owner of the liability),
  or the agent of a passive ("... shall not be assigned by Consultant");
- **beneficiary**: the party the duty, right or limit is directed to: the verb's object ("pay Licensor",
  "indemnify Customer") or its to / for / against / with / in favour of phrase ("liable to Customer");
- **modality**: obligation (shall, must, agrees to), right (may, is entitled to, has the right, need not), prohibition
  (shall not, may not), exclusion (shall not be liable, has no obligation, disclaims, waives, AS IS), limitation
  (liability shall not exceed, limited to), grant (hereby grants, assigns, transfers), or none - also when no party
  is bound ("This Agreement shall be governed by ...": a statement, not a party's duty) and for definitions;
- **condition**: the if / unless / upon / in the event / provided that clause, as written.

"Each party", "either party", "neither party", "the parties", "X and Y" (both parties) and roles either may hold ("the
non-defaulting party", "the Disclosing Party") are mutual; "the other party" and "each other" are the party that is
not bound (mutual when the bound is). "X agrees that Y shall ..." is read as Y's clause (the agreed one), with "it"
standing for X. The clause read is the main one: not a condition, a relative clause or a parenthesis.

The reading is on the surface of the sentence - legal drafting puts the subject right before its modal - and the
contract's cast; no parser is loaded, so frames cost microseconds and can be read for every sentence a rule needs.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, Field

from document_io.contract_cast import CastParty, name_key
from document_io.party_roles import party_aliases

Modality = Literal["obligation", "right", "prohibition", "exclusion", "limitation", "grant", "none"]
MUTUAL = "mutual"


class ClauseFrame(BaseModel):
    start: int = Field(ge=0, description="the sentence's span in the document text")
    end: int = Field(ge=0)
    bound: str | None = Field(default=None, description="a party's name as the cast gives it, 'mutual', or None")
    beneficiary: str | None = Field(default=None, description="the same, for whom the clause is directed to or protects")
    modality: Modality = "none"
    condition: str | None = None
    predicate: str | None = Field(default=None, description="the modal and verb read, as written ('shall not exceed')")

    @property
    def is_mutual(self) -> bool:
        return self.bound == MUTUAL


# --- the words of a frame ---------------------------------------------------------------------------------------

_ADVERBS = (r"(?:(?:hereby|also|further|furthermore|promptly|immediately|thereafter|then|at\s+all\s+times|at\s+any\s+time|"
            r"at\s+its\s+(?:sole\s+)?(?:option|discretion|expense|cost|election)|in\s+its\s+(?:sole\s+)?discretion|"
            r"in\s+good\s+faith|from\s+time\s+to\s+time|severally|jointly|irrevocably|expressly|solely|only|each|"
            r"\w+ly)[\s,]+)*")
_MODAL = (r"(?P<modal>shall|will|must|may|can|cannot|should|might|could|do(?:es)?(?=\s+not\b)|agrees?|undertakes?|covenants?|acknowledges?|"
          r"represents?|warrants?|certif(?:y|ies)|understands?|confirms?|accepts?|grants?|assigns?|transfers?|conveys?|"
          r"licen[cs]es?|disclaims?|waives?|releases?|retains?|reserves?|has|have|is|are|incurs?|bears?|assumes?|"
          r"hereby)")
_NEG = r"(?P<neg>\s+(?:not|never|in\s+no\s+event|under\s+no\s+circumstances?|at\s+no\s+time)\b)?"
_AFTER_MODAL = re.compile(r"\b" + _MODAL + r"\b" + _NEG, re.IGNORECASE)
_CONDITION_OPEN = re.compile(r"\b(?:if|unless|in\s+the\s+event(?:\s+(?:of|that))?|upon|where|whereby|when|whenever|whether|"
                             r"provided(?:\s*,?\s*however)?(?:\s+that)?|until|once|so\s+long\s+as|to\s+the\s+extent|in\s+case|"
                             r"which|that|who|whom|whose|pursuant\s+to\s+which|as\s+(?:may\s+be|set\s+forth|described|provided))\b",
                             re.IGNORECASE)
_FRAMING = re.compile(r"\b(?:agrees?|acknowledges?|understands?|confirms?|accepts?|recogni[sz]es?|covenants?|represents?|"
                      r"warrants?|certif(?:y|ies)|stipulates?)(?:\s*(?:,|and|\s)\s*(?:agrees?|acknowledges?|understands?|"
                      r"confirms?|accepts?|recogni[sz]es?|covenants?|represents?|warrants?|certif(?:y|ies)))*"
                      r"(?:\s+(?:to|with)\s+[^,]{1,40}?)?\s+(?:that|as\s+follows)\b", re.IGNORECASE)
_DEFINITION = re.compile(r"^\W*(?:\d+(?:\.\d+)*\.?\s*)?[\"“][^\"”]{1,80}[\"”]\s+(?:shall\s+)?(?:means?|includes?|has\s+the\s+meaning|"
                         r"shall\s+have\s+the\s+meaning|refers?\s+to)\b|\b(?:shall|will)\s+(?:sometimes\s+)?be\s+referred\s+to\b|"
                         r"\bare\s+referred\s+to\s+(?:herein|collectively)|\bshall\s+mean\b", re.IGNORECASE)
_LIABILITY = r"(?:liable|liability|liabilities|responsible|responsibility)"
_RIGHT_WORDS = r"(?:right|option|discretion|authority|entitlement)"
_MUTUAL_PHRASE = (r"(?:(?:each|either|neither|both|any|one|a)\s+(?:of\s+the\s+)?part(?:y|ies)(?:\s+hereto)?|(?:the\s+)?parties(?:\s+hereto)?|"
                  r"(?:the|such|a|any)\s+(?:non-?)?(?:defaulting|breaching|disclosing|receiving|indemnifying|indemnified|"
                  r"terminating|requesting|notifying|affected|claiming|prevailing|performing|other)\s+part(?:y|ies)|"
                  r"such\s+part(?:y|ies)|the\s+other|each\s+other|one\s+another)")


def _key(phrase: str) -> str:
    """name_key, except for labels like "Party A" / "Party B", whose letter name_key would drop as a legal form."""
    label = re.fullmatch(r"(?:the\s+)?(part(?:y|ies)\s+\w{1,2})", phrase.strip(), re.IGNORECASE)
    return label.group(1).lower() if label else name_key(phrase)


class PartyResolver:
    """Which cast party a noun phrase names: a defined term, the legal name or its short form, or 'mutual'."""

    def __init__(self, parties: list[CastParty]):
        self.parties = parties
        keyed: list[tuple[str, int]] = []
        for index, party in enumerate(parties):
            for alias in party_aliases(party):
                if key := _key(alias):
                    keyed.append((key, index))
        counts: dict[str, set[int]] = {}
        for key, index in keyed:
            counts.setdefault(key, set()).add(index)
        self._keys = sorted(((k, i) for k, i in keyed if len(counts[k]) == 1), key=lambda pair: -len(pair[0]))
        aliases = sorted({a for p in parties for a in party_aliases(p)}, key=len, reverse=True)
        self.alias_pattern = re.compile(r"(?<![\w-])(?:[Tt]he\s+)?(?:" + "|".join(re.escape(a) for a in aliases) + r")(?![\w-])"
                                        if aliases else r"(?!x)x")

    def resolve(self, phrase: str, bound: str | None = None, possessive: bool = False) -> str | None:
        text = " ".join(phrase.split()).strip(" ,;:().")
        if re.fullmatch(r"the\s+other(?:\s+part(?:y|ies))?|other\s+part(?:y|ies)|each\s+other|one\s+another|such\s+other\s+party|"
                        r"(?:the\s+|such\s+)?(?:non-?)?(?:defaulting|breaching|disclosing|receiving|indemnifying|indemnified)\s+party",
                        text, re.IGNORECASE):
            if bound in (MUTUAL, None):
                return MUTUAL
            others = [p.name for p in self.parties if p.name != bound]
            return others[0] if len(others) == 1 else None
        if re.fullmatch(_MUTUAL_PHRASE, text, re.IGNORECASE):
            return MUTUAL
        text = re.sub(r"^(?:such|said|the\s+said|the\s+relevant|the\s+applicable)\s+", "", text, flags=re.IGNORECASE)
        key = _key(re.sub(r"['’]s?$", "", text))
        for alias, index in self._keys:
            # the name itself, its possessive where that is meant ("the Licensor's right"), or "X and its Affiliates"
            if key == alias or possessive and key.startswith(alias + " s ") or re.match(re.escape(alias) + r" (?:and|or) (?:its|their) ", key):
                return self.parties[index].name
        # "either you or Nationwide": one of two sides, whichever it is
        either = re.fullmatch(r"(?:either|neither)\s+(?P<a>.+?)\s+(?:or|nor)\s+(?P<b>.+)", text, re.IGNORECASE)
        if either and not re.match(r"(?:its|their|his|her)\b", either.group("b"), re.IGNORECASE) and (
                self.resolve(either.group("a")) or self.resolve(either.group("b"))):
            return MUTUAL
        # "Vendor and Distributor", "CPDC or FUSION": both parties
        parts = [p for p in re.split(r"\s*(?:,|\band\b|\bor\b|\bnor\b|\s&\s)\s*", re.sub(r"^(?:either|neither|both)\s+", "", text,
                                                                                    flags=re.IGNORECASE)) if p]
        if len(parts) >= 2:
            found = {self.resolve(p) for p in parts}
            if len(found - {None}) >= 2:
                return MUTUAL
        return None


# --- finding the clause -----------------------------------------------------------------------------------------------


def frame_sentences(text: str, spans: list[tuple[int, int]], parties: list[CastParty]) -> list[ClauseFrame]:
    resolver = PartyResolver(parties)
    return [_frame(text[s:e], s, e, resolver) for s, e in spans]


def frame_of(sentence: str, parties: list[CastParty], offset: int = 0) -> ClauseFrame:
    return _frame(sentence, offset, offset + len(sentence), PartyResolver(parties))


class _Clause(BaseModel):
    subject: str
    bound: str | None
    modal_start: int
    modal_end: int
    modal: str
    negated: bool


def _frame(sentence: str, start: int, end: int, resolver: PartyResolver) -> ClauseFrame:
    text = " ".join(sentence.split())
    empty = ClauseFrame(start=start, end=end)
    if _DEFINITION.search(text[:200]):
        return empty
    clauses = _clauses(text, resolver)
    if not clauses:
        if re.search(r"\bas[\s-]+is\b|\bwith\s+all\s+faults\b", text, re.IGNORECASE):
            return empty.model_copy(update={"modality": "exclusion"})  # "The Services are provided AS IS"
        return empty
    main = [c for c in clauses if not _subordinate(text, c.modal_start)]
    if not main and all(_reported(text, c.modal_start) for c in clauses):
        return empty  # "such agreement provides that A and B shall ...": another document's terms, reported
    chosen = next((c for c in main if c.bound), None) or (main[0] if main else next((c for c in clauses if c.bound), clauses[0]))
    # "X agrees that Y shall ...": Y's clause, with "it" / "she" standing for X
    framing = _FRAMING.match(text, chosen.modal_start)
    if framing:
        inner = next((c for c in clauses if c.modal_start >= framing.end() and not _FRAMING.match(text, c.modal_start)), None)
        if inner is not None and re.search(r"[,;(]\s*(?:provided|except|unless|if|which|whereas|save)\b",
                                           text[framing.end():inner.modal_start], re.IGNORECASE):
            inner = None  # the agreed clause has no modal of its own; the next one is in its proviso
        if inner is not None:
            # the agreed clause's subject runs from "that" to its modal ("neither MSCI nor its subsidiaries (...) shall")
            whole = text[framing.end():inner.modal_start]
            bound = (inner.bound or _subject_party(whole, resolver) or _leading_party(whole, resolver)
                     if re.match(r"\s*(?:neither|no|either|each|both)\b", whole, re.I) or inner.bound else None)
            if bound is None and re.fullmatch(r"it|he|she|they|such party", inner.subject, re.I):
                bound = chosen.bound
            if bound is not None:
                chosen = inner.model_copy(update={"bound": bound, "negated": inner.negated or _negated_subject(whole.strip())})
    if chosen.bound is None and re.fullmatch(r"it|he|she|they", chosen.subject, re.IGNORECASE):
        chosen = chosen.model_copy(update={"bound": _antecedent(text[:chosen.modal_start], chosen.subject, resolver)})
    predicate_text = _predicate_words(text, chosen)
    modality = _modality(text, chosen, predicate_text)
    bound, beneficiary = chosen.bound, None
    agent = re.match(r"\S+\s+(?:not\s+)?(?:\w+\s+)?be\s+(?:\w+\s+){0,3}?[\w-]+\s+(?:\w+\s+){0,3}?by\s+"
                     r"(?P<agent>(?:the\s+)?[\w.&'’-]+(?:\s+(?!(?:to|with|for|in|on|at|within|under|pursuant|and|or|as|from|upon)\b)"
                     r"[\w.&'’-]+){0,3})", predicate_text, re.IGNORECASE)
    by = None
    if agent:
        words = agent.group("agent").split()
        by = next((found for size in range(len(words), 0, -1) if (found := resolver.resolve(" ".join(words[:size])))), None)
    if by:
        bound, beneficiary = by, bound  # "Customer shall be indemnified by Supplier", "shall not be assigned by Consultant"
        predicate_text = predicate_text[:agent.start("agent") - 3] + predicate_text[agent.end("agent"):]
    elif bound not in (None, MUTUAL) and _BENEFIT_PASSIVE.match(predicate_text):
        # "Distributor shall be treated no less favorably than any other distributor", "Consultant shall be reimbursed":
        # the subject receives; the duty is the other party's (when there is exactly one)
        others = [p.name for p in resolver.parties if p.name != bound]
        bound, beneficiary = (others[0] if len(others) == 1 else None), bound
    if bound is None and modality == "limitation":
        # "DGT's total liability, whether ... , shall be limited to": the owner named at the start of a long subject
        owner = re.search(r"(?P<owner>(?:each|either|neither)\s+party|[\w.&'’-]+(?:\s+[\w.&'’-]+){0,3}?)['’]s?\s+(?:total\s+|aggregate\s+|"
                          r"entire\s+|maximum\s+|cumulative\s+)*(?:" + _LIABILITY + r")\b", text[:chosen.modal_start], re.IGNORECASE)
        if owner:
            bound = resolver.resolve(owner.group("owner")) or _leading_party(owner.group("owner"), resolver)
    if bound is None and modality not in ("exclusion", "limitation"):
        return empty.model_copy(update={"condition": _condition(text)})
    if bound is None and modality == "exclusion" and not re.search(rf"{_LIABILITY}|warrant|\bas[\s-]+is\b", text, re.I):
        return empty.model_copy(update={"condition": _condition(text)})  # "the term 'Affiliate' shall exclude ...": a definition
    if beneficiary is None:
        beneficiary = _beneficiary(predicate_text, bound, resolver)
    return ClauseFrame(start=start, end=end, bound=bound, beneficiary=beneficiary, modality=modality,
                       condition=_condition(text), predicate=text[chosen.modal_start:chosen.modal_start + 60].split(",")[0])


_BENEFIT_PASSIVE = re.compile(r"\S+\s+(?:\w+ly\s+)?be\s+(?:\w+ly\s+)?(?:treated|paid|reimbursed|compensated|offered|given|granted|"
                              r"notified|indemnified|informed|consulted|credited|refunded)\b(?![^.;]{0,40}\bby\b)", re.IGNORECASE)


def _is_modal(word: str) -> bool:
    return word.lower() in ("shall", "will", "must", "may", "can", "cannot", "should", "might", "could")


def _clauses(text: str, resolver: PartyResolver) -> list[_Clause]:
    """Every subject + modal in the sentence: 'Supplier shall', 'Each Party hereby represents', 'Licensee's liability
    shall', 'The Company, at its option, may'."""
    found = []
    for match in _INVERTED.finditer(text):
        subject = match.group("subject")
        found.append(_Clause(subject=subject, bound=_subject_party(subject, resolver), modal_start=match.start("modal"),
                             modal_end=match.end("subject"), modal=match.group("modal").lower(), negated=True))
    for match in _AFTER_MODAL.finditer(text):
        if any(c.modal_start <= match.start() < c.modal_end for c in found):
            continue
        word = match.group("modal").lower()
        if word in ("has", "have", "is", "are") and not re.match(
                rf"\s*(?:\w+\s+)?(?:no\s+|not\s+|any\s+)?(?:obligation|{_LIABILITY}|{_RIGHT_WORDS}|entitled|obligated|obliged|required|"
                r"authori[sz]ed|permitted|free\s+to|prohibited|bound|payable|due)", text[match.end():match.end() + 40], re.IGNORECASE):
            continue
        if word == "hereby" and not re.match(r"\s+(?:\w+\s+){0,2}?(?:grants?|assigns?|transfers?|conveys?|licen[cs]es?|"
                                             r"agrees?|waives?|releases?|disclaims?|acknowledges?|represents?|covenants?|"
                                             r"certif|appoints?|consents?)", text[match.end():match.end() + 40], re.I):
            continue
        if word in ("assigns", "assign", "transfers", "transfer", "licenses", "license", "licences", "licence", "releases",
                    "release", "grants", "grant", "bears", "bear", "assumes", "assume", "incurs", "incur") and re.search(
                r"\b(?:shall|will|may|must|to|not|the|its|any|all|such|and|or|hereby)\s*$", text[max(0, match.start() - 12):match.start()], re.I):
            continue  # "shall assign" is read at "shall"; "any license", "the grant" are nouns
        subject, subject_start = _subject_before(text, match.start())
        if subject is None:
            continue
        bound = _subject_party(subject, resolver)
        if bound is None and word in ("assigns", "assign", "transfers", "transfer", "licenses", "license", "licences", "licence",
                                      "grants", "grant", "conveys", "convey", "bears", "bear", "assumes", "assume", "incurs",
                                      "incur", "releases", "release", "waives", "waive", "retains", "retain", "reserves",
                                      "reserve") and not re.fullmatch(r"it|he|she|they", subject, re.I):
            continue  # "other transfer or license by either Party": nouns, not a party's act
        negated = bool(match.group("neg")) or _negated_subject(subject) or bool(re.search(
            r"\b(?:in\s+no\s+event|under\s+no\s+circumstances?|at\s+no\s+time|nothing\s+(?:in|contained))\b[^.;]{0,60}$",
            text[max(0, subject_start - 80):match.start()], re.IGNORECASE))
        found.append(_Clause(subject=subject, bound=bound, modal_start=match.start(), modal_end=match.end(), modal=word,
                             negated=negated))
    return sorted(found, key=lambda c: c.modal_start)


_INVERTED = re.compile(r"\b(?:in\s+no\s+event|under\s+no\s+circumstances?|at\s+no\s+time|nor|in\s+no\s+case)\s*,?\s+"
                       r"(?P<modal>shall|will|may|can|must|should)\s+(?P<subject>(?:the\s+|any\s+|either\s+|each\s+)?"
                       r"[\w.&'’/-]+(?:\s+[\w.&'’/-]+){0,4}?)(?=\s+(?:\w+ly\s+)?(?:be|have|incur|make|use|assign|disclose|"
                       r"take|seek|claim|bring|exceed|\w+\b(?<!\bor)\b))", re.IGNORECASE)
_SUBJECT = re.compile(r"(?P<subject>(?:(?:the|such|each|either|neither|both|any|no|all|one|said)\s+)?[\w.&'’/-]+(?:\s+[\w.&'’/-]+){0,7}?)"
                      r"(?:\s*\([^)]{0,160}\))?\s*,?\s*" + _ADVERBS + r"$", re.IGNORECASE)


def _subject_before(text: str, at: int) -> tuple[str | None, int]:
    """The noun phrase that ends where the modal starts (adverbs and a parenthesis between are skipped): the longest
    stretch back to a clause boundary, trimmed to its last 8 words."""
    before = text[:at]
    boundary = max(before.rfind(","), before.rfind(";"), before.rfind(":"), before.rfind("("), before.rfind(")"))
    # a comma inside "X, at its option, may": skip one parenthetical comma pair
    stretch = before
    tail = re.search(r",\s*(?:at\s+its|in\s+its|hereby|also|further|however|therefore|thereafter|within|upon|on|by|for|intending|"
                     r"acting|including|each|as\s+applicable)[^,]{0,80},\s*$", before, re.I)
    if tail:
        stretch = before[:tail.start()]
        boundary = max(stretch.rfind(","), stretch.rfind(";"), stretch.rfind(":"), stretch.rfind("("))
    elif boundary >= 0 and before[boundary] == ")" and re.search(r"\([^()]{0,160}\)\s*,?\s*$", before):
        stretch = before[:before.rfind("(")]
        boundary = max(stretch.rfind(","), stretch.rfind(";"), stretch.rfind(":"))
    segment = stretch[boundary + 1:] if boundary >= 0 else stretch
    segment = re.sub(r"^\W*(?:\d+(?:\.\d+)*\.?|\([a-z0-9]{1,4}\)|[a-z0-9]{1,3}\))\s*", "", segment)
    segment = re.split(r"\s[-–—]\s|\s\d+(?:\.\d+)+\.?\s", segment)[-1]  # after a heading's dash or a section number
    if not segment.strip() and boundary > 0 and before[boundary] == ",":
        earlier = before[:boundary]
        start_of = max(earlier.rfind(","), earlier.rfind(";"), earlier.rfind(":"), earlier.rfind("."))
        short = earlier[start_of + 1:].strip()
        if short and len(short.split()) <= 4 and not re.search(r"\b(?:if|unless|upon|when|where|which|that)\b", short, re.I):
            return short, at  # "Flotek, may, by written notice ..."
        return "", at  # "DGT's total liability, whether ..., or at common law, shall be limited": a subject too long to read
    if re.search(r"\b(?:and|or|but)\s*$", segment, re.IGNORECASE):
        return None, at  # "... shall be made ... and shall be due": the same subject as the verb before
    match = _SUBJECT.search(segment)
    if not match:
        return None, at
    subject = match.group("subject").strip()
    # drop a leading conjunction or adverb run into the subject ("then Garman", "thereafter Power2Ship"); a noun phrase
    # after a preposition ("resolved by the parties") is no subject at all
    lead = re.match(r"^(?P<run>.*\b(?P<word>then|thereafter|that|and|but|or|so|therefore|accordingly|whereupon|otherwise|moreover|"
                    r"hereafter|following|after|during|within|upon|on|for|of|with|in|at|by|to|from|between|among|against)\s+)(?=\S)",
                    subject, flags=re.I)
    if lead and lead.group("word").lower() in ("and", "or", "nor") and _names_party_or_parties(subject[:lead.start("word")]):
        lead = None  # "ChipMOS and Tsinghua Unigroup shall": one subject naming both parties
    if lead:
        rest = subject[lead.end():]
        if lead.group("word").lower() in ("of", "with", "by", "to", "from", "between", "among", "against", "for", "in", "at", "on"):
            return subject, at  # the whole phrase stands: it does not name a party as the subject
        subject = rest
    if not subject or re.fullmatch(r"(?:\w+ly|hereby|also|further|not|to)", subject, re.IGNORECASE):
        return None, at
    return subject, at - len(match.group(0)) + match.start("subject") - (len(before) - len(stretch) if stretch is not before else 0)


def _names_party_or_parties(phrase: str) -> bool:
    return bool(re.search(r"\b(?:[A-Z][\w.&'’-]*|part(?:y|ies))\s*$", phrase.strip()))


def _subject_party(subject: str, resolver: PartyResolver) -> str | None:
    if (found := resolver.resolve(subject)) is not None:
        return found
    # "Licensee's total liability", "the aggregate liability of Supplier": the owner of the liability or duty
    owner = re.match(r"(?:the\s+)?(?P<owner>.+?)['’]s?\s+(?:\w+\s+){0,3}?(?:" + _LIABILITY + r"|obligations?|indemnit\w+|duty|duties)\b",
                     subject, re.IGNORECASE) or re.search(
        r"(?:" + _LIABILITY + r"|obligations?|indemnit\w+)\s+of\s+(?P<owner>.+)$", subject, re.IGNORECASE)
    if owner and (found := resolver.resolve(owner.group("owner"))):
        return found
    if re.match(r"(?:neither|each|either|both)\b", subject, re.IGNORECASE) and re.search(r"part(?:y|ies)\b", subject, re.I):
        return MUTUAL
    # "... environmental conditions CPDC shall": a party named last, not after a preposition
    words = subject.split()
    for size in (3, 2, 1):
        if len(words) > size and not re.fullmatch(r"(?:of|to|by|for|with|from|in|on|at|between|among|against|the|and|or|nor)",
                                                  words[-size - 1], re.IGNORECASE):
            if (found := resolver.resolve(" ".join(words[-size:]))) not in (None, MUTUAL):
                return found
    return _leading_party(subject, resolver) if re.match(r"(?:neither|either)\s+\S+\s+(?:nor|or)\s+", subject, re.I) else None


def _leading_party(phrase: str, resolver: PartyResolver) -> str | None:
    """'neither MSCI nor its subsidiaries ...': the party named first."""
    match = resolver.alias_pattern.search(phrase)
    return resolver.resolve(match.group(0)) if match else None


def _negated_subject(subject: str) -> bool:
    return bool(re.match(r"(?:neither|no|none)\b", subject, re.IGNORECASE))


def _subordinate(text: str, at: int) -> bool:
    """Inside a condition, a relative clause or a parenthesis: from the last clause boundary before `at`, a word
    that opens one ('if', 'unless', 'which', 'that') comes before the subject."""
    before = text[:at]
    if before.count("(") > before.count(")"):
        return True
    boundary = max(before.rfind(","), before.rfind(";"), before.rfind(":"))
    segment = before[boundary + 1:] if boundary >= 0 else before
    segment = re.sub(r"\bit\s+is\s+(?:hereby\s+|expressly\s+|further\s+)?(?:understood|agreed|acknowledged|accepted)(?:\s+and\s+"
                     r"(?:understood|agreed|acknowledged|accepted))*\s+(?:by\s+the\s+parties\s+)?that\b", "", segment, flags=re.I)
    if _CONDITION_OPEN.search(segment):
        return True
    # a condition that opens the sentence and runs past commas: "If X fails to pay, or ..., Y may"
    opening = re.match(r"\W*(?:\d+(?:\.\d+)*\.?\s*)?(?:if|unless|in\s+the\s+event|where|when|whenever|should|upon|once)\b",
                       text, re.IGNORECASE)
    if opening and not re.search(r",\s*(?:then\s+)?(?:\S+\s+){0,6}$", before):
        return True
    return False


def _reported(text: str, at: int) -> bool:
    """The clause is reported ("provides that", "which") rather than conditional."""
    before = text[:at]
    boundary = max(before.rfind(","), before.rfind(";"), before.rfind(":"))
    segment = before[boundary + 1:] if boundary >= 0 else before
    return bool(re.search(r"\b(?:that|which|who|whom|whose|pursuant\s+to\s+which)\b", segment, re.IGNORECASE))


def _antecedent(before: str, pronoun: str, resolver: PartyResolver) -> str | None:
    """'If one of the Parties ..., it will', 'Licensor ... if it': the last party named before the pronoun."""
    mentions = [m.group(0) for m in resolver.alias_pattern.finditer(before)]
    mutual = list(re.finditer(_MUTUAL_PHRASE, before, re.IGNORECASE))
    if mutual and (not mentions or mutual[-1].start() > before.rfind(mentions[-1])):
        return MUTUAL
    if pronoun.lower() in ("they", "them", "their") and len({resolver.resolve(m) for m in mentions} - {None, MUTUAL}) >= 2:
        return MUTUAL  # "If both Party A and Party B continue ..., they will negotiate": both of them
    return resolver.resolve(mentions[-1]) if mentions else None


# --- what kind of clause ---------------------------------------------------------------------------------------------


def _predicate_words(text: str, clause: _Clause) -> str:
    """From the modal to the end of its clause (the next semicolon, or a comma that starts a new subject)."""
    rest = text[clause.modal_end:]
    stop = re.search(r";|\.\s|\s*,?\s+(?:provided\s*,?\s*(?:however|that)|except|unless|and\s+(?:the\s+)?(?:[A-Z]\w*\s+){1,3}"
                     r"(?:shall|will|may))\b", rest)
    return (text[clause.modal_start:clause.modal_end] + (rest[:stop.start()] if stop else rest)).strip()


def _modality(text: str, clause: _Clause, predicate: str) -> Modality:
    # "shall, until after the Term, have no right": the parenthesis after the modal is not the predicate
    words = re.sub(r"^(\S+)\s*,[^,]{1,80},\s*", r"\1 ", predicate.lower())
    modal = clause.modal
    negated = clause.negated or bool(re.match(r"\S+\s+(?:\S+\s+)?(?:not|never)\b", words)) or modal == "cannot" or bool(
        re.match(r"\S+\s+(?:take|make|have|incur|assume|bear|give)\s+no\b", words))
    subject_text = clause.subject or text[max(0, clause.modal_start - 300):clause.modal_start]
    if re.search(r"\b(?:" + _LIABILITY + r"|obligations?|damages)\b", subject_text + " " + words[:80], re.IGNORECASE) and re.search(
            r"\b(?:not\s+(?:to\s+)?exceed|limited\s+to|in\s+excess\s+of|capped\s+at|greater\s+than|more\s+than|maximum)\b", words[:160]):
        return "limitation"
    if re.match(r"\S+(?:\s+\S+)?\s+(?:not\s+)?(?:be\s+)?(?:held\s+)?(?:" + _LIABILITY + r"|bound\s+by)\b", words) and negated:
        return "exclusion"
    if re.match(r"\S+\s+(?:\S+\s+)?(?:have|has|incur|bear|assume|be\s+under)\s+(?:no|not\s+any|any)\s+(?:\w+\s+){0,2}?(?:"
                + _LIABILITY + r"|obligation|duty)", words) and (negated or re.search(r"\bno\b", words[:40])):
        return "exclusion"  # "shall have no obligation", "shall incur no liability", "neither ... shall have any liability"
    if negated and re.match(r"\S+\s+(?:\S+\s+)?(?:warrant|guarantee|represent|make\s+any\s+(?:warrant|represent))", words):
        return "exclusion"  # "does not warrant", "cannot guarantee results"
    if re.match(r"(?:disclaims?|waives?|releases?)\b", modal) or re.match(r"\S+\s+(?:\S+\s+)?(?:disclaim|waive|release|exclude)s?\b", words):
        return "exclusion" if not negated else "prohibition"
    if re.search(r"\bas[\s-]+is\b|\bwith\s+all\s+faults\b", words):
        return "exclusion"
    if negated and re.search(r"\bnot\s+(?:have\s+to|be\s+(?:required|obliged|obligated)\s+to|need\s+to)\b|\bneed\s+not\b", text, re.I):
        return "right"  # "Buyer will not have to resume purchasing": relieved, not forbidden
    if negated:
        return "prohibition"
    if modal in ("grant", "grants", "assign", "assigns", "transfer", "transfers", "convey", "conveys", "license", "licenses",
                 "licence", "licences") or re.match(r"(?:\S+\s+)?(?:\w+ly\s+)*(?:grants?|assigns?|transfers?|conveys?|licen[cs]es?|"
                                                     r"sublicenses?)\b(?!\s+(?:or|and)\s+(?:otherwise|delegate))", words):
        if not re.match(r"(?:may|shall|will|must)\s+(?:not\s+)?(?:assign|transfer)\s+(?:this|its|any|the)\s+(?:agreement|rights?|obligations?)",
                        words):
            return "grant"
    if modal in ("may", "can", "might", "could") or re.match(
            rf"\S+\s+(?:\S+\s+)?(?:(?:have|has|retain|retains|reserve|reserves)\s+(?:the\s+|a\s+|an\s+|all\s+)?(?:[\w-]+\s*,?\s+"
            rf"(?:and\s+)?){{0,5}}?{_RIGHT_WORDS}|be\s+entitled|is\s+entitled|are\s+entitled|be\s+(?:free|permitted|"
            rf"authori[sz]ed)\s+to)", words) or (modal in ("retains", "retain", "reserves", "reserve") and re.match(
                r"\S+\s+(?:\w+\s+){0,2}?(?:the\s+|all\s+|any\s+)?(?:rights?|title|ownership|option|discretion)\b", words)):
        return "right"
    if re.match(r"\S+\s+(?:\S+\s+)?(?:exercise|elect\s+to\s+exercise)\s+(?:its|their|his|her|such|the|this|any)\s+(?:[\w-]+\s+){0,2}?"
                r"(?:option|right|election)s?\b", words):
        return "right"  # "Distributor shall exercise its option ... by written notice": how a right is used, not a duty
    return "obligation"


_DIRECTED = re.compile(r"(?<!related\s)(?<!relating\s)(?<!pertaining\s)(?<!belonging\s)(?<!attributable\s)(?<!according\s)"
                       r"(?<!associated\s)\b(?:to|for|against|with|towards?|in\s+favou?r\s+of|on\s+behalf\s+of|"
                       r"for\s+the\s+benefit\s+of)\s*,?\s+$", re.I)
_OBJECT_VERBS = re.compile(r"\b(?:pay|paid|notify|inform|advise|indemnify|defend|hold\s+harmless|hold|reimburse|compensate|remit|"
                           r"provide|supply|furnish|give|deliver|grant|assign|license|invoice|bill|charge|require|permit|allow|"
                           r"authori[sz]e|release|cause|bind|obligate|assist|support|serve|employ|retain|engage|appoint|"
                           r"contact|consult|credit|refund|owe|sue|compete\s+with|solicit|disparage|defame|promote|market|"
                           r"train|assist|reimburse|warn|update|invite|introduce|refer|recommend)(?:s|es|ed|ing)?\s+"
                           r"(?:and\s+hold\s+harmless\s+|harmless\s+)?$", re.IGNORECASE)


def _beneficiary(predicate: str, bound: str | None, resolver: PartyResolver) -> str | None:
    """The first party named as the predicate's object or after to / for / against / with, who is not the bound one."""
    candidates = [(m.start(), m.group(0)) for m in resolver.alias_pattern.finditer(predicate)]
    candidates += [(m.start(), m.group(0)) for m in re.finditer(r"\b(?:the\s+)?other(?:\s+part(?:y|ies))?\b|\beach\s+other\b|"
                                                                r"\bone\s+another\b|\b(?:the|such)\s+(?:non-?)?(?:defaulting|breaching|"
                                                                r"disclosing|receiving|indemnifying|indemnified)\s+part(?:y|ies)\b",
                                                                predicate, re.IGNORECASE)]
    for at, phrase in sorted(candidates):
        if re.match(r"\s+(?:[A-Z][a-z]+\b)", predicate[at + len(phrase):at + len(phrase) + 20]) and not re.match(
                r"\s+(?:and|or|for|from|in|with|of|to|the|a|an|any|all|such|on|at|by|as|under|within)\b", predicate[at + len(phrase):]):
            continue  # "the Seller Licensed Trademarks": a longer name that starts with the party's term
        lead = predicate[max(0, at - 60):at]
        clause_lead = re.split(r"[,;(]", re.sub(r"\([^()]{0,40}\)", "", lead))[-1]  # "ninety (90) days": not a parenthesis
        if re.search(r"\b(?:if|unless|upon|by|which|that|who|whom|when|where|after|before|following|within|without|under|"
                     r"regarding|relating|including|other\s+than|except|as)\b", clause_lead, re.IGNORECASE):
            continue  # inside a condition, a means ("by notice to X"), a relative clause or a carve-out
        if not (_DIRECTED.search(lead) or _OBJECT_VERBS.search(lead)):
            continue
        owner = re.match(r"['’]s?\b", predicate[at + len(phrase):])
        found = resolver.resolve(phrase + (owner.group(0) if owner else ""), bound, possessive=True)
        if found is not None and (found != bound or found == MUTUAL):
            return found
    return None


def _condition(text: str) -> str | None:
    match = re.search(r"\b(?:if|unless|in\s+the\s+event\s+(?:of|that)|upon|subject\s+to|provided\s+(?:that|however))\b[^,;]{3,160}",
                      text, re.IGNORECASE)
    return match.group(0) if match else None


# --- who acts at a point of a sentence ------------------------------------------------------------------------------

_ACTS = re.compile(r"\s+(?:\w+ly\s+|hereby\s+|also\s+)*(?:shall|will|may|must|can|cannot|should|agrees?\s+to|undertakes?\s+to|"
                   r"gives?|provides?|pays?|delivers?|sends?|serves?|notif(?:y|ies)|furnish(?:es)?|invoices?|issues?|"
                   r"submits?|terminates?|elects?|wishes|desires|intends|requests?|is\s+(?:required|obliged|obligated|entitled)|"
                   r"has\s+the\s+right|reserves\s+the\s+right)\b", re.IGNORECASE)


def limits_liability(clause: str) -> str | None:
    """'liability' or 'damages' when a clause caps or excludes liability (read from its frame)."""
    if frame_of(clause, []).modality in ("limitation", "exclusion") or re.search(
            r"\b(?:shall|will)\s+not\s+exceed\b|\bin\s+no\s+event\b[^.]{0,80}\bliable\b", clause, re.IGNORECASE):
        return "liability" if re.search(r"liabilit", clause, re.IGNORECASE) else "damages"
    return None


def acting_party(sentence: str, at: int, parties: list[CastParty]) -> str | None:
    """Who acts in the clause that holds the character `at` of `sentence`: the party named last before it as the
    subject of a verb ("unless either party gives notice at least 180 days ..." → mutual; "Provider may change the
    prices upon 90 days notice to Customer" → Provider); else the sentence's bound party."""
    resolver = PartyResolver(parties)
    text = " ".join(sentence.split()) if len(" ".join(sentence.split())) == len(sentence) else sentence
    before = text[:at]
    # the last clause that starts before the point ("... and all invoices are payable within ten days": nobody's)
    clause = next((c for c in reversed(_clauses(text, resolver)) if c.modal_start < at), None)
    found = (clause.modal_start, clause.bound) if clause is not None else None
    for match in resolver.alias_pattern.finditer(before):
        if _ACTS.match(before, match.end()) and (found is None or match.start() > found[0]):
            found = (match.start(), resolver.resolve(match.group(0)))
    for match in re.finditer(_MUTUAL_PHRASE, before, re.IGNORECASE):
        if _ACTS.match(before, match.end()) and (found is None or match.start() > found[0]):
            found = (match.start(), resolver.resolve(match.group(0)))
    if found is not None:
        return found[1]
    return frame_of(sentence, parties).bound
