"""Duty reader: in one sentence, the duty a contract manager would track - who is bound, to do what kind of thing.

A duty is a party bound to act ("shall", "will", "must", "agrees to", "is responsible for", "notice is required by")
to an act someone can check was done: pay or credit, invoice or report, deliver, ship, produce, purchase, return or
stop using material, notify or confirm, carry insurance, keep a service running. Not a duty to track: a right
("may", "shall have the right", "shall be entitled"), a prohibition ("shall not"), a representation, warranty or
indemnity, a restriction on disclosure or competition, a generic promise to perform or to use best efforts to market,
an allocation of costs or of responsibility ("solely responsible for all content"), and boilerplate about the
agreement itself ("notices shall be in writing", "shall be governed by").

The bound party is the subject right before the modal, read against the parties' names, roles and defined terms
(plural or not, any case), then the usual role words; "each party", "either party", "the one ... to the other" bind
both. "X agrees that he will" is X's duty. Nothing is read from a sentence whose subject is not a party.
"""

from __future__ import annotations

import re

from pydantic import BaseModel

from agents.schema import ContractProfile

# a modal that binds its subject to act (a right, a prohibition or a statement is filtered after)
_MODAL = re.compile(
    r"\b(?:shall|will|must|agrees?\s+to|undertakes?\s+to|covenants?\s+to|(?:is|are)\s+(?:required|obligated)\s+to|"
    r"(?:is|are|shall\s+be)\s+(?:(?:also|solely|fully|further|directly)\s+)?responsible\s+(?:for|to))\b", re.I)
# what follows a modal and makes it no duty: not, a right, an entitlement, a statement about the agreement
_NOT_A_DUTY_AFTER = re.compile(
    r"\s+(?:not\b|never\b|in\s+no\s+event|(?:\(\w{1,3}\)\s*)?(?:fail|fails|neglect|refuse)\s+to\b|(?:also\s+)?(?:have|has)\b(?!\s+(?:and\s+maintain\s+)?(?:\w+\s+){0,3}insurance)|"
    r"receive\b|agree\b|act\s+as|serve\s+as|become\b|be\s+(?:in\b|met|made\s+to|identified|acknowledged|reduced|limited|sent|"
    r"addressed|given\s+(?:by|in)|deemed)|"
    r"remain\s+(?:liable|responsible)|be\s+(?:solely\s+)?responsible\s+for\s+(?:all|any|its\s+own)\b|"
    r"(?:be\s+)?(?:entitled|permitted|deemed|construed|interpreted|governed|binding|effective|valid|void|liable|"
    r"considered|subject\s+to|free\s+to|under\s+no)|retain\b|remain\s+(?:the\s+)?(?:property|owner|in\s+(?:full\s+)?force)|"
    r"survive|prevail|apply|inure|constitute|terminate\b|expire|commence|continue\b|include|mean|refer)", re.I)
# acts a contract manager does not chase
_NOT_TRACKED = re.compile(
    r"\b(?:indemni\w*|hold\s+(?:\w+\s+){0,3}harmless|defend\b|represents?\b|warrants?\b|warranty|"
    r"(?:responsible\s+for\s+(?:the\s+payment\s+of\s+)?(?:all\s+)?|add\s+(?:\w+\s+){0,6})tax(?:es)?\b|court\s+costs|procure\s+the\s+right|exclusively\s+purchase|available\s+as\s+(?:the|its|a)\b|"
    r"payment\s+of\s+(?:\w+\s+){0,2}(?:wages|commissions)|payments?\s+(?:\w+\s+){0,5}(?:its|their)\s+(?:own\s+)?employees|"
    r"keep\s+(?:\w+\s+){0,4}confidential|in\s+(?:strict\s+)?confidence|not\s+disclose|comply\s+with|abide\s+by|"
    r"conform\s+to|waive|acknowledges?|be\s+bound|execute\s+and\s+deliver\s+such\s+(?:further|additional)|"
    r"such\s+further\s+(?:acts|documents)|bear\s+(?:all|its\s+own|the)\s+(?:\w+\s+){0,3}(?:costs?|expenses?|charges?)|"
    r"pay\s+(?:its|his|her|their)(?:\s+or\s+(?:its|his|her|their))?\s+own|arbitrat\w+|mediators?|attorneys?'?\s+fees|use\s+(?:its\s+)?(?:best|commercially\s+reasonable|reasonable)\s+"
    r"efforts\s+to\s+(?:promote|market|sell|reach|negotiate)|promote,?\s+market|treat\s+(?:such\s+)?information)\b", re.I)
