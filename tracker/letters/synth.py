"""A deterministic synthetic corpus of reply letters (答复函) for load and search tests.

The letters imitate published replies to deputies' suggestions (建议), CPPCC proposals
(提案) and a few motions (议案) as in ``corpus/000_983cdb5ab656f1f2.txt``: issuing units of
four jurisdictions (广州, 深圳, 广东省, 北京), each with its document prefix (穗教案, 深交函,
粤民函, 京建函 …); topics with Zipf-like frequencies, each with its own vocabulary and
sentences; all reply grades in the places real letters print them; addressees, co-handling
units (会同…), contacts with the proposer, numbered sections with commitments, the date,
contact, disclosure and 抄送 lines; and, on about 40% of the letters, the web-page noise of
a published reply (发布时间, 来源, 浏览量, 扫一扫在手机打开当前页).

The tables (jurisdictions and their units, topics with their vocabulary and sentences,
generic sentences and names) are package data in ``tracker/letters/data/*.toml``; this
module holds the generator.

Pure standard library.  Everything is drawn from one ``random.Random(seed)`` in letter
order, so a corpus is reproducible and its first k letters are the same for any n >= k.

    generate_records(n, seed)  -> dicts: file_name, text, encoding and the ground truth
    generate_letters(n, seed)  -> (file_name, text) pairs
    write_corpus(out_dir, n, seed, encoding_mix=True) -> number of files written

The ground-truth keys use the parser's names and shapes (see ``parser.parse_letter``) and
hold what the letter prints (None where it prints nothing): title, issuer, proposal_kind,
session, proposal_number, proposal_title, proposers, classification, doc_number,
letter_date, published_at, co_units, contacts, contact_person, contact_phone, disclosure,
cc.  Besides: item_session (the item's session even where the letter does not print it),
topic, jurisdiction, rare_terms (the rare distinctive words put in), has_web_noise and
encoding ("utf-8" or "gb18030", used by write_corpus).

Speed: about 2,500-3,000 letters/s on one core (two template sentences are filled per
``str.format_map`` call; see _second).
"""

from __future__ import annotations

import bisect
import itertools
import re
import tomllib
from collections.abc import Iterator
from datetime import date, timedelta
from importlib import resources
from pathlib import Path
from random import Random

from tracker.rules.chinese import cn_date

__all__ = ["TOPICS", "TOPIC_NAMES", "generate_letters", "generate_records", "write_corpus"]


def _data(name: str) -> dict:
    """One of the generator's table files (package data under tracker/letters/data)."""
    text = (resources.files("tracker.letters") / "data" / name).read_text(encoding="utf-8")
    return tomllib.loads(text)


# --------------------------------------------------------------------------------------
# Jurisdictions and issuing units (data/jurisdictions.toml)
# --------------------------------------------------------------------------------------


class _Jurisdiction:
    __slots__ = (
        "bureaus",
        "city",
        "city_short",
        "code",
        "cppcc_cc",
        "cppcc_terms",
        "districts",
        "grades",
        "level",
        "npc_cc",
        "npc_terms",
        "phone",
        "platform",
        "scope",
        "sub",
        "weight",
        "we",
    )

    def __init__(self, **kw):
        for key, value in kw.items():
            setattr(self, key, value)


_JURISDICTION_DATA = _data("jurisdictions.toml")
# How a unit names its reply letters: the word after the code, by kind of item.
_DOC_STYLES = tuple(_JURISDICTION_DATA["doc_styles"])
_JURISDICTIONS = tuple(
    _Jurisdiction(
        **{
            **entry,
            "npc_terms": tuple(map(tuple, entry["npc_terms"])),
            "cppcc_terms": tuple(map(tuple, entry["cppcc_terms"])),
            "grades": tuple(map(tuple, entry["grades"])),  # (grade, weight)
            "bureaus": {kind: tuple(unit) for kind, unit in entry["bureaus"].items()},
        }
    )
    for entry in _JURISDICTION_DATA["jurisdictions"]
)

_DISTRICT_SLOTS = {
    j.code: tuple({"D": a, "D2": b} for a, b in itertools.permutations(j.districts, 2))
    for j in _JURISDICTIONS
}

# Every issuing unit: (jurisdiction, type) -> (full, short, doc code, pinyin, doc style)
_UNITS: dict[tuple[str, str], tuple[str, str, str, str, dict]] = {}
for _offset, _jur in enumerate(_JURISDICTIONS):
    for _k, (_type, _b) in enumerate(_jur.bureaus.items()):
        _UNITS[_jur.code, _type] = (*_b, _DOC_STYLES[(_k + _offset) % len(_DOC_STYLES)])

# Two sentences are filled in one go (it halves the work): the second one's slots are
# renamed so that it draws its own numbers and names other things than the first.
_SECOND = {
    "M": "M2",
    "M2": "M3",
    "M3": "M",
    "F": "F2",
    "Fq": "F2q",
    "F2": "F",
    "F2q": "Fq",
    "D": "D2",
    "D2": "D",
    **{k: k + "_" for k in ("N", "N2", "N2b", "N3", "NS", "P", "P1", "P2", "TP", "TN")},
    **{k: k + "_" for k in ("Y", "MONEY", "DOC", "due")},
}
_SLOT_RE = re.compile(r"\{(\w+)\}")


def _second(template: str) -> str:
    return _SLOT_RE.sub(lambda m: "{" + _SECOND.get(m.group(1), m.group(1)) + "}", template)


def _pairs(templates) -> tuple[tuple[str, str], ...]:
    return tuple((t, _second(t)) for t in templates)


# --------------------------------------------------------------------------------------
# Topics: vocabulary and sentences (data/topics.toml)
# --------------------------------------------------------------------------------------


def _nouns(items: list[str]) -> tuple[tuple[str, ...], ...]:
    """ "公办学位/个" -> ("公办学位", "个"): a noun and its classifier."""
    return tuple(tuple(item.split("/")) for item in items)


