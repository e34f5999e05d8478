"""A parsed query (``analysis.parse_query``) as tsquery text, for the tsvectors of
``document``: pure Python, no database.

A word is its lexeme. A text -- a phrase, a string the letters segment otherwise (a loose
clause) or a word no letter has as a word -- is its units at their distances
(``'~黄泥' <-> '~泥塘' <-> '~塘村'``); the chain decides alone when it covers every
character of the text (Han characters and interior runs of letters and digits), else it
only narrows the candidates, and the text is looked for in each (``Text.exact``).
"""

from __future__ import annotations

from dataclasses import dataclass

from tracker.search import analysis
from tracker.search.postgres.document import ASCII_RUN, MARK, MAX_LEXEME_BYTES, TITLE_MARK

NEVER = f"'{MARK}'"  # a lexeme no letter has (every unit has a character after the mark)


def lexeme(word: str, *, prefix: bool = False, weights: str = "") -> str:
    """A tsquery operand for a lexeme (quoted; `weights`: only in these fields, e.g. "A";
    a lexeme too long to be stored never matches)."""
    if len(word.encode("utf-8")) > MAX_LEXEME_BYTES:
        return NEVER
    quoted = word.replace("\\", "\\\\").replace("'", "''")
    flags = ("*" if prefix else "") + weights
    return f"'{quoted}'" + (f":{flags}" if flags else "")


def all_of(parts: list[str]) -> str:
    if len(parts) == 1:
        return parts[0]
    return " & ".join(f"( {p} )" for p in parts)


def any_of(parts: list[str]) -> str:
    if len(parts) == 1:
        return parts[0]
    return " | ".join(f"( {p} )" for p in parts)


def words_query(words: tuple[str, ...]) -> str:
    return all_of([lexeme(w) for w in dict.fromkeys(words)])


def cover(pairs: list[float]) -> list[int]:
    """Of the pairs of a run of Han characters (pair i: characters i and i+1, with its cost),
    the cheapest set that covers every character: the first and the last pair, and of two
    pairs in a row at least one. (A phrase is as exact with half its pairs, and a pair in
    every letter costs a scan of every letter's postings.)"""
    n = len(pairs)
    inf = float("inf")
    take, skip = [pairs[0]], [inf]  # the cost so far with pair i taken / not taken
    for i in range(1, n):
        take.append(pairs[i] + min(take[i - 1], skip[i - 1]))
        skip.append(take[i - 1])  # a pair left out: the one before covers its first character
    chosen, taken = [], True  # the last pair is taken
    for i in range(n - 1, -1, -1):
        if taken:
            chosen.append(i)
            taken = i > 0 and take[i - 1] <= skip[i - 1]
        else:
            taken = True
    return chosen[::-1]


