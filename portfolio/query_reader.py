"""Reading a legal-ops query in plain English into filters and words: "uncapped liability in SaaS contracts renewing
next quarter" is type saas, liability uncapped, term ending next quarter; "MFN clauses governed by English law" is the
most-favoured-nation category and the law of England and Wales.

A filter is read only from its real form: a counterparty or a law from a capitalised name ("with Acme", "Delaware
law"; "compliance with applicable law" is words, not a counterparty), a known law by its usual aliases (English law,
UK law = England and Wales; NY = New York), a clause kind by its usual names (MFN, exclusivity, non-compete, change of
control, ...). Everything else is searched as words.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from pydantic import BaseModel, Field

_TYPES = {"saas": "saas", "nda": "nda", "ndas": "nda", "msa": "msa", "msas": "msa", "dpa": "dpa", "sow": "sow",
          "licence": "licence", "license": "licence", "licensing": "licence", "supply": "supply",
          "distribution": "distribution", "reseller": "reseller", "services": "services", "franchise": "franchise",
          "lease": "lease", "employment": "employment"}
_STATUSES = {"expired": "expired", "executed": "executed", "terminated": "terminated", "finalised": "finalised",
             "finalized": "finalised"}
_STOP = set("a an the in on of for to and or with that which are is be contracts contract agreements agreement "
            "all any our show me find list where have has having renewing renew renews expiring expire expires ending "
            "end ends next this within days weeks months quarter year clause clauses provision provisions term terms "
            "respect regarding about concerning containing contain contains including include includes by from us we "
            "who whose what give gives giving can may might could would should shall will must".split())

# the law a query names -> the words its filing contains (governing law is filed as the clause states it:
# "England and Wales", "the State of New York")
_LAWS = {
    "english": "England", "england": "England", "uk": "England", "u.k.": "England", "british": "England",
    "england and wales": "England", "scottish": "Scotland", "scots": "Scotland", "new york": "New York",
    "ny": "New York", "n.y.": "New York", "californian": "California", "german": "Germany", "swiss": "Switzerland",
    "irish": "Ireland", "french": "France", "dutch": "Netherlands", "texan": "Texas", "floridian": "Florida",
}

_NOT_A_LAW = {"governing", "applicable", "local", "common", "case", "contract", "choice", "any", "such", "this"}

# a clause kind as a query names it: its key, how a query says it, the categories it is filed under (the library's, and
# CUAD's where the clause model is confident), and an FTS5 expression for the words contracts use for it (written here,
# never taken from a query)
class Topic(BaseModel):
    key: str
    said: str
    categories: list[str]
    words: str
    example: str = Field(default="", description="how a clause of this kind typically reads: what a search by meaning "
                         "compares the clauses with")

    @property
    def pattern(self) -> re.Pattern:
        return re.compile(self.said, re.I)


TOPICS: list[Topic] = [Topic(key=k, said=p, categories=c, words=w) for k, p, c, w in [
    ("most favoured nation", r"\bmost[\s-]+favou?red[\s-]+(?:nation|customer)s?\b|\bMFN\b", ["Most Favored Nation"],
     '"most favored" OR "most favoured" OR NEAR(favorable "other customer", 10) OR NEAR(favourable "other customer", 10) '
     'OR NEAR(favorable "other licensee", 10) OR NEAR(favorable "any third party", 10)'),
    ("exclusivity", r"\bexclusiv(?:e|ity)\b", ["Exclusivity", "exclusivity"],
     'exclusivity OR "exclusive right" OR "exclusive license" OR "exclusive licence" OR "exclusive distributor" OR '
     '"exclusive basis" OR "sole and exclusive right"'),
    ("non-compete", r"\bnon[\s-]?compet\w*|\bcovenants?\s+not\s+to\s+compete\b", ["Non-Compete", "non_compete"],
     '"non compete" OR "non competition" OR noncompetition OR "not compete" OR "not to compete" OR "competing product"'),
    ("change of control", r"\bchange\s+(?:of|in)\s+control\b", ["Change of Control"],
     '"change of control" OR "change in control" OR NEAR(acquisition "voting securities", 12) OR NEAR(merger control, 8)'),
    ("non-solicitation", r"\b(?:non|no)[\s-]?solicit\w*", ["No-Solicit of Employees", "No-Solicit of Customers", "non_solicit"],
     'NEAR(solicit employ, 10) OR NEAR(solicit hire, 6) OR "non solicitation"'),
    ("audit rights", r"\baudit(?:ing)?\s+rights?\b|\bright\s+to\s+audit\b|\baudits?\b", ["Audit Rights", "audit_rights"],
     '"audit rights" OR "right to audit" OR NEAR(audit records, 10) OR NEAR(audit books, 10) OR NEAR(inspect records, 10) '
     'OR NEAR(audit facility, 6) OR NEAR(auditor validation, 10) OR NEAR(audit performance, 8)'),
    ("termination for convenience", r"\bterminat\w*\s+for\s+convenience\b|\bterminat\w*\s+(?:\w+\s+){0,3}without\s+cause\b",
     ["Termination for Convenience", "termination_for_convenience"],
     'NEAR(terminate convenience, 6) OR NEAR(terminate "without cause", 6) OR NEAR(terminate "for any reason", 6) '
     'OR NEAR(terminate "at any time", 4)'),
    ("liquidated damages", r"\bliquidated\s+damages\b", ["Liquidated Damages"], '"liquidated damages"'),
    ("minimum commitment", r"\bminimum\s+(?:purchase\s+|volume\s+|order\s+)?(?:commitments?|purchases?|volumes?|orders?|quantit\w+)\b",
     ["Minimum Commitment"], '"minimum order" OR "minimum purchase" OR "minimum quantity" OR "minimum volume" OR '
     '"minimum commitment" OR "minimum annual"'),
    ("first refusal", r"\bright\s+of\s+first\s+(?:refusal|offer|negotiation)\b|\bROF[RON]\b", ["Rofr/Rofo/Rofn"],
     '"first refusal" OR "first offer" OR "first negotiation"'),
    ("source code escrow", r"\bsource\s+code\s+escrow\b|\bescrow\b", ["Source Code Escrow"], 'NEAR("source code" escrow, 10)'),
    ("revenue sharing", r"\b(?:revenue|profit)[\s/-]+(?:or\s+profit\s+|or\s+revenue\s+)?sharing\b", ["Revenue/Profit Sharing"],
     '"revenue sharing" OR "profit sharing" OR "share of revenues" OR "share of the revenues" OR "share of profits" OR '
     'NEAR(percent "gross revenue", 4) OR NEAR(percent "net revenue", 4) OR "referral fee" OR commission'),
    ("automatic renewal", r"\b(?:auto(?:matic(?:ally)?)?[\s-]?renew\w*|renew\w*\s+automatically)\b|\bevergreen\b",
     ["auto_renewal", "Renewal Term"], 'NEAR(automatically renew, 4) OR NEAR(automatically extend, 4) OR evergreen'),
    ("price increase", r"\b(?:price\s+)?escalat\w*|\b(?:raise|increase)\w*\s+(?:the\s+)?(?:prices?|fees?|rates?)\b|"
     r"\bprice\s+(?:increases?|rises?|adjustments?)\b", ["price_escalation", "Price Restrictions"],
     'NEAR(increase price, 5) OR NEAR(increase fees, 5) OR NEAR(raise price, 5) OR NEAR(raising prices, 3) OR escalat*'),
    ("covenant not to sue", r"\bcovenant\s+not\s+to\s+sue\b", ["Covenant Not to Sue"], '"not to sue"'),
    ("third-party beneficiaries", r"\bthird[\s-]+party\s+beneficiar\w*", ["Third Party Beneficiary"], '"third party beneficiary" OR "third party beneficiaries"'),
    ("indemnification", r"\bindemni\w*", ["indemnification"], 'indemnify OR indemnification OR indemnified OR indemnifies OR "hold harmless"'),
    ("data protection", r"\bdata\s+protection\b|\bGDPR\b|\bpersonal\s+data\b|\bdata\s+processing\b", ["data_protection"],
     '"personal data" OR "data protection" OR "personally identifiable"'),
    ("insurance", r"\binsurance\b", ["insurance", "Insurance"],
     'NEAR(maintain insurance, 8) OR NEAR(carry insurance, 8) OR NEAR(insure assets, 6) OR NEAR(liability insurance limits, 8) '
     'OR NEAR(insurance coverage, 3) OR "insurance policy" OR "insurance policies"'),
    ("warranty", r"\bwarrant(?:y|ies)\b", ["warranty", "Warranty Duration"], 'NEAR(warrant defects, 12) OR "warranty period"'),
    ("intellectual property ownership", r"\b(?:IP|intellectual\s+property)\s+(?:ownership|assignment)\b|\bownership\s+of\s+"
     r"(?:the\s+)?(?:IP|work\s+product|deliverables)\b", ["ip_ownership", "IP Ownership Assignment", "Joint IP Ownership"],
     '"work for hire" OR "works for hire" OR NEAR(own "intellectual property", 8) OR NEAR(assigns "intellectual property", 8)'),
    ("assignment", r"\banti[\s-]?assignment\b|\bassignment\b", ["assignment", "Anti-Assignment"],
     'NEAR(assign consent, 12) OR NEAR(assignment consent, 12)'),
    ("limitation of liability", r"\bliability\s+caps?\b|\bcaps?\s+on\s+liability\b|\blimitation\s+of\s+liability\b|"
     r"\blimits?\s+(?:of|on)\s+liability\b", ["Cap on Liability", "liability_cap", "limitation_of_liability"],
     '"limitation of liability" OR NEAR(liability exceed, 8) OR "in no event"'),
    ("post-termination services", r"\bpost[\s-]?termination\s+services?\b|\btransition\s+(?:assistance|services?)\b",
     ["Post-Termination Services"], '"transition assistance" OR "transition services" OR NEAR(termination wind, 6)'),
    ("confidentiality", r"\bconfidentiality\b", ["confidentiality"], '"confidential information" OR confidentiality'),
    ("governing law", r"\bgoverning\s+law\b|\bchoice\s+of\s+law\b", ["governing_law", "Governing Law"],
     '"governed by" OR "governing law"'),
    ("arbitration", r"\barbitrat\w*", [], 'arbitration OR arbitrator OR arbitral'),
    ("force majeure", r"\bforce\s+majeure\b|\bacts?\s+of\s+god\b", [], '"force majeure" OR "acts of god" OR "beyond its reasonable control"'),
    ("perpetual licence", r"\bperpetual\s+licen[cs]e\b|\birrevocable\s+licen[cs]e\b", ["Irrevocable or Perpetual License"],
     'NEAR(perpetual license, 6) OR NEAR(irrevocable license, 6)'),
    ("licence grant", r"\blicen[cs]e\s+grants?\b", ["License Grant"], 'NEAR(grants license, 6)'),
]]
TOPIC_BY_KEY = {t.key: t for t in TOPICS}

# how each kind typically reads in a contract (written for this search, not taken from any contract)
_EXAMPLES = {
    "most favoured nation": "The prices charged to Customer shall be no less favorable than the prices offered to any other customer.",
    "exclusivity": "The Company grants the Distributor the exclusive right to sell the Products in the Territory.",
    "non-compete": "During the term and for two years after, the Contractor shall not compete with the Company or develop a competing product.",
    "change of control": "Either party may terminate this Agreement upon a change of control of the other party by merger or acquisition.",
    "non-solicitation": "Neither party shall solicit or hire any employee of the other party during the term.",
    "audit rights": "The Customer shall have the right to audit the books, records and facilities of the Supplier.",
    "termination for convenience": "Either party may terminate this Agreement at any time for convenience without cause on thirty days' written notice.",
    "liquidated damages": "The breaching party shall pay the other party liquidated damages and not a penalty.",
    "minimum commitment": "The Buyer shall purchase a minimum order quantity of Products each year.",
    "first refusal": "The Company shall have a right of first refusal to purchase before any third party.",
    "source code escrow": "The Licensor shall deposit the source code with an escrow agent for release to the Licensee.",
    "revenue sharing": "Party B shall pay Party A a percentage share of the revenues generated under this Agreement.",
    "automatic renewal": "This Agreement shall automatically renew for successive one year terms unless either party gives notice of non-renewal.",
    "price increase": "The Supplier may increase the prices and fees on notice to the Customer.",
    "covenant not to sue": "The Licensee covenants not to sue the Licensor for infringement.",
    "third-party beneficiaries": "Nothing in this Agreement confers any rights on any third party beneficiary.",
    "indemnification": "Each party shall indemnify, defend and hold harmless the other party from third party claims.",
    "data protection": "The Processor shall process personal data only on documented instructions and protect it.",
    "insurance": "The Supplier shall maintain liability insurance coverage with limits of at least one million dollars.",
    "warranty": "The Supplier warrants that the products will be free from defects in materials and workmanship for ninety days.",
    "intellectual property ownership": "All work product and intellectual property created under this Agreement shall be owned by the Client.",
    "assignment": "Neither party may assign this Agreement without the prior written consent of the other party.",
    "limitation of liability": "In no event shall either party's total liability exceed the fees paid under this Agreement.",
    "post-termination services": "Upon termination the Supplier shall provide transition assistance services to the Customer.",
    "confidentiality": "Each party shall keep the other party's confidential information in confidence.",
    "governing law": "This Agreement shall be governed by the laws of the State.",
    "arbitration": "Any dispute arising out of this Agreement shall be resolved by binding arbitration.",
    "force majeure": "Neither party shall be liable for delay caused by force majeure events beyond its reasonable control.",
    "perpetual licence": "The Licensor grants a perpetual, irrevocable license to use the software.",
    "licence grant": "The Licensor grants the Licensee a non-exclusive license to use the software.",
}
for _topic in TOPICS:
    _topic.example = _EXAMPLES[_topic.key]


class ContractQuery(BaseModel):
    words: str | None = Field(default=None, max_length=300, description="words to find in the clauses (all, stemmed)")
    contract_type: str | None = None
    counterparty: str | None = None
    status: str | None = None
    term_end_from: date | None = None
    term_end_to: date | None = None
    notice_from: date | None = None
    notice_to: date | None = None
    value_min: float | None = None
    value_max: float | None = None
    governing_law: str | None = None
    has_clause: str | None = Field(default=None, description="a clause category the contract must have")
    topics: list[str] = Field(default_factory=list, description="clause kinds the query names (TOPICS keys: "
                              "'most favoured nation', 'change of control')")
    uncapped: bool = False
    limit: int = Field(default=20, ge=1, le=500)

    @property
    def meaning_text(self) -> str:
        """What a search by meaning compares the clauses with: the clause kinds named and the words left."""
        return " ".join([*(TOPIC_BY_KEY[k].example for k in self.topics if k in TOPIC_BY_KEY), self.words or ""]).strip()

    def read_as(self) -> dict:
        """The filters and words this query states (for showing how a plain-English query was read)."""
        return {k: v for k, v in self.model_dump(exclude={"limit"}).items() if v not in (None, False, [])}


def law_needle(law: str) -> str:
    """The words a filed governing law contains for the law a query names ('English' -> 'England'); matched
    without case."""
    name = " ".join(law.split())
    key = name.lower().removeprefix("the ").removesuffix(" law")
    return _LAWS.get(key, name)


def parse_query(text: str, today: date) -> ContractQuery:
    """Read the filters a plain-English query states; the words left over are searched in the clauses."""
    query, rest = ContractQuery(), " " + text + " "

    def take(pattern: str, flags: int = re.I) -> re.Match | None:
        nonlocal rest
        match = re.search(pattern, rest, flags)
        if match:
            rest = rest[:match.start()] + " " + rest[match.end():]
        return match

    if take(r"\b(?:uncapped|unlimited)\s+liability\b|\bliability\s+(?:is\s+)?(?:uncapped|unlimited)\b"):
        query.uncapped = True
    known = "|".join(re.escape(k) for k in sorted(_LAWS, key=len, reverse=True))
    # a law: a known one in any case ("english law"), else a capitalised name ("Delaware law", "governed by Ontario law")
    if m := take(rf"\b(?:governed\s+by\s+)?(?:the\s+laws?\s+of\s+)?(?P<law>{known})\s+law\b|\bunder\s+(?P<law3>{known})\s+law\b"):
        query.governing_law = law_needle(m.group("law") or m.group("law3"))
    elif m := take(r"(?i:\bgoverned\s+by\s+(?:the\s+laws?\s+of\s+)?(?:the\s+state\s+of\s+)?)?(?P<law>[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)"
                   r"\s+(?i:law)\b|(?i:\bgoverned\s+by\s+the\s+laws?\s+of\s+(?:the\s+state\s+of\s+)?)(?P<law2>[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)",
                   flags=0):
        named = m.group("law") or m.group("law2")
        if named.lower() in _NOT_A_LAW:
            rest += " " + m.group(0)  # "Governing law clauses", "Applicable law": words
        else:
            query.governing_law = law_needle(named)
    if m := take(r"\b(?:over|above|more\s+than|at\s+least)\s+(?:USD|\$|€|£|EUR|GBP)?\s?(?P<n>[\d,.]+)\s*(?P<k>k|m|million|thousand)?\b"):
        query.value_min = _amount(m.group("n"), m.group("k"))
    if m := take(r"\b(?:under|below|less\s+than)\s+(?:USD|\$|€|£|EUR|GBP)?\s?(?P<n>[\d,.]+)\s*(?P<k>k|m|million|thousand)?\b"):
        query.value_max = _amount(m.group("n"), m.group("k"))
    # a counterparty is a name: capitalised ("with Acme", "with IBM"), never "with applicable law"
    if m := take(r"(?i:\b(?:with|from)\s+)(?P<who>[A-Z][\w&.-]*(?:\s+(?:[A-Z][\w&.-]*|&|of|and)){0,4})", flags=0):
        who = re.sub(r"\s+(?:of|and|&)$", "", m.group("who").strip())
        if who.lower() not in _TYPES and who.lower() not in _STATUSES and not any(t.pattern.fullmatch(who) for t in TOPICS):
            query.counterparty = who
        else:
            rest += " " + m.group(0)
    notice = bool(re.search(r"\bnotice\s+(?:deadline|due)", rest, re.I))
    if m := take(r"\b(?:renew\w*|expir\w*|end\w*|notice\s+(?:deadline|due)s?)\s+(?:(?:in|within)\s+(?:the\s+)?)?"
                 r"(?P<when>next\s+quarter|this\s+quarter|next\s+month|this\s+month|next\s+year|this\s+year|"
                 r"(?:next\s+)?(?P<n>\d{1,3})\s+(?P<unit>days?|weeks?|months?))\b"):
        start, end = _window(m, today)
        if notice:
            query.notice_from, query.notice_to = start, end
        else:
            query.term_end_from, query.term_end_to = start, end
    for topic in TOPICS:
        if take(topic.said) and topic.key not in query.topics:
            query.topics.append(topic.key)
    for word in re.findall(r"[A-Za-z]+", rest):
        if (w := word.lower()) in _TYPES and query.contract_type is None:
            query.contract_type = _TYPES[w]
            rest = re.sub(rf"\b{word}\b", " ", rest, count=1)
        elif w in _STATUSES and query.status is None:
            query.status = _STATUSES[w]
            rest = re.sub(rf"\b{word}\b", " ", rest, count=1)
    words = [w for w in re.findall(r"\w+", rest.lower()) if w not in _STOP and len(w) > 1]
    query.words = " ".join(words) or None
    return query


def _amount(number: str, scale: str | None) -> float:
    value = float(number.replace(",", "").rstrip("."))
    return value * {"k": 1e3, "thousand": 1e3, "m": 1e6, "million": 1e6}.get((scale or "").lower(), 1)


def _window(match: re.Match, today: date) -> tuple[date, date]:
    when = " ".join(match.group("when").lower().split())
    quarter_start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    month_start = today.replace(day=1)
    if when == "next quarter":
        start = quarter_start + relativedelta(months=3)
        return start, start + relativedelta(months=3) - timedelta(days=1)
    if when == "this quarter":
        return today, quarter_start + relativedelta(months=3) - timedelta(days=1)
    if when == "next month":
        start = month_start + relativedelta(months=1)
        return start, start + relativedelta(months=1) - timedelta(days=1)
    if when == "this month":
        return today, month_start + relativedelta(months=1) - timedelta(days=1)
    if when == "next year":
        return date(today.year + 1, 1, 1), date(today.year + 1, 12, 31)
    if when == "this year":
        return today, date(today.year, 12, 31)
    n, unit = int(match.group("n")), match.group("unit").lower().rstrip("s")
    return today, today + {"day": relativedelta(days=n), "week": relativedelta(weeks=n), "month": relativedelta(months=n)}[unit]
