"""A small German / French / Spanish / Dutch / Italian / Portuguese lexicon for the English rules.

:func:`to_english` rewrites, in lower-cased text, the foreign words the rules care about into the English
words they already understand: number words ('zweitausend' -> 'two thousand', 'cinco mil' -> 'five
thousand'), units of time after a number or after 'pro/par/por' ('2 Sekunden' -> '2 seconds', 'pro
Stunde' -> 'per hour'), user and request nouns ('Nutzer' -> 'users', 'Anfragen' -> 'requests') and a few
task and latency phrases ('Übersetzung' -> 'translation', 'Antwortzeit unter' -> 'response time under').

Words that are also English words ('once', 'elf', 'cent', 'dos', 'tag', 'pro') are only rewritten where
the context makes the foreign meaning certain, so English text passes through unchanged.
"""

from __future__ import annotations

import re

_LETTERS = r"a-zäöüßàâçéèêëîïôûùüÿñáíóúãõòì"

# Foreign number words -> English number words. Values are English words so that the English parser does
# the arithmetic ('deux cent mille' -> 'two hundred thousand' -> 200000).
_NUMBER_WORDS: dict[str, str] = {
    # German (compounds such as 'zweihundertfünfzig' are split into these parts).
    "null": "zero",
    "ein": "one",
    "eins": "one",
    "eine": "one",
    "einen": "one",
    "zwei": "two",
    "drei": "three",
    "vier": "four",
    "fünf": "five",
    "fuenf": "five",
    "sechs": "six",
    "sieben": "seven",
    "acht": "eight",
    "neun": "nine",
    "zehn": "ten",
    "elf": "eleven",
    "zwölf": "twelve",
    "zwoelf": "twelve",
    "sechzehn": "sixteen",
    "siebzehn": "seventeen",
    "zwanzig": "twenty",
    "dreißig": "thirty",
    "dreissig": "thirty",
    "vierzig": "forty",
    "fünfzig": "fifty",
    "fuenfzig": "fifty",
    "sechzig": "sixty",
    "siebzig": "seventy",
    "achtzig": "eighty",
    "neunzig": "ninety",
    "hundert": "hundred",
    "tausend": "thousand",
    "million": "million",
    "millionen": "million",
    "milliarde": "billion",
    "milliarden": "billion",
    # French.
    "un": "one",
    "une": "one",
    "deux": "two",
    "trois": "three",
    "quatre": "four",
    "cinq": "five",
    "sept": "seven",
    "huit": "eight",
    "neuf": "nine",
    "dix": "ten",
    "onze": "eleven",
    "douze": "twelve",
    "quinze": "fifteen",
    "vingt": "twenty",
    "trente": "thirty",
    "quarante": "forty",
    "cinquante": "fifty",
    "soixante": "sixty",
    "cent": "hundred",
    "cents": "hundred",
    "mille": "thousand",
    "millions": "million",
    "milliard": "billion",
    "milliards": "billion",
    # Spanish.
    "uno": "one",
    "una": "one",
    "dos": "two",
    "tres": "three",
    "cuatro": "four",
    "cinco": "five",
    "seis": "six",
    "siete": "seven",
    "ocho": "eight",
    "nueve": "nine",
    "diez": "ten",
    "once": "eleven",
    "doce": "twelve",
    "quince": "fifteen",
    "veinte": "twenty",
    "treinta": "thirty",
    "cuarenta": "forty",
    "cincuenta": "fifty",
    "sesenta": "sixty",
    "setenta": "seventy",
    "ochenta": "eighty",
    "noventa": "ninety",
    "cien": "hundred",
    "ciento": "hundred",
    "cientos": "hundred",
    "doscientos": "two hundred",
    "trescientos": "three hundred",
    "cuatrocientos": "four hundred",
    "quinientos": "five hundred",
    "seiscientos": "six hundred",
    "setecientos": "seven hundred",
    "ochocientos": "eight hundred",
    "novecientos": "nine hundred",
    "mil": "thousand",
    "millón": "million",
    "millon": "million",
    "millones": "million",
    # Dutch (compounds such as 'tweeduizend' and 'vijfhonderd' are split like the German ones).
    "een": "one",
    "twee": "two",
    "drie": "three",
    "vijf": "five",
    "zes": "six",
    "zeven": "seven",
    "negen": "nine",
    "tien": "ten",
    "twaalf": "twelve",
    "twintig": "twenty",
    "dertig": "thirty",
    "veertig": "forty",
    "vijftig": "fifty",
    "zestig": "sixty",
    "zeventig": "seventy",
    "tachtig": "eighty",
    "negentig": "ninety",
    "honderd": "hundred",
    "duizend": "thousand",
    "miljoen": "million",
    "miljard": "billion",
    # Italian ('duemila', 'cinquecento' are compounds).
    "due": "two",
    "tre": "three",
    "quattro": "four",
    "cinque": "five",
    "sei": "six",
    "sette": "seven",
    "otto": "eight",
    "nove": "nine",
    "dieci": "ten",
    "venti": "twenty",
    "trenta": "thirty",
    "quaranta": "forty",
    "cinquanta": "fifty",
    "cento": "hundred",
    "mila": "thousand",
    "milione": "million",
    "milioni": "million",
    # Portuguese.
    "um": "one",
    "dois": "two",
    "duas": "two",
    "três": "three",
    "sete": "seven",
    "oito": "eight",
    "dez": "ten",
    "vinte": "twenty",
    "cem": "hundred",
    "duzentos": "two hundred",
    "trezentos": "three hundred",
    "quinhentos": "five hundred",
    "milhão": "million",
    "milhões": "million",
}
# Also English words (or English abbreviations: '5 mil' is 5 million in English): only rewritten inside a
# run of number words that also holds an unambiguous one, or that ends in a scale word ('dos mil').
_AMBIGUOUS = frozenset(
    {
        "ein",
        "eine",
        "einen",
        "un",
        "une",
        "uno",
        "una",
        "elf",
        "once",
        "dos",
        "cent",
        "cents",
        "mil",
        "sept",
        "null",
        "million",
        "six",
        "quince",
        "due",
        "um",
        "ten",
        "tien",
        "een",
        "venti",
        "otto",
        "nove",
        "mila",
        "cento",
        "cem",
        "sei",
    }
)
_SCALES = frozenset(
    {
        "hundert",
        "tausend",
        "millionen",
        "milliarde",
        "milliarden",
        "mille",
        "millions",
        "milliard",
        "milliards",
        "mil",
        "millón",
        "millon",
        "millones",
        "million",
        "cent",
        "cents",
        "cien",
        "ciento",
        "cientos",
        "honderd",
        "duizend",
        "miljoen",
        "miljard",
        "cento",
        "mila",
        "milione",
        "milioni",
        "cem",
        "milhão",
        "milhões",
    }
)
_CONNECTORS = frozenset({"und", "et", "y", "e"})