@dataclass(frozen=True)
class Text:
    """How a text (squeezed, normalised) is found."""

    needle: str
    units: tuple[tuple[int, str, bool], ...]  # (offset, lexeme, prefix) of its units used
    exact: bool  # the chain matches exactly the letters with the text (positions kept)
    rarest: int = 0  # the unit (its index in units) in the fewest letters

    @classmethod
    def of(cls, needle: str, cost=lambda lexeme: 0.0) -> Text:
        """`cost(lexeme)`: how much reading a unit's postings costs (its share of letters):
        the cheapest pairs that cover the text are used."""
        units: list[tuple[int, str, bool]] = []
        covered = [False] * len(needle)
        for m in analysis.han_runs(needle):
            run, start = m.group(), m.start()
            pairs = [MARK + run[i : i + 2] for i in range(len(run) - 1)]
            for i in cover([cost(p) + 0.001 for p in pairs]):
                units.append((start + i, pairs[i], False))
            covered[m.start() : m.end()] = [True] * (m.end() - m.start())
        for m in ASCII_RUN.finditer(needle):
            start, end = m.span()
            if start == 0:  # a letter's run may begin before it: not a unit of the letter
                continue
            # a run at the end may go on in the letter: a prefix of the letter's unit
            units.append((start, MARK + m.group(), end == len(needle)))
            covered[start:end] = [True] * (end - start)
        units.sort()
        rarest = min(range(len(units)), key=lambda i: (cost(units[i][1]), i), default=0)
        return cls(needle, tuple(units), bool(units) and all(covered), rarest)

    def _operands(self, units, weights: str = "", title: bool = False) -> list[str]:
        mark = TITLE_MARK if title else ""
        return [lexeme(mark + lex, prefix=prefix, weights=weights) for _, lex, prefix in units]

    @property
    def chain(self) -> str | None:
        """Its units at their distances (None: it has none)."""
        if not self.units:
            return None
        operands = self._operands(self.units)
        out = [operands[0]]
        for (before, _, _), (offset, _, _), operand in zip(
            self.units, self.units[1:], operands[1:], strict=False
        ):
            distance = offset - before
            out += ["<->" if distance == 1 else f"<{distance}>", operand]
        return " ".join(out)

    @property
    def all_units(self) -> str | None:
        """All its units, anywhere: every letter with the text has them."""
        return all_of(list(dict.fromkeys(self._operands(self.units)))) if self.units else None

    def ranked(self) -> str | None:
        """What its letters are ranked by: its unit in the fewest letters. (RUM ranks a
        letter by the positions of each lexeme it is asked to rank by, up to 256 a unit:
        the 8,887 letters with 加装电梯 of 100,000 took 120-180 ms ranked by both ends of
        the text, 38 ms by one; every letter ranked has the text, so each occurrence of it
        counts in either.)"""
        if not self.units:
            return None
        return self._operands([self.units[self.rarest]])[0]

    def ends(self, weights: str = "", title: bool = False) -> str | None:
        """Its first and last units: a letter with the text in a title has both there
        (`title`: the titles' marked lexemes; `weights`: the units in those fields)."""
        if not self.units:
            return None
        ends = [self.units[0], self.units[-1]]
        return all_of(list(dict.fromkeys(self._operands(ends, weights, title))))


@dataclass(frozen=True)
class ClauseQuery:
    """One clause: its words (all required), its text, or either (a loose clause)."""

    clause: analysis.Clause
    words: str | None  # tsquery of its words; None: the text alone decides
    text: Text | None

    @property
    def exact(self) -> bool:
        """Whether the tsquery alone decides (no text to look for in candidates)."""
        return self.text is None or self.text.exact

    def tsquery(self) -> str:
        """The clause, exactly when ``exact``."""
        parts = [self.words] if self.words else []
        if self.text is not None:
            parts.append(self.text.chain or NEVER)
        return any_of(parts)

    def candidates(self) -> str:
        """A superset of the letters the clause matches, without positions."""
        parts = [self.words] if self.words else []
        if self.text is not None:
            parts.append(self.text.all_units or words_query(self.clause.words))
        return any_of(parts)

    def rank(self) -> str | None:
        """What the clause's letters are ranked by: its words, or its text's rarest unit."""
        parts = [self.words] if self.words else []
        if self.text is not None and self.text.units:
            parts.append(self.text.ranked())
        return any_of(parts) if parts else None

    def text_only(self) -> str:
        """The letters with the text (a loose clause's text, for ranking them first)."""
        assert self.text is not None
        return self.text.chain or NEVER


def clause_query(
    clause: analysis.Clause, *, known: bool = True, cost=lambda lexeme: 0.0
) -> ClauseQuery:
    """`known`: for a one-word clause with character pairs, whether some letter has the
    word as a word (when none has, its text is looked for, as the Whoosh engine does);
    `cost`: of reading a unit's postings (``Text.of``)."""
    if clause.phrase:
        return ClauseQuery(clause, None, Text.of(clause.text, cost))
    words = words_query(clause.words)
    if clause.loose:
        return ClauseQuery(clause, words, Text.of(clause.text, cost))
    if not known:
        return ClauseQuery(clause, None, Text.of(clause.text, cost))
    return ClauseQuery(clause, words, None)


def may_be_unknown(clause: analysis.Clause) -> bool:
    """A one-word clause that is looked for as text when no letter has the word."""
    return (
        not clause.phrase
        and not clause.loose
        and len(clause.words) == 1
        and bool(analysis.bigrams(clause.text))
    )


