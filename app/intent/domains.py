"""The canonical subject-matter vocabulary: one name per content domain, its synonyms in six languages.

``subject_matter`` is the domain of the *content* the deployment serves (legal contracts, patient records,
bank customers), not the kind of text (product descriptions, support tickets) or a word said in passing.
Each domain has two lists of cues, matched on the extractor's normalised (lower-case) text:

- ``strong``: the domain named ('healthcare', 'fintech', *Versicherung*, *sanità*, '(e-commerce)') or an
  organisation that is the domain ('law firm', 'hospital', 'bank', *cabinet d'avocats*). A strong cue sets
  the field; the classifier's 'states no domain' vote does not remove it (the English MiniLM reads Dutch or
  Portuguese domain words poorly, and an explicit domain word is the person's own label).
- ``weak``: words that usually come with the domain (lawyers, patients, students, contracts). A weak cue
  proposes the domain; the classifier removes it when its examples say, with a margin, that such
  messages state no domain.

A cue is ignored when it is negated ('not for healthcare or legal'), a comparison ('like a lawyer would'),
or about something tried and dropped ('we tried a legal-tech vendor'): a wrong domain is worse than none.
Synonyms (``SUBJECT_ALIASES``) map the names labellers use ('medical', 'banking', 'news') to one canonical
name, and the evaluation compares subjects through them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from app.intent.fastsearch import search as fast_search


@dataclass(frozen=True)
class Domain:
    name: str
    aliases: tuple[str, ...]  # other names for the same label
    strong: str  # regex alternatives
    weak: str = ""


DOMAINS: tuple[Domain, ...] = (
    Domain(
        "legal",
        ("law", "legal services", "legal tech"),
        r"legal\b|legaltech|juridi\w*|jurídi\w*|giuridi\w*|juristi\w*|rechtlich\w*|rechtsabteilung|litigation",
        r"law ?firms?|law (?:domain|practice|office)s?\b|kanzlei|cabinet d'(?:avocats|lawyers)|bufete|"
        r"escritório de advocacia|studio legale|advocatenkantoor|lawyers|attorneys|paralegals|contracts\b|"
        r"compliance documents",
    ),
    Domain(
        "healthcare",
        ("medical", "health", "health care", "clinical", "pharma", "medicine"),
        r"healthcare|health care|healthtech|medtech|"
        r"medical (?:domain|sector|field|industry)|sanità|sanitari[oa]|"
        r"gesundheitswesen|santé|salud\b|saúde|gezondheidszorg|zorg\b",
        r"medical|clinical|médic\w*|hospitals?|clinics?\b|pharma\w*|krankenhaus|klinik\w*|hôpital|"
        r"ziekenhuis|ospedal\w*|patients?|doctors|clinicians|physicians|nurses|ärzte|médecins",
    ),
    Domain(
        "finance",
        ("banking", "financial services", "fintech", "financial", "wealth management", "accounting"),
        r"financ\w*|fintech|banking|retail bank|wealth[- ]management|asset management|finanz\w*|finanças|"
        r"finanzas|"
        r"accounting",
        r"banks?\b|banque|banca\b|banken|trading|traders|bankers|accountants|auditors",
    ),
    Domain(
        "insurance",
        ("insurer",),
        r"insurance|insurer|insurtech|underwrit\w*|policyholders?|versicherung\w*|aseguradora|seguros?\b|assicura\w*|"
        r"verzeker\w*|seguradora",
        r"claims? (?:adjusters?|processing|handling|handlers)|adjusters",
    ),
    Domain(
        "e-commerce",
        ("ecommerce", "retail", "online retail", "online shop"),
        r"e-?commerce|retail\w*(?! bank)|commerce en ligne|comercio electrónico|commercio elettronico|varejo|"
        r"einzelhandel",
        r"online[- ](?:store|shop)s?|webshop|webwinkel|onlineshop|online-shop|boutique en ligne|"
        r"tienda (?:online|en línea)|loja online|negozio online|shoppers|product catalog",
    ),
    Domain(
        "education",
        ("edtech", "e-learning", "teaching", "tutoring"),
        r"education\w*|edtech|e-?learning|istruzione|éducation|educación|educação|onderwijs|bildungs?\w*",
        r"schools?\b|universit\w*|tutor\w*|scuola|école|escuela|escola|bootcamp|students|teachers|learners|"
        r"course\b",
    ),
    Domain(
        "travel",
        ("hospitality", "tourism", "travel and hospitality", "hotels", "airline"),
        r"travel\b|touris\w*|hospitality|tourisme|turismo",
        r"hotels?\b|airlines?|booking site",
    ),
    Domain(
        "news and media",
        ("news", "media", "publishing", "journalism", "entertainment"),
        r"\(news\)|news (?:domain|industry|sector)|journalism|news ?(?:room|organi[sz]ation|outlet|publisher|"
        r"agency|media)s?\b",
        r"news ?(?:site|company|desk|app|website|portal)s?\b|journalis\w*|media company|publishing|"
        r"publishers?\b|broadcast\w*",
    ),
    Domain(
        "telecom",
        ("telecommunications", "telco"),
        r"telecom\w*|telco\b|telekommunikation|télécom\w*|telecomunicaciones|telecomunicações|"
        r"telecomunicazioni",
        r"mobile operator|network operator",
    ),
    Domain(
        "government",
        ("public sector", "public administration", "municipality"),
        r"government\w*|public sector|public administration|administration publique|"
        r"administración pública|pubblica amministrazione|öffentliche verwaltung",
        r"municipal\w*|city council|gemeente|gemeinde|behörde|mairie|ayuntamiento|prefeitura|ministry|"
        r"federal agency|citizens|residents|inwoners|bürger",
    ),
    Domain(
        "manufacturing",
        ("industrial", "industry", "factory"),
        r"manufactur\w*",
        r"factory|factories|industrial|fertigung|fabrik|usine|fábrica|fabbrica|fabriek",
    ),
    Domain(
        "energy",
        ("utilities", "energy and utilities", "oil and gas"),
        r"energy (?:utility|sector|industry|domain)|oil (?:and|&) gas|utilities sector",
        r"energy (?:company|provider)|utility (?:company|provider)|power grid|energieversorger|"
        r"energiebedrijf",
    ),
    Domain(
        "logistics",
        ("shipping", "supply chain", "transportation", "freight"),
        r"logisti\w*|supply chain",
        r"freight|shipment\w*|spedition|trucking|warehous\w*|dispatchers",
    ),
    Domain(
        "real estate",
        ("property", "proptech"),
        r"real[- ]estate|immobilien|immobilier|inmobiliari\w*|imobiliári\w*|immobiliar\w*",
        r"property (?:listings|management)|realtors?|makelaar",
    ),
    Domain(
        "human resources",
        ("hr", "recruiting", "people operations"),
        r"human resources|ressources humaines|recursos humanos|risorse umane",
        r"(?<![/\d])(?<!\d )(?<!per )(?<!an )hr\b|recruit\w*|payroll|personalabteilung|employee handbook|"
        r"hiring",
    ),
    Domain(
        "research",
        ("science", "scientific research", "academia", "academic research"),
        r"scientific research|academic research|recherche scientifique|investigación científica|"
        r"pesquisa científica|ricerca scientifica",
        r"research (?:lab|institute|group|team|center|centre)s?\b|science (?:institute|lab)s?|"
        r"(?<!data )scientists|"
        r"researchers|forschung\w*",
    ),
    Domain(
        "marketing",
        ("advertising", "media and marketing"),
        r"marketing (?:domain|sector|industry|agency)|advertising (?:domain|sector|industry|agency)",
        r"marketing|advertis\w*|ad agency|werbung|publicité|publicidad|pubblicità|publicidade|reclame",
    ),
    Domain(
        "gaming",
        ("games", "video games"),
        r"gaming (?:domain|industry|sector|company|studio)|video game (?:studio|company|industry)",
        r"gaming|video games?|game (?:studio|company|developers?|devs?|servers?|world|community)s?\b|npcs?\b|"
        r"players|games\b",
    ),
    Domain(
        "software engineering",
        ("software development", "programming", "software"),
        r"software (?:development|engineering) (?:domain|company|firm)",
        r"codebase|source code|programming|pull requests|prs\b",
    ),
    Domain(
        "it operations",
        ("it", "devops", "it support"),
        r"it (?:support|ops|operations|helpdesk)|devops",
        r"sre\b|on-call|incident\w*|logs\b",
    ),
    # A function more than a domain: named alone it is the domain; with an industry, the industry wins.
    Domain(
        "customer support",
        ("customer service", "customer care", "support", "call center", "contact center", "helpdesk"),
        r"customer (?:support|service|care)(?! (?:tickets?|transcripts?|emails?|calls?|logs?|agents?))|"
        r"support domain",
        r"help[- ]?desk|contact (?:center|centre)|call[- ]?(?:center|centre)|"
        r"support (?:agents|team|bot|assistant|chatbot|tickets|desk|chat|knowledge ?base|docs|articles|"
        r"knowledge)|"
        r"customer (?:tickets|calls)|support logs|"
        r"servicio al cliente|atendimento ao cliente|assistenza clienti|klantenservice",
    ),
    Domain(
        "internal documentation",
        ("internal docs", "knowledge management"),
        "",
        r"internal (?:docs|documentation|wiki)|(?:our|company) wiki|confluence|documentation|handbook",
    ),
)

_LAST_RESORT = frozenset({"customer support", "internal documentation"})

# A cue in one of these frames is not the content's domain.
_PASSING_BEFORE = re.compile(
    r"(?:\blike an?|\bas an?|\bunlike|\bnot for|\bnot|\bno|\bnor|\bnever|\bwithout|\bexcept|\bother than|"
    r"\brather than|\binstead of|\btried|\bused to|\bmoved away from|\bswitched from)\s+"
    r"(?:(?:a|an|the|any|some|our|or|and|for|\w+-?\w*)\s+){0,3}$"
)
_PASSING_AFTER = re.compile(r"^\S*\s+(?:person|people|would|does|did|might)\b|^[- ]?tech vendor")


@dataclass(frozen=True)
class DomainHit:
    name: str
    strong: bool
    start: int
    source: str


@lru_cache(maxsize=1)
def _compiled() -> tuple[tuple[Domain, re.Pattern[str] | None, re.Pattern[str] | None], ...]:
    return tuple(
        (
            d,
            re.compile(rf"\b(?:{d.strong})") if d.strong else None,
            re.compile(rf"\b(?:{d.weak})") if d.weak else None,
        )
        for d in DOMAINS
    )


def _in_passing(t: str, m: re.Match[str]) -> bool:
    before = t[max(0, m.start() - 40) : m.start()]
    before = re.split(r"[.;:!?,()\n]", before)[-1]
    return bool(_PASSING_BEFORE.search(before) or _PASSING_AFTER.match(t[m.end() : m.end() + 20]))


def find_domain(t: str) -> DomainHit | None:
    """The content domain a normalised text states: the first strong cue, else the first weak one."""
    best: DomainHit | None = None
    for domain, strong, weak in _compiled():
        for rx, raw, is_strong in ((strong, domain.strong, True), (weak, domain.weak, False)):
            # The literal pre-check (the pattern without its leading word boundary matches a superset).
            if rx is None or not fast_search(raw, t):
                continue
            for m in rx.finditer(t):
                if _in_passing(t, m):
                    continue
                hit = DomainHit(domain.name, is_strong, m.start(), m.group(0))
                if best is None or _rank(hit) > _rank(best):
                    best = hit
                break
    return best


def _rank(hit: DomainHit) -> tuple[bool, bool, bool, int]:
    # An industry named beats a function ('customer support') or 'internal documentation', but the function
    # named beats an industry only suggested ('customer support chatbot for our e-shop'); then a strong cue
    # beats a weak one; then the first named.
    return (hit.name not in _LAST_RESORT or hit.strong, hit.strong, hit.name not in _LAST_RESORT, -hit.start)


@lru_cache(maxsize=1)
def subject_aliases() -> dict[str, str]:
    """Every name a labeller may use for a domain -> its canonical name."""
    out: dict[str, str] = {}
    for d in DOMAINS:
        out[d.name] = d.name
        for a in d.aliases:
            out[a] = d.name
    return out