_GERMAN_PARTS = sorted(
    (w for w in _NUMBER_WORDS if re.fullmatch(r"[a-zäöüß]+", w) and w not in ("un", "une", "dos")),
    key=len,
    reverse=True,
)
_GERMAN_COMPOUND_RE = re.compile("(?:" + "|".join([*_GERMAN_PARTS, "und"]) + ")")
_WORD_RE = re.compile(rf"[{_LETTERS}]+")


def _split_compound(word: str) -> list[str] | None:
    """'zweihundertfünfzig' -> ['zwei', 'hundert', 'fünfzig']; None when the word is not a number."""
    if len(word) < 7 or not word.isalpha():
        return None
    parts: list[str] = []
    pos = 0
    while pos < len(word):
        m = _GERMAN_COMPOUND_RE.match(word, pos)
        if not m:
            return None
        parts.append(m.group(0))
        pos = m.end()
    # A real compound has a scale or a '-zig' / '-zehn' / '-tig' part ('zweitausend', 'fünfundzwanzig',
    # 'tweeduizend', 'duemila').
    if len(parts) < 2 or not any(
        p in _SCALES or p.endswith(("zig", "ßig", "ssig", "zehn", "tig")) for p in parts
    ):
        return None
    return parts


def _number_runs(text: str) -> str:
    tokens = list(_WORD_RE.finditer(text))
    out: list[str] = []
    last = 0
    i = 0
    while i < len(tokens):
        run: list[tuple[int, int, list[str]]] = []  # (start, end, foreign words)
        j = i
        while j < len(tokens):
            tok = tokens[j]
            word = tok.group(0)
            parts = [word] if word in _NUMBER_WORDS else _split_compound(word)
            if parts is None and not (run and word in _CONNECTORS):
                break
            # Only spaces or hyphens may join the words of one number.
            if run and not re.fullmatch(r"[\s-]+", text[run[-1][1] : tok.start()]):
                break
            run.append((tok.start(), tok.end(), parts or [word]))
            j += 1
        while run and run[-1][2][0] in _CONNECTORS:
            run.pop()
        if not run:
            i += 1
            continue
        words = [w for _, _, parts in run for w in parts]
        foreign = [w for w in words if w not in _CONNECTORS]
        certain = any(w not in _AMBIGUOUS for w in foreign) or (len(foreign) > 1 and foreign[-1] in _SCALES)
        # A lone 'million' / 'six' reads the same in English: nothing to do.
        if certain and not all(_NUMBER_WORDS.get(w) == w for w in foreign):
            english = " ".join(_NUMBER_WORDS.get(w, "and") for w in words)
            out.append(text[last : run[0][0]])
            out.append(english)
            last = run[-1][1]
        i += len(run)
    out.append(text[last:])
    return "".join(out)