class _Topic:
    __slots__ = (
        "acts",
        "co",
        "docs",
        "facilities",
        "fact_pairs",
        "facts",
        "lead",
        "measure_slots",
        "measures",
        "name",
        "plan_pairs",
        "plans",
        "rare",
        "thing_slots",
        "titles",
    )

    def __init__(self, entry: dict):
        self.name = entry["name"]
        self.lead = entry["lead"]
        self.co = tuple(entry["co"])
        self.facilities = _nouns(entry["facilities"])
        self.measures = tuple(entry["measures"])
        self.acts = _nouns(entry["acts"])
        self.docs = tuple(entry["docs"])
        self.titles = tuple(entry["titles"])
        self.facts = tuple(entry["facts"])
        self.plans = tuple(entry["plans"])
        self.rare = tuple(entry["rare"])
        self.fact_pairs = _pairs(self.facts)
        self.plan_pairs = _pairs(self.plans)
        # slot values drawn together in one step (see _Letter.fill)
        self.measure_slots = tuple(
            {"M": a, "M2": b, "M3": c} for a, b, c in itertools.permutations(self.measures, 3)
        )
        self.thing_slots = tuple(
            {"F": f, "Fq": fq, "F2": f2, "F2q": f2q, "A": a, "Aq": aq}
            for (f, fq), (f2, f2q), (a, aq) in itertools.product(
                self.facilities, self.facilities, self.acts
            )
            if f != f2 or len(self.facilities) == 1
        )


TOPICS: tuple[_Topic, ...] = tuple(_Topic(entry) for entry in _data("topics.toml")["topics"])
TOPIC_NAMES = tuple(t.name for t in TOPICS)

# Zipf-like: weight of the topic of rank r is 1 / (r + 1.5) ** 1.05
_TOPIC_CUM = list(itertools.accumulate(1.0 / (r + 1.5) ** 1.05 for r in range(1, len(TOPICS) + 1)))

# --------------------------------------------------------------------------------------
# Generic sentences and names (data/phrases.toml)
# --------------------------------------------------------------------------------------

_PHRASES = _data("phrases.toml")
_FACTS = tuple(_PHRASES["facts"])
_ORDINALS = "一二三四五六七八九十"
_VERBS = tuple(_PHRASES["verbs"])
_SUBHEADS = tuple(_PHRASES["subheads"])
_PART1_HEADS = tuple(_PHRASES["part1_heads"])
_DIFF_HEADS = tuple(_PHRASES["diff_heads"])
_DIFFS = tuple(_PHRASES["diffs"])
_NEXT_HEADS = tuple(_PHRASES["next_heads"])
_NEXT_INTROS = tuple(_PHRASES["next_intros"])
_GRADE_SENTENCES: dict[str, str] = _PHRASES["grade_sentences"]
_PLAN_HEADS = tuple(_PHRASES["plan_heads"])
_PLANS = tuple(_PHRASES["plans"])
_RARE_SENTENCES = tuple(_PHRASES["rare_sentences"])
_CLOSINGS = tuple(_PHRASES["closings"])
_SIGN_OFFS = tuple(_PHRASES["sign_offs"])

_SURNAMES: str = _PHRASES["surnames"]
_GIVEN: str = _PHRASES["given_names"]
_OFFICES = tuple(_PHRASES["offices"])
_PARTIES = tuple(_PHRASES["parties"])
_PARTY_SHORT = tuple(_PHRASES["party_short"])
_SECTORS = tuple(_PHRASES["sectors"])

# --------------------------------------------------------------------------------------
# Grades and numbers
# --------------------------------------------------------------------------------------

# word labels some systems print -> the grade whose sentence the letter takes
_GRADE_BASE = {"解决采纳": "A", "列入计划": "B", "正在解决": "B", "留作参考": "D"}

_YEARS = tuple(range(2015, 2026))
_YEAR_CUM = list(itertools.accumulate((5, 6, 7, 8, 9, 10, 11, 12, 13, 13, 12)))
_MONTHS = (3, 4, 5, 6, 7, 8, 9, 10, 11, 12)
_MONTH_CUM = list(itertools.accumulate((4, 10, 18, 20, 14, 8, 6, 4, 3, 2)))
_JUR_CUM = list(itertools.accumulate(j.weight for j in _JURISDICTIONS))

_TARGET_PCTS = (80, 85, 88, 90, 92, 95, 98, 100)
_TARGET_NUMBERS = (50, 80, 100, 120, 150, 200, 300, 500, 800, 1000, 1500, 3000)
_YEARS_BACK = (1, 1, 1, 2, 2, 3)
_FACT_PAIRS = _pairs(_FACTS)
_PLAN_PAIRS = _pairs(_PLANS)
_DIFF_PAIRS = _pairs(_DIFFS)
_CN_DIGITS = "〇一二三四五六七八九"
_HALF = {"，": ",", "：": ":", "；": ";", "（": "(", "）": ")"}
_HALF_RE = re.compile("[，：；（）]")


def _cn_small(n: int) -> str:
    """1..99 in Chinese numerals: 7 -> 七, 10 -> 十, 16 -> 十六, 28 -> 二十八."""
    if n < 10:
        return _CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    head = "" if tens == 1 else _CN_DIGITS[tens]
    return head + "十" + (_CN_DIGITS[ones] if ones else "")


def _cn_date(d: date, zero: str = "〇") -> str:
    year = "".join(_CN_DIGITS[int(c)] for c in str(d.year)).replace("〇", zero)
    return f"{year}年{_cn_small(d.month)}月{_cn_small(d.day)}日"


def _session(jur: _Jurisdiction, kind: str, year: int, long: bool = False) -> str:
    """ "市十六届人大一次会议", "省政协十二届三次会议"; long: "广州市第十六届人民代表大会第一次会议"."""
    terms = jur.cppcc_terms if kind == "提案" else jur.npc_terms
    term, start = next((t, s) for t, s in reversed(terms) if s <= year)
    nth = _cn_small(year - start + 1)
    if long and kind == "提案":
        return f"政协{jur.city}第{_cn_small(term)}届委员会第{nth}次会议"
    if long:
        return f"{jur.city}第{_cn_small(term)}届人民代表大会第{nth}次会议"
    if kind == "提案":
        return f"{jur.level}政协{_cn_small(term)}届{nth}次会议"
    return f"{jur.level}{_cn_small(term)}届人大{nth}次会议"