@dataclass(frozen=True)
class Plan:
    groups: list[list[ClauseQuery]]
    excluded: list[ClauseQuery]

    @property
    def exact(self) -> bool:
        return all(c.exact for g in self.groups for c in g) and all(c.exact for c in self.excluded)

    @property
    def has_text(self) -> bool:
        return any(c.text is not None for g in self.groups for c in g) or any(
            c.text is not None for c in self.excluded
        )

    def loose_groups(self) -> list[list[ClauseQuery]]:
        """Of each group with loose clauses, those clauses."""
        out = [[c for c in g if c.clause.loose] for g in self.groups]
        return [g for g in out if g]

    def tsquery(self) -> str:
        """The whole query, exact when ``exact`` (for letters whose positions are kept)."""
        parts = [any_of([c.tsquery() for c in g]) for g in self.groups]
        parts += [f"!( {c.tsquery()} )" for c in self.excluded]
        return all_of(parts)

    def texts_first(self) -> str | None:
        """The matching letters that have, in every group with loose clauses, the text of
        one of them: they rank above those with only the words apart (None: the query
        has no loose clause). (Those groups are their texts alone: a simpler tsquery.)"""
        if not self.loose_groups():
            return None
        parts = []
        for g in self.groups:
            loose = [c for c in g if c.clause.loose]
            parts.append(
                any_of([c.text_only() for c in loose] if loose else [c.tsquery() for c in g])
            )
        parts += [f"!( {c.tsquery()} )" for c in self.excluded]
        return all_of(parts)

    def rank_first(self) -> str:
        """What the letters of ``texts_first`` are ranked by: their loose texts' rarest units
        for the groups with loose clauses (fewer postings to read), as ``rank`` for the
        others."""
        parts = []
        for g in self.groups:
            loose = [c for c in g if c.clause.loose and c.text is not None and c.text.units]
            ranks = [c.text.ranked() for c in loose] if loose else [c.rank() for c in g]
            ranks = [r for r in ranks if r]
            if ranks:
                parts.append(any_of(ranks))
        return all_of(parts or [NEVER])

    def rank(self) -> str:
        """What the matches are ranked by: the query without phrases (RUM ranks a phrase
        slowly: every letter has it, so it adds nothing) nor exclusions; only lexemes of
        ``tsquery`` (RUM ranks by the lexemes its scan reads)."""
        groups = [[r for r in (c.rank() for c in g) if r] for g in self.groups]
        return all_of([any_of(g) for g in groups if g] or [NEVER])

    def in_titles(self, marked: bool = True) -> str:
        """The letters with any of the query's words (or texts' ends) in their titles: their
        marked lexemes (``document.TITLE_MARK``), or, `marked` False (rows of the first
        format), the lexemes in weight A."""
        operands: list[str] = []
        for g in self.groups:
            for c in g:
                if c.words:
                    operands += [
                        lexeme(TITLE_MARK + w) if marked else lexeme(w, weights="A")
                        for w in c.clause.words
                    ]
                if c.text is not None and c.text.units:
                    operands.append(c.text.ends(title=True) if marked else c.text.ends("A"))
        return any_of(list(dict.fromkeys(operands)) or [NEVER])

    def candidates(self) -> str:
        """A superset of the matching letters, without positions or exclusions."""
        return all_of([any_of([c.candidates() for c in g]) for g in self.groups])


def plan(parsed: analysis.ParsedQuery, known=lambda word: True, cost=lambda lexeme: 0.0) -> Plan:
    """`known(word)`: whether some letter has this word (asked only of one-word clauses
    with character pairs); `cost(lexeme)`: of reading a unit's postings."""

    def one(clause: analysis.Clause) -> ClauseQuery:
        is_known = known(clause.words[0]) if may_be_unknown(clause) else True
        return clause_query(clause, known=is_known, cost=cost)

    return Plan([[one(c) for c in g] for g in parsed.groups], [one(c) for c in parsed.excluded])