_UNITS = {
    "sekunde": "second",
    "sekunden": "seconds",
    "seconde": "second",
    "secondes": "seconds",
    "segundo": "second",
    "segundos": "seconds",
    "millisekunden": "milliseconds",
    "millisecondes": "milliseconds",
    "milisegundos": "milliseconds",
    "minute": "minute",
    "minuten": "minutes",
    "minutes": "minutes",
    "minuto": "minute",
    "minutos": "minutes",
    "stunde": "hour",
    "stunden": "hours",
    "heure": "hour",
    "heures": "hours",
    "hora": "hour",
    "horas": "hours",
    "tag": "day",
    "tage": "days",
    "tagen": "days",
    "jour": "day",
    "jours": "days",
    "día": "day",
    "dia": "day",
    "días": "days",
    "dias": "days",
    "woche": "week",
    "semaine": "week",
    "semana": "week",
    "monat": "month",
    "mois": "month",
    "mes": "month",
    "mês": "month",
    "mese": "month",
    "maand": "month",
    "seconden": "seconds",
    "secondi": "seconds",
    "minuti": "minutes",
    "uur": "hour",
    "ora": "hour",
    "ore": "hours",
    "dag": "day",
    "dagen": "days",
    "giorno": "day",
    "giorni": "days",
    "settimana": "week",
    "secondo": "second",
    "seconda": "second",
    "jahre": "years",
    "jahren": "years",
    "ans": "years",
    "años": "years",
    "anos": "years",
    "anni": "years",
    "jaar": "years",
}
_UNIT_ALT = "|".join(sorted(_UNITS, key=len, reverse=True))
# 'pro Stunde', 'par seconde', 'por día', 'je Tag', 'al mes', 'à la seconde', 'per maand', 'por mês'.
_PER_UNIT_RE = re.compile(
    rf"\b(?:pro|par|por|je|al|ao|à la|a la|au|à l'|a l'|all'|alla|al)\s*({_UNIT_ALT})(?![{_LETTERS}])"
    # Dutch / Italian 'per' is also English: only before their own units ('per maand'; 'per tag' stays).
    rf"|\bper\s*(maand|mese|uur|ora|ore|dag|dagen|giorno|settimana|seconde|seconden|secondi|minuti)"
    rf"(?![{_LETTERS}])"
)
_NUMBER_UNIT_RE = re.compile(rf"(?<![\w.])(\d+(?:[.,]\d+)?)\s*({_UNIT_ALT})(?![{_LETTERS}])")