# a sentence that is about something else than a duty to track, wherever its modal is
_NOT_TRACKED_SENTENCE = re.compile(r"\b(?:wishing|wants|desir(?:es|ing)|in\s+order)\s+to\s+terminate\b|"
                                   r"\bas\s+may\s+be\s+(?:established|agreed|determined)\b[^.;]{0,40}\bmutual|"
                                   r"\bat\s+(?:a|the)\s+(?:discounted\s+)?rate\s+of\b|\bat\s+a\s+discounted\s+rate\b", re.I)
# an allocation of responsibility, not an act: "solely responsible for all content", "responsible for any loss"
_ALLOCATION = re.compile(r"responsible\s+(?:for|to)\s+(?:all|any|the\s+security|the\s+ongoing|the\s+payment\s+of\s+all\s+taxes|"
                         r"its\s+own|their\s+own\s+(?:costs|expenses)|undertaking)\b", re.I)

KINDS: list[tuple[str, re.Pattern]] = [(kind, re.compile(pattern, re.I)) for kind, pattern in [
    ("insurance", r"\binsur(?:ance|ed|e)\b"),
    ("payment", r"\b(?:pay|pays|paid|paying|payable|payments?|remit|reimburse|compensat\w*|credit\s+\w+(?:'s)?\s+account|"
                r"letter\s+of\s+credit|installments?|issuable|royalt\w*|fees?\s+(?:shall|will)\s+be)\b"),
    ("report", r"\b(?:reports?|statements?\s+of\s+account|royalty\s+statements?|invoice|reconcile|forecasts?|projections?)\b"),
    ("notice", r"\b(?:notify|notice|inform|advise|confirm\w*|refer\s+them|pass\s+on|give\s+(?:prompt\s+)?(?:written\s+)?notice)\b"),
    ("sla", r"\b(?:uptime|availability|service\s+levels?|maintain\s+the\s+operation|customer\s+service|solutions\s+for\s+reported|"
            r"response\s+times?|resolution\s+times?|available\s+(?:at\s+least\s+)?\d{2}(?:\.\d+)?\s?%)"),
    ("deliverable", r"\b(?:deliver\w*|ship\w*|produce\s+(?:no\s+less|not\s+less|at\s+least|enough|\d)|purchase|return\b|"
                    r"cease\s+(?:use|usage)|remove|removal|"
                    r"make\s+(?:himself|herself|itself|themselves)?\s*available|feature|appear|endorse|creat\w+|hanging|"
                    r"training|manufactur\w+|provide\s+(?:the\s+)?(?:\w+\s+){0,3}(?:releases|samples|deliverables|names)|"
                    r"names?\s+of\s+\w+|sell\s+(?:product|the\s+product)|elimination|certificates?)\b"),
    ("other", r"\bobtain\b[^.;]{0,60}\b(?:licen[cs]es|permits|approvals)\b"),
]]

_BOTH = re.compile(r"(?:\beach\s+(?:party|of\s+the\s+parties)|\beither\s+party|\bboth\s+parties|\bthe\s+parties|\bany\s+party|"
                   r"\bthe\s+one\b|\bthe\s+party\s+affected|\bthe\s+affected\s+party|\beach\s+signatory)\b", re.I)
_ROLE_WORDS = re.compile(r"\b(?P<role>customer|buyer|licensee|client|purchaser|company|subscriber|recipient|sponsor|"
                         r"supplier|provider|vendor|licensor|seller|contractor|consultant|distributor|manufacturer|agent|"
                         r"principal|professional|franchisee|franchisor|member|developer|promoter|reseller|lessee|lessor)s?\b", re.I)
_CUSTOMER_ROLES = {"customer", "buyer", "licensee", "client", "purchaser", "subscriber", "recipient", "sponsor", "lessee",
                   "franchisee", "distributor", "reseller"}
_PRONOUN_AFTER_AGREES = re.compile(r"(?P<who>.+?)\s+(?:hereby\s+)?(?:agrees?|acknowledges?|covenants?|understands?)(?:\s*,[^,]{0,80},)?"
                                   r"\s+that\s*,?\s*(?:[^,]{0,80},\s*)?(?:he|she|it|they)\s*$", re.I)