def _pick(rng: Random, items, cum):
    return items[bisect.bisect(cum, rng.random() * cum[-1])]


# --------------------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------------------


class _Slots(dict):
    """Sentence slots: letter constants given, everything else drawn on first use."""

    __slots__ = ("table",)

    def __missing__(self, key):
        value = self.table[key](self, key)
        self[key] = value
        return value


class _Corpus:
    """State across letters: the random stream and what must stay unique."""

    def __init__(self, seed: int):
        self.rng = Random(seed)
        self.doc_last: dict[tuple[str, int], int] = {}
        self.numbers: set[tuple[str, str, int, str]] = set()

    def record(self, index: int) -> dict:
        return _Letter(self, index).build()


class _Deck:
    """Draw templates without repeating one until all have been used (per letter).

    Items are (template, second) pairs: ``second`` is the template with its slots renamed
    so that it can be filled together with another sentence (see _second).  A deck with
    ``rounds`` set runs dry after that many passes; ``draw`` then returns None.
    """

    __slots__ = ("items", "left", "rnd", "rounds")

    def __init__(self, items, rnd, rounds: int = 0):
        self.items = items
        self.left: list = []
        self.rnd = rnd
        self.rounds = rounds

    def draw(self):
        left = self.left
        if not left:
            if self.rounds == 1:
                return None
            self.rounds -= 1
            left = self.left = list(self.items)
        return left.pop(int(self.rnd() * len(left)))