# Words with no English reading, rewritten wherever they appear.
_PHRASES: dict[str, str] = {
    # people
    "nutzer": "users",
    "nutzern": "users",
    "benutzer": "users",
    "benutzern": "users",
    "anwender": "users",
    "utilisateurs": "users",
    "utilisateur": "users",
    "usuarios": "users",
    "usuario": "users",
    "mitarbeiter": "employees",
    "mitarbeitern": "employees",
    "mitarbeitende": "employees",
    "employés": "employees",
    "salariés": "employees",
    "empleados": "employees",
    "entwickler": "developers",
    "entwicklern": "developers",
    "développeurs": "developers",
    "desarrolladores": "developers",
    "kunden": "customers",
    "clientes": "customers",
    "gebruikers": "users",
    "utenti": "users",
    "usuários": "users",
    "utilizadores": "users",
    "medewerkers": "employees",
    "werknemers": "employees",
    "dipendenti": "employees",
    "funcionários": "employees",
    "ontwikkelaars": "developers",
    "sviluppatori": "developers",
    "desenvolvedores": "developers",
    "klanten": "customers",
    "clienti": "customers",
    # requests
    "anfragen": "requests",
    "anfrage": "request",
    "requêtes": "requests",
    "requetes": "requests",
    "requête": "request",
    "demandes": "requests",
    "peticiones": "requests",
    "solicitudes": "requests",
    "consultas": "queries",
    "verzoeken": "requests",
    "aanvragen": "requests",
    "richieste": "requests",
    "requisições": "requests",
    # money
    "dólares": "dollars",
    "dollari": "dollars",
    "orçamento": "budget",
    "begroting": "budget",
    # latency
    "antwortzeit": "response time",
    "antwortzeiten": "response time",
    "reaktionszeit": "response time",
    "latenz": "latency",
    "latence": "latency",
    "latencia": "latency",
    "temps de réponse": "response time",
    "tiempo de respuesta": "response time",
    "unter": "under",
    "moins de": "under",
    "menos de": "under",
    "höchstens": "at most",
    "latentie": "latency",
    "latenza": "latency",
    "latência": "latency",
    "bassa latenza": "low latency",
    "latenza bassa": "low latency",
    "baixa latência": "low latency",
    "latência baixa": "low latency",
    "lage latentie": "low latency",
    "è": "is",
    "é": "is",
    "fondamentale": "critical",
    "essenziale": "essential",
    "essencial": "essential",
    "cruciaal": "crucial",
    "essentieel": "essential",
    "onder": "under",
    "sotto": "under",
    # tasks and subjects
    "übersetzung": "translation",
    "übersetzungen": "translations",
    "übersetzen": "translate",
    "traduction": "translation",
    "traductions": "translations",
    "traduire": "translate",
    "traducción": "translation",
    "traducciones": "translations",
    "traducir": "translate",
    "zusammenfassung": "summarization",
    "zusammenfassungen": "summaries",
    "zusammenfassen": "summarize",
    "resúmenes": "summaries",
    "resumir": "summarize",
    "vertaling": "translation",
    "vertalen": "translate",
    "traduzione": "translation",
    "tradurre": "translate",
    "tradução": "translation",
    "traduzir": "translate",
    "samenvatting": "summarization",
    "samenvattingen": "summaries",
    "riassunto": "summarization",
    "riassunti": "summaries",
    "resumo": "summary",
    "resumos": "summaries",
    "kundenservice": "customer support",
    "kundendienst": "customer support",
    "kundensupport": "customer support",
    "support client": "customer support",
    "service client": "customer support",
    "service clients": "customer support",
    "atención al cliente": "customer support",
    "servicio al cliente": "customer support",
    "soporte al cliente": "customer support",
    # domains
    "juridische": "legal",
    "juridisch": "legal",
    "juristische": "legal",
    "juristischen": "legal",
    "juridique": "legal",
    "juridiques": "legal",
    "jurídico": "legal",
    "jurídicos": "legal",
    "jurídicas": "legal",
    "giuridico": "legal",
    "giuridici": "legal",
    # how users are counted
    "gleichzeitige": "concurrent",
    "gleichzeitigen": "concurrent",
    "gleichzeitig": "concurrent",
    "simultanés": "concurrent",
    "simultanées": "concurrent",
    "simultáneos": "concurrent",
    "simultâneos": "concurrent",
    "contemporanei": "concurrent",
    "simultanei": "concurrent",
    "gelijktijdige": "concurrent",
    "diarios": "daily",
    "diarias": "daily",
    "diários": "daily",
    "diárias": "daily",
    "tägliche": "daily",
    "täglichen": "daily",
    "quotidiens": "daily",
    "journaliers": "daily",
    "giornalieri": "daily",
    "dagelijkse": "daily",
    "documente": "documents",
    "dokumente": "documents",
    "documenti": "documents",
    "documenten": "documents",
    # hardware, renting and buying
    "besitzen": "own",
    "possédons": "own",
    "possediamo": "own",
    "poseemos": "own",
    "bezitten": "own",
    "possuímos": "own",
    "tenemos": "we have",
    "propias": "owned",
    "propios": "owned",
    "eigene": "own",
    "eigenen": "own",
    "keine": "no",
    "niente": "no",
    "nessuna": "no",
    "ningún": "no",
    "ninguna": "no",
    "nenhuma": "no",
    "nenhum": "no",
    "geen": "no",
    "alleen": "only",
    "nur": "only",
    "uniquement": "only",
    "seulement": "only",
    "somente": "only",
    "maximaal": "at most",
    "maximal": "at most",
    "massimo": "at most",
    "loue": "rent",
    "louons": "rent",
    "louer": "rent",
    "alquilar": "rent",
    "alquilamos": "rent",
    "alugar": "rent",
    "mieten": "rent",
    "huren": "rent",
    "noleggiare": "rent",
    "comprar": "buy",
    "servidores": "servers",
    "serveurs": "servers",
    "servern": "servers",
    "kaufen": "buy",
    "acheter": "buy",
    "kopen": "buy",
    "acquistare": "buy",
    "centro de datos": "datacenter",
    "rechenzentrum": "datacenter",
    "centre de données": "datacenter",
    "de l'heure": "per hour",
    # batch runs
    "jede nacht": "every night",
    "chaque nuit": "every night",
    "cada noche": "every night",
    "cada noite": "every night",
    "elke nacht": "every night",
    "ogni notte": "every night",
    "em lote": "in batch",
    "en lote": "in batch",
    "janela de": "window of",
    "ventana de": "window of",
    # latency words
    "premier token": "first token",
    "primer token": "first token",
    "primeiro token": "first token",
    "primo token": "first token",
    "eerste token": "first token",
    "erste token": "first token",
    "ersten token": "first token",
    "sous": "under",
    "abaixo de": "under",
    "por token": "per token",
    "par token": "per token",
    "pro token": "per token",
    # priorities
    "la prioridad es el costo": "cost is the top priority",
    "la priorité est le coût": "cost is the top priority",
    "la priorità è il costo": "cost is the top priority",
    # negators: one list per language, so that one English negation-scope rule reads them all
    "kein": "no",
    "keinen": "no",
    "keinesfalls": "not",
    "nicht": "not",
    "pas de": "no",
    "pas d'": "no",
    "aucun": "no",
    "aucune": "no",
    "sans": "without",
    "sauf": "except",
    "ne pas": "not",
    "ningunas": "no",
    "ningunos": "no",
    "excepto": "except",
    "salvo": "except",
    "niet": "not",
    "behalve": "except",
    "zonder": "without",
    "nessun": "no",
    "nessuno": "no",
    "senza": "without",
    "tranne": "except",
    "eccetto": "except",
    "não": "not",
    "sem": "without",
    "exceto": "except",
    "außer": "except",
    "ausser": "except",
    "ohne": "without",
    "liever geen": "rather no",
    # owning and having
    "wir haben": "we have",
    "nous avons": "we have",
    "temos": "we have",
    "abbiamo": "we have",
    "hebben we": "we have",
    "wij hebben": "we have",
    "bereits": "already",
    "déjà": "already",
    "já": "already",
    "ya": "already",
    "già": "already",
    "notre propre": "our own",
    "nos propres": "our own",
    "nuestro propio": "our own",
    "nuestros propios": "our own",
    "nosso próprio": "our own",
    "nossos próprios": "our own",
    "im eigenen": "in our own",
    "in unserem eigenen": "in our own",
    "onze eigen": "our own",
    "nostro": "our",
    "próprias": "owned",
    "próprios": "owned",
    "mit je": "with",
    "mit jeweils": "with",
    "avec": "with",
    "chacun": "each",
    "chacune": "each",
    "jeweils": "each",
    "cada uno": "each",
    "ciascuno": "each",
    # every night / week / month, batches and their windows
    "nachtelijke": "nightly",
    "nächtliche": "nightly",
    "nächtlichen": "nightly",
    "nächtlich": "nightly",
    "toda noite": "every night",
    "todas as noites": "every night",
    "todas las noches": "every night",
    "toutes les nuits": "every night",
    "chaque semaine": "every week",
    "cada semana": "every week",
    "toda semana": "every week",
    "jede woche": "every week",
    "elke week": "every week",
    "ogni settimana": "every week",
    "wöchentlich": "weekly",
    "hebdomadaire": "weekly",
    "semanal": "weekly",
    "settimanale": "weekly",
    "wekelijks": "weekly",
    "une fois par mois": "once a month",
    "chaque mois": "every month",
    "cada mes": "every month",
    "todo mês": "every month",
    "jeden monat": "every month",
    "elke maand": "every month",
    "ogni mese": "every month",
    "monatlich": "monthly",
    "mensuel": "monthly",
    "mensual": "monthly",
    "mensile": "monthly",
    "maandelijks": "monthly",
    "en un seul lot": "in one batch",
    "in einem batch": "in one batch",
    "binnen": "within",
    "entro": "within",
    "innerhalb von": "within",
    "innerhalb": "within",
    "dentro de": "within",
    "em até": "within",
    "en moins de": "in under",
    "em menos de": "in under",
    "in meno di": "in under",
    "in weniger als": "in under",
    "in minder dan": "in under",
    # items of a batch
    "phrases": "sentences",
    "frases": "sentences",
    "zinnen": "sentences",
    "sätze": "sentences",
    "correos": "emails",
    "e-mails": "emails",
    "mensajes": "messages",
    "itens": "items",
    "artículos": "articles",
    "artigos": "articles",
    "articoli": "articles",
    "produits": "products",
    "produtos": "products",
    "productos": "products",
    "prodotti": "products",
    "produkte": "products",
    "documentos": "documents",
    "dokumenten": "documents",
    "descrições": "descriptions",
    "descripciones": "descriptions",
    "descrizioni": "descriptions",
    "beschreibungen": "descriptions",
    "beschrijvingen": "descriptions",
    # what the job does
    "résumer": "summarize",
    "resumer": "summarize",
    "riassumere": "summarize",
    "samenvatten": "summarize",
    "gerar": "generate",
    "générer": "generate",
    "generar": "generate",
    "generare": "generate",
    "genereren": "generate",
    "generieren": "generate",
    "erstellen": "generate",
    "generación": "generation",
    "génération": "generation",
    "geração": "generation",
    "generazione": "generation",
    "generierung": "generation",
    "código": "code",
    "codice": "code",
    "vervollständigung": "completion",
    "complétion": "completion",
    "autocompletado": "autocomplete",
    "autocompletamento": "autocomplete",
    "übersetzungsdienst": "translation service",
    "classificeren": "classify",
    "klassifizieren": "classify",
    "classifier": "classify",
    "clasificar": "classify",
    "classificar": "classify",
    "classificare": "classify",
    "perguntas e respostas": "question answering",
    "preguntas y respuestas": "question answering",
    "questions-réponses": "question answering",
    "domande e risposte": "question answering",
    "fragen und antworten": "question answering",
    "vragen en antwoorden": "question answering",
    # subjects
    "médicaux": "medical",
    "médicales": "medical",
    "médical": "medical",
    "médicos": "medical",
    "médicas": "medical",
    "medizinische": "medical",
    "medizinischen": "medical",
    "medische": "medical",
    "medici": "medical",
    "arztbriefe": "medical letters",
    "arztbriefen": "medical letters",
    "finanziari": "financial",
    "finanziarie": "financial",
    "financiers": "financial",
    "financières": "financial",
    "financieros": "financial",
    "financeiros": "financial",
    "financiële": "financial",
    "finanzielle": "financial",
    "jurídica": "legal",
    "giuridiche": "legal",
    # users counted together
    "tegelijk": "at once",
    "tegelijkertijd": "at once",
    "en même temps": "at the same time",
    "al mismo tiempo": "at the same time",
    "ao mesmo tempo": "at the same time",
    "allo stesso tempo": "at the same time",
    "contemporaneamente": "at the same time",
    "lizenzen": "licenses",
    "licences": "licenses",
    "licencias": "licenses",
    "licenze": "licenses",
    "licenças": "licenses",
    "licenties": "licenses",
    # token lengths
    "antwoorden": "answers",
    "réponses": "answers",
    "respuestas": "answers",
    "risposte": "answers",
    "respostas": "answers",
    "antworten": "answers",
    "ongeveer": "about",
    "environ": "about",
    "etwa": "about",
    "circa": "about",
    "aproximadamente": "about",
    "gemiddeld": "on average",
    # latency
    "de extremo a extremo": "end-to-end",
    "de bout en bout": "end-to-end",
    "end-to-end-latenz": "end-to-end latency",
    "ponta a ponta": "end-to-end",
    "menor a": "under",
    "menor que": "under",
    "inférieur à": "under",
    "inférieure à": "under",
    "inferior a": "under",
    # power and write-off
    "strompreis": "power price",
    "elettricità": "electricity",
    "électricité": "electricity",
    "electricidad": "electricity",
    "eletricidade": "electricity",
    "stroom": "electricity",
    "ammortamento": "amortization",
    "amortissement": "amortization",
    "amortización": "amortization",
    "amortização": "amortization",
    "abschreibung": "depreciation",
    "afschrijving": "depreciation",
    # priorities
    "más barato": "cheapest",
    "mais barato": "cheapest",
    "moins cher": "cheapest",
    "più economico": "cheapest",
    "am günstigsten": "cheapest",
    "zo goedkoop": "as cheap",
    "qualité": "quality",
    "calidad": "quality",
    "qualidade": "quality",
    "qualität": "quality",
    "kwaliteit": "quality",
    "qualità": "quality",
    "est prioritaire": "is the top priority",
    "es prioritaria": "is the top priority",
    "é prioritária": "is the top priority",
    "ist vorrangig": "is the top priority",
    "heeft prioriteit": "is the top priority",
    "miete": "rent",
    "noleggiarlo": "renting it",
    # reliability
    "verfügbarkeit": "availability",
    "disponibilité": "availability",
    "disponibilidad": "availability",
    "disponibilità": "availability",
    "disponibilidade": "availability",
    "beschikbaarheid": "availability",
}
_MULTI_WORD = {p: e for p, e in _PHRASES.items() if " " in p}
_MULTI_WORD_RE = re.compile(
    rf"(?<![{_LETTERS}])(?:"
    + "|".join(re.escape(p) for p in sorted(_MULTI_WORD, key=len, reverse=True))
    + rf")(?![{_LETTERS}])"
)
# '8 mil dólares' (Portuguese / Spanish) and '8mila utenti' (Italian) are thousands.
_DIGITS_MILA_RE = re.compile(r"(?<![\w.,])(\d{1,3}) ?mila\b")
_DIGITS_MIL_RE = re.compile(
    r"(?<![\w.,])(\d{1,3}) mil (?=(?:usuarios|personas|empleados|clientes|desarrolladores|peticiones|"
    r"solicitudes|consultas|documentos|mensajes|preguntas|correos|tickets|archivos|usuários|utilizadores|"
    r"funcionários|pessoas|dólares|reais|requisições|utenti|dollari|euro)\b)"
)
_EN_DURATION_RE = re.compile(
    r"\b(?:en|em)\s+(\d+(?:[.,]\d+)?\s+(?:hours?|days?|minutes?|seconds?|weeks?|months?|years?))\b"
)
# 'al kWh', 'au kWh', 'je kWh', 'por kWh' are 'per kWh'.
_PER_KWH_RE = re.compile(r"\b(?:al|ao|au|à|a|je|pro|por|par|per)\s+kwh\b")
_DIGITS_MIL_ANY_RE = re.compile(r"(?<![\w.,])(\d{1,3}) mil (?=[a-zà-ÿ])")
# Function words only Spanish or Portuguese use: two of them make '100 mil' thousands.
_IBERIAN_WORDS = frozenset(
    {
        "para",
        "que",
        "los",
        "las",
        "una",
        "uma",
        "com",
        "el",
        "queremos",
        "necesitamos",
        "precisamos",
        "temos",
        "tenemos",
        "nuestro",
        "nuestra",
        "nosso",
        "nossa",
        "muy",
        "más",
        "mais",
        "sobre",
        "cada",
        "toda",
        "todos",
    }
)
# Words that send a message through the rewriting at all (most messages are English and skip it).
_ENGLISH_TOO = frozenset({"million", "six", "minute", "minutes"})
_TRIGGERS = (frozenset(_NUMBER_WORDS) | frozenset(_PHRASES) | frozenset(_UNITS)) - _ENGLISH_TOO
_COMPOUND_HINT_RE = re.compile(r"tausend|hundert|zig\b|zehn\b|ßig\b")