class Duty(BaseModel):
    kind: str
    owner_side: str  # us | them | both | unknown
    owner_name: str  # the party as the sentence names it
    modal_start: int  # where the binding words start in the sentence


# what stands between a modal and its verb: "shall further", "shall, at its own expense,", "will, within 90 days of
# the execution of this Agreement,", "shall promptly"
_LEADING = re.compile(r"^(?:\s*(?:,|be\s+responsible\s+(?:for|to)|also|further|then|thereafter|promptly|immediately|forthwith|"
                      r"directly|timely|jointly|each|at\s+(?:its|his|her|their)\s+(?:own\s+)?(?:sole\s+)?(?:cost|expense)(?:\s+and\s+"
                      r"(?:cost|expense))?|(?:within|upon|on|after|following|before|prior\s+to|no\s+later\s+than|in\s+(?:each|every|the\s+event))"
                      r"\b[^,]{0,90},|subject\s+to\b[^,]{0,90},|and)\s*)*", re.I)
# the act a verb names, by the verb: what a contract manager would check was done
_VERB_KINDS = [(kind, re.compile(pattern, re.I)) for kind, pattern in [
    ("payment", r"(?:pay|paying|remit|reimburse|compensate|refund|credit|disburse|redeem)\b|make\s+(?:a\s+|the\s+|all\s+)?(?:pre)?payments?\b"),
    ("report", r"(?:report|reporting|reconcile|invoice|bill|fax|account\s+for)\b|(?:submit|send|deliver|provide|furnish|supply|"
               r"transmit|prepare(?:,?\s+and\s+transmit)?)\s+"
               r"(?:to\s+\w+\s+)?(?:\w+\s+){0,3}(?:reports?|statements?|results|summar(?:y|ies)|forecasts?|projections?|"
               r"information|evidence|records|accounts?)\b"),
    ("notice", r"(?:notify|inform|advise|alert|confirm|refer|pass\s+on)\b|give\s+(?:\w+\s+){0,5}notice\b"),
    ("deliverable", r"(?:deliver|ship|shipping|provide|supply|furnish|designate|display|produce|purchase|buy|return|destroy|"
                    r"cease|remove|feature|appear|endorse|create|creating|hang|hanging|complete|train|submit|send|issue|file|"
                    r"appoint|transfer|develop|install|introduce|reassign|replace|sell|place|post|transmit|"
                    r"make\s+(?:\w+\s+)?available)\b"),
]]
# a promise to do the contract's work in general, not a thing to check: "provide the Services", "perform its duties"
_GENERIC_ACT = re.compile(r"^(?:provide|perform|render|furnish|deliver)\s+(?:(?:to|unto)\s+[^,]{1,60}?\s+)?(?:\w+\s+with\s+)?"
                          r"(?:the\s+|such\s+|all\s+|its\s+)?(?:(?!with\b|consistent\b|for\b|to\b|of\b|in\b)[\w-]+\s+){0,4}"
                          r"(?:services|duties|obligations|work|consultation|consulting|support)\b(?!\s+of\b)|"
                          r"^provide\s+(?:sufficient|adequate|qualified|appropriate)\s+(?:\w+\s+)?(?:personnel|staff|resources)\b|"
                          r"^cause\s+(?:this|the)\s+agreement|^develop\s+and\s+(?:implement|agree)|^agree\s+upon|"
                          r"^produce\s+(?:the\s+)?products\b|^cease\s+(?!(?:all\s+)?(?:use|uses|usage|using)\b)", re.I)