class _Letter:
    """One letter.  All randomness comes from the corpus's ``Random`` via ``rnd``."""

    def __init__(self, corpus: _Corpus, index: int):
        self.corpus = corpus
        self.rng = corpus.rng
        self.rnd = corpus.rng.random  # C-level; the helpers below build on it
        self.index = index
        rnd = self.rnd
        self.slots = {
            "N": lambda s, k: 3 + int(rnd() * 58),
            "N2": lambda s, k: 100 + int(rnd() * 9700),
            "N2b": lambda s, k: 100 + int(rnd() * 9700),
            "N3": lambda s, k: 10000 + int(rnd() * 970000),
            "NS": lambda s, k: 2 + int(rnd() * 8),
            "P": self._pct,
            "P2": self._pct,
            "P1": lambda s, k: f"{3 + rnd() * 32:.1f}",
            "TP": lambda s, k: _TARGET_PCTS[int(rnd() * len(_TARGET_PCTS))],
            "TN": lambda s, k: _TARGET_NUMBERS[int(rnd() * len(_TARGET_NUMBERS))],
            "Y": lambda s, k: self.year - _YEARS_BACK[int(rnd() * len(_YEARS_BACK))],
            "LM": lambda s, k: max(1, self.letter_date.month - 1),
            "MONEY": self._money,
            "DOC": self._doc,
            "due": lambda s, k: self.due(),
            "CO": lambda s, k: self.choice(self.co_units) if self.co_units else "相关部门",
            "RARE": self._rare,
        }
        for key in [k for k in self.slots if k + "_" in _SECOND.values()]:
            self.slots[key + "_"] = self.slots[key]

    # -- fast random helpers (deterministic: only rnd() is used) ------------------------

    def choice(self, seq):
        return seq[int(self.rnd() * len(seq))]

    def randint(self, a: int, b: int) -> int:
        return a + int(self.rnd() * (b - a + 1))

    def sample(self, seq, k: int) -> list:
        pool = list(seq)
        out = []
        for _ in range(min(k, len(pool))):
            out.append(pool.pop(int(self.rnd() * len(pool))))
        return out

    # -- slots -------------------------------------------------------------------------

    def _pct(self, s, k):
        if self.rnd() < 0.6:
            return f"{60 + self.rnd() * 39.5:.1f}"
        return self.randint(60, 99)

    def _money(self, s, k):
        if self.rnd() < 0.4:
            return f"{1.1 + self.rnd() * 28.9:.1f}亿元"
        return f"{self.randint(200, 9800)}万元"

    def _doc(self, s, k):
        doc = self.choice(self.topic.docs)
        if self.rnd() < 0.2:
            y = self.year - self.randint(1, 3)
            return f"{self.jur.city}{doc}（{y}—{y + 2}年）"
        return f"{self.jur.city}{doc}"

    def _rare(self, s, k):
        word = self.choice(self.topic.rare)
        self.rare_terms.append(word)
        return word

    def due(self) -> str:
        rnd = self.rnd
        y = self.year
        r = rnd()
        if r < 0.18:
            return "今年底"
        if r < 0.28:
            return "年内"
        if r < 0.36:
            return "年底前"
        if r < 0.46:
            return "明年"
        if r < 0.53:
            return "明年上半年"
        if r < 0.66:
            return f"{y + 1}年{self.choice((3, 6, 6, 9))}月前"
        if r < 0.78:
            return f"{y + 1}年底前"
        if r < 0.88 and self.letter_date.month < 12:
            return f"{y}年{self.randint(self.letter_date.month + 1, 12)}月底前"
        return f"到{y + 2}年"

    def fill(self, template: str) -> str:
        """Fill a template: names from one of the letter's prepared sets, numbers fresh."""
        pool = self.pool
        s = _Slots(pool[int(self.rnd() * len(pool))])
        s.table = self.slots
        focus = self.focus
        if focus:
            other, s["M"] = s["M"], focus
            if s["M2"] == focus:
                s["M2"] = other
            elif s["M3"] == focus:
                s["M3"] = other
        return template.format_map(s)

    # -- people -----------------------------------------------------------------------

    def name(self) -> str:
        given = self.choice(_GIVEN)
        if self.rnd() < 0.72:
            given += self.choice(_GIVEN)
        return self.choice(_SURNAMES) + given

    def phone(self) -> str:
        area, first, alt, _ = self.jur.phone
        r = self.rnd()
        digits = f"{self.randint(0, 9999999):07d}"
        lead = self.choice((first, alt))
        if r < 0.15:
            return f"1{self.choice('3589')}{self.randint(0, 999999999):09d}"
        if r < 0.5:
            return f"{lead}{digits}"
        if r < 0.88:
            return f"{area}{lead}{digits}"
        if r < 0.93:
            return f"({area[:-1]}){lead}{digits}"
        if r < 0.97:
            return f"{area}{lead}{digits[:3]} {digits[3:]}"
        return f"{lead}{digits}转{self.randint(100, 8999)}"

    # -- the letter -------------------------------------------------------------------
    # build() calls one method per part of the letter, in the order their random draws
    # are made; each part leaves what later parts need on self.

    def build(self) -> dict:
        self.rare_terms: list[str] = []
        self.focus = None  # the measure a section is about
        self.setting()
        self.addressee()
        self.number = self.unique_number()
        self.grading()
        self.document_number()
        self.co_handling()
        self.slot_sets()
        self.title_and_disclosure()
        top, bottom = self.page_noise()
        header = self.header()
        opening = self.opening()
        footer = self.footer()
        text = self.assemble(top, bottom, header, opening, footer)
        return self.record(text)

    def setting(self) -> None:
        """Topic, jurisdiction, issuing unit, kind of item, year, letter date and session."""
        rng = self.rng
        rnd = self.rnd
        topic = self.topic = TOPICS[bisect.bisect(_TOPIC_CUM, rnd() * _TOPIC_CUM[-1])]
        jurs = [j for j in _JURISDICTIONS if topic.lead in j.bureaus]
        cum = list(itertools.accumulate(j.weight for j in jurs))
        jur = self.jur = _pick(rng, jurs, cum)
        self.unit = _UNITS[jur.code, topic.lead]  # full, short, code, pinyin, style
        full = self.unit[0]
        self.we_unit = (
            "我委" if full.endswith("委员会") else ("我厅" if full.endswith("厅") else "我局")
        )

        r = rnd()
        kind = self.kind = "建议" if r < 0.55 else ("提案" if r < 0.97 else "议案")
        year = self.year = _pick(rng, _YEARS, _YEAR_CUM)
        month = _pick(rng, _MONTHS, _MONTH_CUM)
        self.letter_date = date(year, month, self.randint(1, 28))
        session = self.session = _session(jur, kind, year)
        self.session_text = _session(jur, kind, year, long=True) if rnd() < 0.05 else session

    def addressee(self) -> None:
        """Proposers, salutation, the pronoun the letter uses, and the organisation if any."""
        rnd = self.rnd
        jur, kind = self.jur, self.kind
        pronoun = "您"
        org = None
        if kind == "提案":
            r = rnd()
            if r < 0.2:
                if rnd() < 0.7:
                    org = f"{self.choice(_PARTIES)}{jur.city}委员会"
                else:
                    org = self.choice(_PARTY_SHORT).format(L=jur.level)
            elif r < 0.27:
                org = self.choice(
                    (f"{jur.level}工商联", f"{jur.level}政协{self.choice(_SECTORS)}界别")
                )
        if org:
            proposers = [org]
            salutation = f"{org}："
            pronoun = "你们"
        else:
            title_word = "委员" if kind == "提案" else "代表"
            lead_name = self.name()
            proposers = [lead_name]
            r = rnd()
            if kind == "议案" or r < 0.22:
                k = self.randint(10, 30) if kind == "议案" else self.randint(2, 12)
                salutation = f"{lead_name}等{k}位{title_word}："
                pronoun = "你们" if rnd() < 0.7 else "您们"
            elif r < 0.3:
                other = self.name()
                proposers.append(other)
                salutation = f"{lead_name}、{other}{title_word}："
                pronoun = "你们"
            else:
                shown = lead_name
                if len(lead_name) == 2 and rnd() < 0.15:
                    shown = f"{lead_name[0]}  {lead_name[1]}"  # padded to three characters
                salutation = f"{shown}{title_word}："
                if rnd() < 0.06:
                    salutation = "尊敬的" + salutation
        self.org, self.proposers = org, proposers
        self.salutation, self.pronoun = salutation, pronoun

    def unique_number(self) -> str:
        """The proposal number, unique per jurisdiction, kind and year."""
        jur, kind, year = self.jur, self.kind, self.year
        numbers = self.corpus.numbers
        attempt = 0
        while True:
            number = self.proposal_number(jur, kind, year, self.org)
            if attempt >= 30:  # a small numbering space is full: widen it (never loop forever)
                number = f"{number}{attempt}"
            key = (jur.code, kind, year, number)
            if key not in numbers:
                numbers.add(key)
                return number
            attempt += 1

    def grading(self) -> None:
        """The grade and where the letter prints it (place: none/before/after/suffix/footer)."""
        grades = self.jur.grades
        grade = self.grade = _pick(
            self.rng,
            [g for g, _ in grades],
            list(itertools.accumulate(w for _, w in grades)),
        )
        is_word = self.is_word = len(grade) > 1
        r = self.rnd()
        if r < 0.04:
            place = "none"
        elif r < 0.38:
            place = "before"
        elif r < 0.48:
            place = "after"
        elif r < 0.72 and not is_word:
            place = "suffix"
        else:
            place = "footer"
        self.place = place

    def document_number(self) -> None:
        """The document number, unique per (prefix, year), and its printed line."""
        rnd = self.rnd
        corpus, year, grade = self.corpus, self.year, self.grade
        code, style = self.unit[2], self.unit[4]
        prefix = code + style[self.kind]
        has_doc = rnd() > 0.03
        doc_number = None
        doc_line = None
        if has_doc:
            last = corpus.doc_last.get((prefix, year))
            num = self.randint(8, 90) if last is None else last + self.randint(1, 6)
            corpus.doc_last[prefix, year] = num
            r = rnd()
            if r < 0.86:
                doc_number = f"{prefix}〔{year}〕{num}号"
            elif r < 0.93:
                doc_number = f"{prefix}[{year}]{num}号"
            elif r < 0.97:
                doc_number = f"{prefix}【{year}】{num}号"
            else:
                doc_number = f"{prefix}({year}){num}号"
            doc_line = doc_number
        if self.place == "suffix" and doc_line is None:
            self.place = "before"
        if self.place == "suffix":
            doc_line += self.choice(("（{}类）", "({}类)", "{}类", "（{}类）"))
            doc_line = doc_line.format(grade)
        self.doc_number, self.doc_line = doc_number, doc_line

    def co_handling(self) -> None:
        """The co-handling units (short names), drawn from the topic's bureau types."""
        short = self.unit[1]
        pool = []
        for t in self.topic.co:
            unit = _UNITS.get((self.jur.code, t))
            if unit and unit[1] != short and unit[1] not in pool:
                pool.append(unit[1])
        r = self.rnd()
        n_co = 0 if r < 0.25 else (1 if r < 0.65 else (2 if r < 0.9 else 3))
        self.co_units = self.sample(pool, min(n_co, len(pool)))

    def slot_sets(self) -> None:
        """The letter's constant slots, a dozen sets of names, and the proposal's title."""
        rnd = self.rnd
        jur, topic = self.jur, self.topic
        self.base = {
            "S": jur.scope,
            "CS": jur.we,
            "CITY": jur.city,
            "CITYN": jur.city_short,
            "SUB": jur.sub,
            "PLATFORM": jur.platform,
            "U": self.we_unit,
            "YOU": self.pronoun,
            "T": topic.name,
            "YL": self.year,
            "NY": self.year + 1,
            "KIND": self.kind,
        }
        # a dozen sets of names (measures, things, people, districts) for this letter
        ms, ts, ds = topic.measure_slots, topic.thing_slots, _DISTRICT_SLOTS[jur.code]
        self.pool = []
        for _ in range(12):
            names = dict(self.base)
            names.update(ms[int(rnd() * len(ms))])
            names.update(ts[int(rnd() * len(ts))])
            names.update(ds[int(rnd() * len(ds))])
            self.pool.append(names)
        self.ptitle = "关于" + self.fill(self.choice(topic.titles)) + "的" + self.kind

    def title_and_disclosure(self) -> None:
        """The letter's title (None: printed without one), disclosure, web-page noise or not."""
        rnd = self.rnd
        full, kind, number = self.unit[0], self.kind, self.number
        session_text = self.session_text
        r = rnd()
        if kind == "议案":
            title = f"{full}关于{session_text}第{number}号议案办理情况的答复"
        elif r < 0.45:
            title = f"{full}关于{session_text}第{number}号{kind}答复的函"
        elif r < 0.6:
            title = f"{full}关于{session_text}第{number}号{kind}的答复"
        elif r < 0.7:
            title = f"{full}关于{session_text}第{number}号{kind}的复函"
        elif r < 0.74:
            title = f"对{session_text}第{number}号{kind}的回复"
        elif r < 0.78:
            title = f"{full}对{session_text}第{number}号{kind}的答复"
        elif r < 0.84:
            title = f"关于《{self.ptitle}》的答复"
        elif r < 0.9:
            title = "答复函"
        else:
            title = None
        r = rnd()
        disclosure = "主动公开" if r < 0.7 else ("依申请公开" if r < 0.9 else "不予公开")
        has_noise = disclosure == "主动公开" and rnd() < 0.4 / 0.7  # only published pages
        if has_noise and title is None:
            title = f"{full}关于{session_text}第{number}号{kind}答复的函"
        self.title, self.disclosure, self.has_noise = title, disclosure, has_noise

    def page_noise(self) -> tuple[list[str], list[str]]:
        """A published page's lines above and below the letter, and its publication time."""
        rnd = self.rnd
        full, title = self.unit[0], self.title
        self.published_at = None
        top: list[str] = []
        bottom: list[str] = []
        if not self.has_noise:
            return top, bottom
        pub = self.letter_date + timedelta(days=self.randint(1, 12))
        clock = f"{self.randint(8, 18):02d}:{self.randint(0, 59):02d}:{self.randint(0, 59):02d}"
        r = rnd()
        if r < 0.55:
            self.published_at = f"{pub.isoformat()}T{clock}"
            views = "-" if rnd() < 0.5 else str(self.randint(12, 3000))
            top = [
                title,
                "",
                f"  • 发布时间:{pub.isoformat()} {clock}",
                f"  • 来源: {full}",
                f"  • 浏览量:{views}",
                "  • T浏览字号",
                "",
            ]
        elif r < 0.85:
            self.published_at = pub.isoformat()
            column = "政协提案答复" if self.kind == "提案" else "人大建议答复"
            top = [
                f"当前位置：首页 > 政务公开 > 建议提案办理 > {column}",
                title,
                "",
                f"  • 发布日期：{self.published_at}",
                f"  • 信息来源：{full}",
                f"  • 浏览次数：{self.randint(12, 3000)}",
                "  【字体：大 中 小】",
                "",
            ]
        else:
            self.published_at = f"{pub.isoformat()}T{clock}"
            top = [title, f"发布时间：{pub.isoformat()} {clock}    来源：{full}", ""]
        r = rnd()
        if r < 0.6:
            bottom = ["", "扫一扫在手机打开当前页"]
        elif r < 0.85:
            bottom = ["", "打印本页   关闭窗口", "扫一扫在手机打开当前页"]
        else:
            bottom = ["", "【打印】【关闭】"]
        return top, bottom

    def header(self) -> list[str]:
        """The lines above the salutation: title (on a plain letter), grade, document number."""
        rnd = self.rnd
        grade, place, title = self.grade, self.place, self.title
        header: list[str] = []
        grade_line = None
        if place in ("before", "after"):
            grade_line = f"{grade}类" if not self.is_word else grade
            if not self.is_word and rnd() < 0.12:
                grade_line = self.choice(("【{}类】", "（{}类）")).format(grade)
        if not self.has_noise and title is not None:
            if rnd() < 0.15 and "会议第" in title and title.startswith(self.unit[0]):
                cut = title.index("会议第") + 2
                header += [title[:cut], title[cut:]]
            else:
                header.append(title)
        doc_first = not self.has_noise and rnd() < 0.25
        block = []
        if grade_line and place == "before":
            block.append(grade_line)
        if self.doc_line:
            block.append(self.doc_line)
        if grade_line and place == "after":
            block.append(grade_line)
        return block + header if doc_first else header + block

    def opening(self) -> str:
        """The opening paragraph: the item received, who handled it with whom, the contacts."""
        rnd = self.rnd
        kind, number, pronoun, we_unit = self.kind, self.number, self.pronoun, self.we_unit
        ptitle, co_units = self.ptitle, self.co_units
        number_in_title = self.title is not None and f"第{number}号" in self.title
        num_body = not number_in_title or rnd() < 0.85
        if num_body:
            r = rnd()
            if r < 0.6:
                num_part = f"（第{number}号）"
            elif r < 0.95:
                num_part = f"(第{number}号)"
            else:
                num_part = f"（编号：{number}）"
        else:
            num_part = ""
        verb = self.choice(("提出的", "提出的", "领衔提出的")) if not self.org else "提出的"
        if rnd() < 0.2:
            opening = f"{pronoun}在{self.session_text}上{verb}《{ptitle}》{num_part}收悉。"
        else:
            opening = f"{pronoun}{verb}《{ptitle}》{num_part}{self.choice(('已收悉', '收悉'))}。"
        if rnd() < 0.06:
            opening += f"该{kind}被确定为重点督办{kind}，"
            opening += f"{we_unit}作为主办单位，"
        else:
            opening += f"{we_unit}高度重视，"
        consult = False
        if co_units:
            joined = "、".join(co_units)
            if len(co_units) > 1 and rnd() < 0.2:
                joined = "、".join(co_units[:-1]) + "和" + co_units[-1]
            if rnd() < 0.85:
                opening += f"会同{joined}认真研究办理"
            else:
                opening += f"经征求会办单位{joined}意见，认真研究办理"
                consult = True
        else:
            opening += "认真研究办理"
        proposer = self.proposers[0] if not self.org else None
        self.contact_log, contact_text = self.contacts(proposer, pronoun)
        opening += contact_text
        if co_units and not consult and rnd() < 0.6:
            opening += "经综合会办单位意见，"
        opening += self.choice(
            ("现将有关办理情况答复如下：", "现将办理情况答复如下：", "现答复如下：")
        )
        return opening

    def footer(self) -> tuple[str, str, list[str]]:
        """Signature and date lines, and the notes under them: contact, grade where the
        letter prints it there, disclosure, 抄送."""
        rnd = self.rnd
        letter_date, disclosure, grade = self.letter_date, self.disclosure, self.grade
        sign_line = self.unit[0] + ("（盖章）" if rnd() < 0.03 else "")
        cn_style = rnd()
        if cn_style < 0.12:
            date_line = _cn_date(letter_date)
        elif cn_style < 0.15:
            date_line = _cn_date(letter_date, self.choice(("0", "○")))
        else:
            date_line = cn_date(letter_date)
        person = self.contact_person = self.name()
        phone = self.contact_phone = self.phone()
        person_shown = f"{self.choice(_OFFICES)} {person}" if rnd() < 0.06 else person
        r = rnd()
        if r < 0.5:
            contact_line = f"（联系人：{person_shown}，联系电话：{phone}）"
        elif r < 0.65:
            contact_line = f"(联系人:{person_shown},联系电话:{phone})"
        elif r < 0.8:
            contact_line = f"联系人：{person_shown}  联系电话：{phone}"
        elif r < 0.9:
            contact_line = f"承办人及联系电话：{person} {phone}"
        else:
            contact_line = f"（联系人：{person_shown}；电话：{phone}）"
        r = rnd()
        if r < 0.6:
            disclosure_line = f"公开方式：{disclosure}"
        elif r < 0.78:
            disclosure_line = f"公开属性：{disclosure}"
        elif r < 0.95:
            disclosure_line = f"公开类别：{disclosure}"
        else:
            disclosure_line = f"（此件{disclosure}）"
        coord = self.jur.cppcc_cc if self.kind == "提案" else self.jur.npc_cc
        cc = list(coord) + (self.co_units if rnd() < 0.85 else [])
        cc_sep = "、" if rnd() < 0.88 else "，"
        cc_line = f"抄送：{cc_sep.join(cc)}。"
        if len(cc) > 2 and rnd() < 0.08:  # a long cc list wraps after a separator
            cut = self.randint(1, len(cc) - 1)
            cc_line = f"抄送：{cc_sep.join(cc[:cut])}{cc_sep}\n      {cc_sep.join(cc[cut:])}。"
        notes = [contact_line]
        if self.place == "footer":
            key = self.choice(("办复类别", "答复类别", "办理类别"))
            value = grade if self.is_word else self.choice((f"{grade}类", grade))
            notes.insert(self.randint(0, 1), f"{key}：{value}")
        notes.append(disclosure_line)
        if rnd() < 0.95:
            notes.append(cc_line)
        else:
            cc = []
        self.cc = cc
        return sign_line, date_line, notes

    def assemble(self, top, bottom, header, opening, footer) -> str:
        """The body sized to the letter's target length, and every line in print order."""
        rnd = self.rnd
        sign_line, date_line, notes = footer
        # Length budget: the body fills what the rest leaves of the target length
        target = min(4600, max(1600, int(self.rng.gauss(2900, 700))))
        fixed = sum(len(x) + 3 for x in (*top, *bottom, *header, *notes))
        fixed += len(self.salutation) + len(opening) + len(sign_line) + len(date_line) + 80
        body = self.body(max(400, target - fixed), _GRADE_BASE.get(self.grade, self.grade))

        indent = self.choice(("  ", "  ", "　　", "    ", ""))
        gap = rnd() < 0.65
        lines: list[str] = [*top, *header, "", self.salutation]
        paras = [opening, *body]
        for para in paras:
            if gap:
                lines.append("")
            lines.append(indent + para)
        lines.append("")
        if rnd() < 0.03:
            lines.append(f"{indent}{sign_line}  {date_line}")
        else:
            pad = indent if rnd() < 0.8 else " " * 16
            lines += (
                [pad + sign_line, "", pad + date_line]
                if gap
                else [pad + sign_line, pad + date_line]
            )
        for line in notes:
            if gap:
                lines.append("")
            lines.append(indent + line)
        lines += bottom
        text = "\n".join(lines)
        if rnd() < 0.25:  # half-width punctuation, as in the seed letter
            text = _HALF_RE.sub(lambda m: _HALF[m.group(0)], text)
        return text

    def record(self, text: str) -> dict:
        """The letter's file name, text and encoding, and the ground truth it prints."""
        encoding = "gb18030" if self.rnd() < 0.05 else "utf-8"
        jur, session_text = self.jur, self.session_text
        return {
            "file_name": f"syn_{self.index:06d}_{jur.code}-{self.unit[3]}.txt",
            "text": text,
            "encoding": encoding,
            "topic": self.topic.name,
            "jurisdiction": jur.city,
            "title": self.title,
            "issuer": self.unit[0],
            "proposal_kind": self.kind,
            "session": session_text if session_text in text else None,
            "item_session": self.session,
            "proposal_number": self.number,
            "proposal_title": self.ptitle,
            "proposers": self.proposers,
            "classification": None if self.place == "none" else self.grade,
            "doc_number": self.doc_number,
            "letter_date": self.letter_date.isoformat(),
            "published_at": self.published_at,
            "co_units": list(self.co_units),
            "contacts": self.contact_log,
            "contact_person": self.contact_person,
            "contact_phone": self.contact_phone,
            "disclosure": self.disclosure,
            "cc": self.cc,
            "rare_terms": self.rare_terms,
            "has_web_noise": self.has_noise,
        }

    def proposal_number(self, jur: _Jurisdiction, kind: str, year: int, org: str | None) -> str:
        rnd = self.rnd
        if kind == "议案":
            return str(self.randint(1, 30))
        code = jur.code
        if kind == "建议":
            if code == "gz":
                return f"{year}{self.randint(1000, 3999)}"
            if code == "sz":
                return f"{self.randint(1, 60)}-{self.randint(1, 40)}"
            if code == "gd":
                return str(self.randint(1001, 1999))
            return f"{self.randint(1, 1200):04d}"
        # 提案: 党派 (D) and 界别 (J) proposals are numbered apart in some places
        if org and code in ("gz", "bj") and rnd() < 0.7:
            letter = "J" if "界别" in org or "工商联" in org else "D"
            return f"{letter}{self.randint(1, 150):03d}"
        if code == "bj":
            return str(self.randint(1001, 1999))
        if code == "sz" and rnd() < 0.3:
            return f"{self.randint(1, 60)}-{self.randint(1, 12)}"
        return f"{year}{self.randint(1001, 1999 if code != 'gz' else 3999)}"

    def contacts(self, name: str | None, pronoun: str) -> tuple[list[dict], str]:
        """The contact sentence of the opening paragraph and the contacts it reports."""
        rnd = self.rnd
        letter_date = self.letter_date
        r = rnd()
        who = f"{name}{'委员' if self.base['KIND'] == '提案' else '代表'}" if name else pronoun
        if r < 0.4:
            d = letter_date - timedelta(days=self.randint(6, 50))
            two = d.day < 28 and rnd() < 0.6
            channels = self.choice(
                (["微信", "电话"], ["电话"], ["电话", "微信"], ["微信"], ["邮件"])
            )
            days = f"{d.day}、{d.day + 1}" if two else f"{d.day}"
            if two and rnd() < 0.3:
                days = f"{d.day}日、{d.day + 1}"
            text = f"，并与{who}在{d.month}月{days}日进行了{'、'.join(channels)}沟通交流。"
            dates = [d, d + timedelta(days=1)] if two else [d]
            return [{"date": x.isoformat(), "channels": list(channels)} for x in dates], text
        if r < 0.65:
            d2 = letter_date - timedelta(days=self.randint(4, 25))
            d1 = d2 - timedelta(days=self.randint(3, 30))
            ch = self.choice(("电话", "微信"))
            text = (
                f"，并于{d1.month}月{d1.day}日通过{ch}与{pronoun}沟通，"
                f"{d2.month}月{d2.day}日到现场与{pronoun}面商。"
            )
            return [
                {"date": d1.isoformat(), "channels": [ch]},
                {"date": d2.isoformat(), "channels": ["面商"]},
            ], text
        if r < 0.8:
            d = letter_date - timedelta(days=self.randint(6, 45))
            if rnd() < 0.3:
                text = (
                    f"。{d.month}月{d.day}日，{self.base['U']}邀请{pronoun}视察了"
                    f"{self.topic.name}工作现场，并召开座谈会听取意见建议。"
                )
                return [{"date": d.isoformat(), "channels": ["视察", "座谈会"]}], text
            text = (
                f"。{d.month}月{d.day}日，{self.base['U']}邀请{pronoun}参加了"
                f"{self.topic.name}工作座谈会，听取意见建议。"
            )
            return [{"date": d.isoformat(), "channels": ["座谈会"]}], text
        if r < 0.9:
            return [], f"，办理过程中通过电话与{pronoun}进行了沟通。"
        return [], "。"

    # -- body -------------------------------------------------------------------------

    def sentences(self, budget: int, deck: _Deck, topic_deck: _Deck | None = None) -> str:
        """Sentences from the decks until about ``budget`` characters (two at a time)."""
        rnd = self.rnd
        out = []
        used = 0
        while used < budget - 20 or not out:
            first = (topic_deck.draw() if topic_deck and rnd() < 0.3 else None) or deck.draw()
            if budget - used > 90:
                second = (topic_deck.draw() if topic_deck and rnd() < 0.3 else None) or deck.draw()
                text = self.fill(first[0] + second[1])
            else:
                text = self.fill(first[0])
            out.append(text)
            used += len(text)
        return "".join(out)

    def body(self, budget: int, grade: str) -> list[str]:  # noqa: C901 - one letter's body
        rnd = self.rnd
        topic = self.topic
        facts = _Deck(_FACT_PAIRS, rnd)
        topic_facts = _Deck(topic.fact_pairs, rnd, rounds=2)
        subheads = _Deck(_SUBHEADS, rnd)
        paras: list[str] = []
        p1 = int(budget * (0.55 + rnd() * 0.15))
        diff = int(budget * 0.08) if rnd() < 0.25 else 0
        p3 = budget - p1 - diff
        top = 0

        # Part one: the work done, in (一)(二)… subsections or "一、关于…的问题" sections
        if rnd() < 0.15:
            k = max(2, min(4, p1 // 500))
            for m in self.sample(topic.measures, k):
                paras.append(f"{_ORDINALS[top]}、关于{m}的问题")
                top += 1
                self.focus = m
                paras.append(self.sentences(p1 // k, facts, topic_facts))
            self.focus = None
        else:
            paras.append(f"{_ORDINALS[top]}、{self.fill(self.choice(_PART1_HEADS))}")
            top += 1
            if p1 < 350:
                paras.append(self.sentences(p1, facts, topic_facts))
            else:
                k = max(2, min(6, round(p1 / (380 + rnd() * 240))))
                per = p1 // k
                for j in range(k):
                    self.focus = self.choice(topic.measures)
                    paras.append(f"（{_ORDINALS[j]}）{self.fill(subheads.draw())}")
                    if rnd() < 0.35:
                        paras.append(self.enumerated(per, facts, topic_facts))
                    elif per > 450 and rnd() < 0.6:
                        half = per // 2
                        paras.append(self.sentences(half, facts, topic_facts))
                        paras.append(self.sentences(per - half, facts, topic_facts))
                    else:
                        paras.append(self.sentences(per, facts, topic_facts))
        self.focus = None
        if rnd() < 0.05:
            paras[-1] += self.fill(self.choice(_RARE_SENTENCES))

        # Part two (some letters): the difficulties
        if diff:
            paras.append(f"{_ORDINALS[top]}、{self.choice(_DIFF_HEADS)}")
            top += 1
            paras.append(self.sentences(diff, _Deck(_DIFF_PAIRS, rnd)))

        # Last part: what comes next (the commitments)
        paras.append(f"{_ORDINALS[top]}、{self.choice(_NEXT_HEADS)}")
        intro = self.fill(self.choice(_NEXT_INTROS)) + self.fill(_GRADE_SENTENCES[grade])
        paras.append(intro)
        plans = _Deck(_PLAN_PAIRS, rnd)
        topic_plans = _Deck(topic.plan_pairs, rnd, rounds=2)
        heads = _Deck(_PLAN_HEADS, rnd)
        k = max(2, min(6, round((p3 - len(intro)) / (200 + rnd() * 150))))
        per = max(60, (p3 - len(intro)) // k)
        for j in range(k):
            head = self.fill(heads.draw())
            text = self.sentences(per - len(head), plans, topic_plans)
            paras.append(f"（{_ORDINALS[j]}）{head}。{text}")
        if rnd() < 0.03:
            paras[-1] += self.fill(self.choice(_RARE_SENTENCES))

        paras.append(self.fill(self.choice(_CLOSINGS)))
        if rnd() < 0.35:
            paras.append(self.choice(_SIGN_OFFS))
        return paras

    def enumerated(self, budget: int, facts: _Deck, topic_facts: _Deck) -> str:
        """ "一是…。二是…。" with a sentence or two after each point."""
        out = []
        used = 0
        j = 0
        while used < budget and j < 6:
            point = f"{_ORDINALS[j]}是{self.choice(_VERBS)}{self.choice(self.topic.measures)}。"
            more = self.sentences(60 + int(self.rnd() * 100), facts, topic_facts)
            out.append(point + more)
            used += len(point) + len(more)
            j += 1
        return "".join(out)


# --------------------------------------------------------------------------------------
# Public interface
# --------------------------------------------------------------------------------------


def generate_records(n: int, seed: int = 1) -> Iterator[dict]:
    """Yield ``n`` letters with their ground truth, deterministically for ``(n, seed)``.

    Each dict has file_name, text, encoding and the fields the generator put in the
    letter, named and shaped as ``parser.parse_letter`` returns them.  Letters are drawn
    one after another from a single ``random.Random(seed)``, so the first k records are
    the same for any n >= k.
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    corpus = _Corpus(seed)
    for index in range(1, n + 1):
        yield corpus.record(index)


def generate_letters(n: int, seed: int = 1) -> Iterator[tuple[str, str]]:
    """Yield ``(file_name, text)`` for ``n`` synthetic reply letters."""
    for record in generate_records(n, seed):
        yield record["file_name"], record["text"]


def write_corpus(out_dir, n: int, seed: int = 1, *, encoding_mix: bool = True) -> int:
    """Write ``n`` letters as .txt files into ``out_dir`` (created if missing).

    With ``encoding_mix`` about 5% of the files are GB18030-encoded (as old office
    systems save them), the rest UTF-8.  Returns the number of files written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    count = 0
    for record in generate_records(n, seed):
        encoding = record["encoding"] if encoding_mix else "utf-8"
        (out / record["file_name"]).write_bytes(record["text"].encode(encoding))
        count += 1
    return count