def to_english(text: str) -> str:
    """Rewrite the foreign words the rules care about into English (``text`` is already lower-cased)."""
    words = set(_WORD_RE.findall(text))
    if (
        not (words & _TRIGGERS)
        and not _COMPOUND_HINT_RE.search(text)
        and not any(phrase in text for phrase in _MULTI_WORD)
    ):
        return text
    # '10 mil usuarios' is ten thousand in Spanish (in English '10 mil' is ten million): only before a
    # Spanish noun, while that noun is still Spanish.
    text = _DIGITS_MIL_RE.sub(r"\1 thousand ", text)
    if len(words & _IBERIAN_WORDS) >= 2:
        # In a Spanish or Portuguese message '100 mil' is always thousands, whatever noun follows.
        text = _DIGITS_MIL_ANY_RE.sub(r"\1 thousand ", text)
    text = _DIGITS_MILA_RE.sub(r"\1 thousand", text)
    text = _MULTI_WORD_RE.sub(lambda m: _MULTI_WORD[m.group(0)], text)
    text = _WORD_RE.sub(lambda m: _PHRASES.get(m.group(0), m.group(0)), text)
    text = _number_runs(text)
    text = _PER_UNIT_RE.sub(lambda m: "per " + _UNITS[m.group(1) or m.group(2)], text)
    text = _NUMBER_UNIT_RE.sub(lambda m: f"{m.group(1)} {_UNITS[m.group(2)]}", text)
    # Spanish / Portuguese / French 'en 6 horas', 'em 6 horas': English has no 'en' before a duration.
    text = _EN_DURATION_RE.sub(r"in \1", text)
    return _PER_KWH_RE.sub("per kwh", text)