def act_kind(predicate: str) -> str | None:
    """The kind of act the predicate's verb names ("pay", "notify", "fax ... results", "provide ... equipment"), insurance
    when the act is about insurance at all, or None (a generic promise to perform, or no act to track)."""
    act = predicate[_LEADING.match(predicate).end():].lstrip()
    if re.search(r"\binsur(?:ance|ed)\b", predicate[:260], re.I) and re.match(
            r"(?:maintain|obtain|carry|procure|provide|have|keep|name|purchase|supply|deliver|furnish)\b", act, re.I):
        return "insurance"
    if re.match(r"(?:maintain\s+the\s+operation|keep\s+\w+\s+available)", act, re.I):
        return "sla"
    if re.search(r"\bservice\s+levels?\b(?!\s+(?:reports?|statements?))", act[:120], re.I):
        return "sla"  # "deliver the Services in line with the agreed service levels"
    if caused := re.match(r"cause\s+(?:[\w'-]+\s+){0,4}?to\s+(?:be\s+)?", act, re.I):
        # "cause its subsidiaries to pay": the act is what is caused; "cause each car to be painted": a deliverable
        rest = act[caused.end():]
        kind = act_kind(" " + rest)
        return kind if kind is not None else ("" if re.match(r"accept|comply|observe|abide", rest, re.I) else "deliverable")
    if _GENERIC_ACT.match(re.sub(r"\s*\([^)]{0,60}\)", "", act)):  # "provide Product Maintenance (as defined below) and ..."
        return ""  # a generic promise: no act to track, whatever words follow
    if kind := next((kind for kind, verb in _VERB_KINDS if verb.match(act)), None):
        return kind
    if gerund := re.match(r"(?P<stem>[a-z]{2,}?)(?P<double>[b-df-hj-np-tv-z])?(?P=double)?ing\b", act, re.I):
        # "responsible for removing and/or informing": the act in its base form (remove, inform, ship)
        stem = gerund.group("stem") + (gerund.group("double") or "")
        for base in (stem, stem + "e"):
            rest = base + act[gerund.end():]
            if kind := next((kind for kind, verb in _VERB_KINDS if verb.match(rest)), None):
                return kind
    return None


# an aside between a modal and its verb: "shall, at any time, fail to"
_ASIDE = re.compile(r"^\s*,[^,]{1,90},")
# a subject no one is: "no Sponsor shall", "neither party will", "none of the Parties shall"
_NO_ONE = re.compile(r"\b(?:no|neither|none\s+of)\s+(?:[\w'-]+\s+){0,3}$|\bnor\s+(?:[\w'-]+\s+){0,3}$", re.I)
# a condition that opens the clause the modal is in: "If, at any time, Company shall enter into", "(d) if Investor shall"
_CONDITION = re.compile(r"(?:^|[;:]|\(\w{1,3}\))\W*(?:\(\w{1,3}\)\s*)?(?:if|in\s+the\s+event\s+(?:that\s+)?|in\s+case|should|unless|"
                        r"whether|where)\b(?P<rest>[^;:]*)$", re.I)
# a prerequisite, not a duty: "To enroll in the Affiliate Program, you must submit"; "In order to qualify, ..."
_PREREQUISITE = re.compile(r"(?:^|[.;:]\s)\W*(?:[A-Z][\w ]{0,40}\s)?(?:in\s+order\s+)?to\s+(?!the\s+extent\b)(?:enroll|enrol|apply|qualify|"
                           r"participate|register|join|be\s+eligible|become|obtain|receive|claim|earn)\b[^,;]{0,120},\s*[^,;]{0,60}$", re.I)


def _in_condition(subject: str) -> bool:
    """The modal is the verb of a condition, not of the clause it conditions: nothing after the condition's opening
    words but asides closes it ("If, at any time during the Contract Period, Company shall"), where a consequence
    follows a comma ("If a Price Error causes a shortfall, Trust shall make")."""
    if (m := _CONDITION.search(subject)) is None:
        return False
    rest = _ASIDE.sub(" ", m.group("rest"), count=1)  # the aside right after "If,"
    return "," not in rest


# a payment stated without its payer: "Fees shall be payable within thirty (30) days of invoice"
_PASSIVE_PAYMENT = re.compile(r"\b(?:(?:to|shall|will|must)\s+be\s+(?:paid|payable)|(?:shall|will)\s+be\s+due\s+and\s+payable|"
                              r"payments?\s+(?:shall|will|must)\s+be\s+(?:made|due)|terms\s+of\s+payment\s+(?:shall|will)\s+be|"
                              r"(?:fees|royalt\w+|amounts?)\s+(?:shall|will)\s+be\s+(?:due|payable))\b", re.I)
# what a sentence that restates an amended clause quotes from before: not a duty now
_AMENDED = re.compile(r"\bpreviously\s+read", re.I)
_NOW_READS = re.compile(r"\bnow\s+reads?\b", re.I)
_PREDICATE_END = re.compile(r"[;:]|\b(?:and|or|but)\s+(?:shall|will|must)\b|\bprovided\s+(?:that|however)\b", re.I)


def read_duty(sentence: str, profile: ContractProfile) -> Duty | None:
    """The duty the sentence states, or None."""
    sentence = re.sub(r"-{3,}", " ", sentence)  # filings' rules and blanks ("execute and ---------- deliver")
    offset = 0
    if _AMENDED.search(sentence):  # "... previously read: "X shall ..." now reads: "X shall ...": the new words only
        now = _NOW_READS.search(sentence)
        if now is None:
            return None
        offset = now.end()
    if _NOT_TRACKED_SENTENCE.search(sentence):
        return None
    for modal in _MODAL.finditer(sentence, offset):
        if re.search(r"\bnor\s+$", sentence[max(0, modal.start() - 6):modal.start()], re.I):
            continue  # "nor will Distributor pay": a promise not to
        after = sentence[modal.end():modal.end() + 220]
        if _NOT_A_DUTY_AFTER.match(after) or _NOT_A_DUTY_AFTER.match(_ASIDE.sub(" ", after, count=1)):
            continue  # "shall, upon two weeks' written notice, have the right"
        subject = sentence[offset:modal.start()]
        if _in_condition(subject) or _PREREQUISITE.search(subject) or _NO_ONE.search(subject[-60:]):
            continue  # "if the Investor shall fail to pay": what happens then is the term; "no Sponsor shall transfer"
        if re.match(r"agrees?\s+to$", modal.group(0), re.I) and re.match(r"\s+(?:the|a|an|such|this|these|its|any|all)\b", after, re.I):
            continue  # "agree to the Purchase Price": an agreement on terms, not an act
        predicate = _PREDICATE_END.split(after, maxsplit=1)[0]
        purpose = re.search(r"\b(?:(?:as\s+)?(?:is\s+|are\s+)?(?:necessary|required)\s+)?(?:so\s+as\s+|in\s+order\s+)?to\s+enable\b", predicate, re.I)
        if _NOT_TRACKED.search(modal.group(0) + predicate[:purpose.start() if purpose else None]):  # not "to enable X to comply"
            return None  # an indemnity, a warranty, a restriction: what follows in the sentence belongs to it
        if "responsible" in (modal.group(0) + predicate[:30]).lower() and _ALLOCATION.search(modal.group(0) + predicate[:60]):
            continue
        head = " ".join(predicate.split()[:12])  # the act: what the verb does, not a date named later ("until delivery")
        agent = re.match(r"\s*be\s+(?P<verb>sent|delivered|provided|submitted|forwarded|furnished|supplied|shipped)\s+(?:to\s+\w+\s+)?"
                         r"(?:from|by)\s+(?P<who>(?:the\s+)?[A-Z][\w-]*(?:\s+[A-Z][\w-]*){0,2})", predicate)
        if agent and (owner := _owner(agent.group("who") + " ", profile, leading=True)):
            return Duty(kind="deliverable", owner_side=owner[0], owner_name=owner[1], modal_start=modal.start())  # "must be sent from VNUE"
        if re.match(r"\s*be\s+\w+(?:ed|en)\b", predicate, re.I):  # passive: the act is the subject's ("reports must be provided")
            noun = re.search(r"(?P<party>\b[\w-]+(?:'s)?)\s+(?P<noun>reports?|notices?|invoices?|certificates?|statements?)\s*$",
                             subject, re.I)
            if noun is None:
                continue
            kind = next((k for k, pattern in KINDS if pattern.search(noun.group("noun"))), None)
            owner = _owner(noun.group("party").removesuffix("'s") + " ", profile, leading=True)
            if kind and owner:
                return Duty(kind=kind, owner_side=owner[0], owner_name=owner[1], modal_start=modal.start())
            continue
        kind = act_kind(predicate)
        if kind is None:
            kind = next((k for k, pattern in KINDS if pattern.search(head)), None)
        if not kind:
            continue
        owner = _owner(subject, profile) or _owner_of_elided(sentence[offset:modal.start()], profile)
        if owner is None:
            continue
        return Duty(kind=kind, owner_side=owner[0], owner_name=owner[1], modal_start=modal.start())
    if m := re.search(r"\bnotice\s+(?:is|shall\s+be)\s+required\s+by\s+(?P<who>[^.,;]{1,40})", sentence, re.I):
        if owner := _owner(m.group("who") + " ", profile, leading=True):
            return Duty(kind="notice", owner_side=owner[0], owner_name=owner[1], modal_start=m.start())
    if (m := _PASSIVE_PAYMENT.search(sentence, offset)) and not _NOT_TRACKED.search(sentence[m.start():m.end() + 80]) \
            and _WHEN.search(sentence[m.end():m.end() + 80]):
        payer = re.search(r"\bby\s+(?P<who>(?:the\s+)?[A-Z][\w-]*(?:\s+[A-Z][\w-]*){0,2})", sentence[m.start():m.end() + 80])
        owner = _owner(payer.group("who") + " ", profile, leading=True) if payer else None
        side, name = owner or _payer(profile)
        return Duty(kind="payment", owner_side=side, owner_name=name, modal_start=m.start())
    return None


# a payment duty says when: "within thirty (30) days of invoice", "upon placement of order", "in equal installments"
_WHEN = re.compile(r"\b(?:within|net|upon|on\s+or\s+before|no\s+later\s+than|following|after|before|in\s+advance|"
                   r"installments?|monthly|quarterly|annually|each|every|\d+/\d+)\b", re.I)


# "each Party hereby agrees to do the following:", "UTEK agrees to:", "Sabco shall perform the following services:": the
# items after it are the subject's duties though they name no one ("b. Report to the other Party ...")
_LEAD_IN = re.compile(r"(?P<modal>\b(?:shall|will|must|agrees?\s+to|undertakes?\s+to|covenants?\s+to))(?:\s+(?:do|perform)"
                      r"(?:\s+the\s+following(?:\s+\w+){0,3})?|\s+the\s+following)?(?:\s*,[^:;.]{0,80})?\s*:\s*"
                      r"(?:\(?[a-zA-Z0-9]{1,4}[.)])?\s*$", re.I)  # "the following services, all in accordance with ...: 1."
_ITEM = re.compile(r"^\s*(?:\(?[a-zA-Z0-9]{1,4}[.)]\s*)?(?:to\s+)?(?=[A-Za-z])", re.I)


def lead_in(sentence: str) -> str | None:
    """The subject and modal of a sentence that introduces a list of duties ("each Party hereby agrees to:"), or None."""
    if m := _LEAD_IN.search(sentence):
        return sentence[:m.end("modal")]
    return None


def read_item(item: str, lead: str, profile: ContractProfile) -> Duty | None:
    """A list item under a lead-in, read as the lead-in's subject bound to it: only an item that opens with what it
    binds the subject to do ("Report to the other Party ...", "To inform ...", "Within 15 days ..., provide ...")."""
    text = item[_ITEM.match(item).end():] if _ITEM.match(item) else item
    if not (act_kind(" " + text) or re.match(r"(?:within|upon|on|after|no\s+later\s+than)\b", text, re.I)):
        return None
    return read_duty(f"{lead} {text[:1].lower()}{text[1:]}", profile)


def _owner_of_elided(subject: str, profile: ContractProfile) -> tuple[str, str] | None:
    """"X shall maintain the right ...; but agrees to pass on all leads": the subject of the clause before."""
    parts = re.split(r"[;:]", subject)
    if len(parts) < 2 or not re.fullmatch(r"\s*(?:and|but|and\s+further)?\s*", parts[-1], re.I):
        return None
    return _owner(parts[-2], profile, leading=True)


def _payer(profile: ContractProfile) -> tuple[str, str]:
    """Who pays when the sentence does not say: the party on the customer side of the deal, if known."""
    for party in profile.parties:
        if party.side == "customer":
            side = "us" if party.is_us else "them" if any(p.is_us for p in profile.parties) else "unknown"
            return side, party.role or (party.defined_terms[0] if party.defined_terms else party.name)
    return "unknown", "the paying party"


def _owner(subject: str, profile: ContractProfile, *, leading: bool = False) -> tuple[str, str] | None:
    """(side, name) of the party the subject names: the clause's head ("Any party learning of a breach shall"), else
    the party named right before the modal ("Distributor reports must be"); a pronoun ("X warrants that ... it will")
    is the party the clause opens with. `leading`: the first party named."""
    clause = re.split(r"[;:]|\.\s|\(\w{1,3}\)\s", subject)[-1][-240:]
    # an aside right before the modal is not the subject: "Company, either directly or through its authorized service
    # provider, shall"; "The Sellers, in accordance with the Buyers' claim, shall"
    clause = re.sub(r",[^,]{1,80},\s*$", " ", clause)
    if m := _PRONOUN_AFTER_AGREES.search(clause):  # "The Professional agrees that, with respect to ..., he will"
        clause = m.group("who")
    elif re.search(r"\b(?:he|she|it|they)\s*$", clause, re.I):
        leading = True  # "SIERRA warrants that ... and that, upon execution, it will": the clause's first party
    elif agreed := list(re.finditer(r"\b(?:agree[sd]?|acknowledges?|understands?)\s+that\b", clause, re.I)):
        clause = clause[agreed[-1].end():]  # "Both Parties agree that once ..., the Buyer will": the agreed clause's
    # a heading in capitals before the sentence ("14. INSURANCE MMI shall", "SERVICES PROVIDED TO THE CUSTOMER i-on
    # will"): two words at least, and not a party's name written in capitals ("SIERRA warrants")
    heading = re.match(r"\W*(?:\d+(?:\.\d+)*\.?\s+)?(?:[A-Z]{2,}[,&-]?(?:\s+[A-Z&-]{1,}[,]?)+\s+(?=\S))?", clause)
    if heading.end() and any(m[0] == heading.start() + len(heading.group(0)) - len(heading.group(0).lstrip()) and
                             m[1] >= heading.end() - 1 for m in _mentions(clause, profile)):
        heading = re.match(r"", clause)
    mentions = [m for m in _mentions(clause, profile) if m[0] >= heading.end()]  # not a word of a heading in capitals
    if not mentions:
        return None
    if leading:
        return min(mentions)[2:]
    _, end, side, name = max(mentions, key=lambda m: m[1])
    gap = re.sub(r",[^,]{0,60},", " ", clause[end:])  # "the Sellers, in spite of the cancellation, shall"
    if len(gap) <= 40 and not re.search(r"\b(?:that|which|who|submitted|provided|received|made|used|by|for|of)\b", gap, re.I):
        return side, name  # the party named right before the modal ("... and Customer shall pay")
    head = re.compile(r"(?:\(\w{1,3}\)\s*)?(?:o\s+)?(?:any|each|the)?\s*", re.I).match(clause, heading.end())
    first = min(mentions)
    if first[0] <= head.end() + 1:
        return first[2:]  # the clause opens with the party: its subject, whatever modifies it ("Any party learning of")
    return None  # the party is inside the subject ("All written content submitted by Client"), not the subject


def _mentions(clause: str, profile: ContractProfile) -> list[tuple[int, int, str, str]]:
    """(start, end, side, name) of every party named in the clause: the mutual phrases, a party's names and defined
    terms, then the usual role words."""
    found: list[tuple[int, int, str, str]] = [(m.start(), m.end(), "both", "both") for m in _BOTH.finditer(clause)]
    knows_us = any(p.is_us for p in profile.parties)
    for party in profile.parties:
        side = "us" if party.is_us else "them" if knows_us else "unknown"
        for name in dict.fromkeys(n for n in (party.role, *party.defined_terms, party.name) if n):
            found += [(m.start(), m.end(), side, name) for m in re.finditer(rf"\b{re.escape(name)}s?\b", clause, re.I)]
    taken = {end for _, end, _, _ in found}
    for m in _ROLE_WORDS.finditer(clause):
        if m.end() not in taken:
            found.append((m.start(), m.end(), _side_of_role(m.group("role").lower(), profile), m.group(0)))
    ends = sorted(found, key=lambda f: f[1])
    if len(ends) >= 2 and ends[-1][3] != "both" and ends[-2][3] != "both" and ends[-1][3].lower() != ends[-2][3].lower() \
            and re.fullmatch(r"\s*(?:and|&)\s+(?:the\s+)?", clause[ends[-2][1]:ends[-1][0]], re.I) \
            and not clause[ends[-1][1]:].strip():
        return [(ends[-2][0], ends[-1][1], "both", "both")]  # "Heritage and Premier shall": both, named together
    return found


def _side_of_role(role: str, profile: ContractProfile) -> str:
    if profile.our_side not in ("customer", "supplier"):
        return "unknown"
    side = "customer" if role in _CUSTOMER_ROLES else "supplier"
    return "us" if side == profile.our_side else "them"
