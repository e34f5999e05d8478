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
from tracker.search.postgres.document import ASCII_RUN, MARK, MAX_LEXEME_BYTES

NEVER = f"'{MARK}'"  # a lexeme no letter has (every unit has a character after the mark)


def lexeme(word: str, *, prefix: bool = False) -> str:
    """A tsquery operand for a lexeme (quoted; a lexeme too long to be stored never
    matches)."""
    if len(word.encode("utf-8")) > MAX_LEXEME_BYTES:
        return NEVER
    quoted = word.replace("\\", "\\\\").replace("'", "''")
    return f"'{quoted}'" + (":*" if prefix else "")


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


@dataclass(frozen=True)
class Text:
    """How a text (squeezed, normalised) is found."""

    needle: str
    chain: str | None  # its units at their distances; None: it has none
    exact: bool  # the chain matches exactly the letters with the text (positions kept)
    units: str | None  # all its units, anywhere: every letter with the text has them
    ends: str | None  # its first and last units: what its letters are ranked by

    @classmethod
    def of(cls, needle: str) -> Text:
        units: list[tuple[int, str]] = []
        covered = [False] * len(needle)
        for m in analysis.han_runs(needle):
            for i in range(m.start(), m.end() - 1):
                units.append((i, lexeme(MARK + needle[i : i + 2])))
            covered[m.start() : m.end()] = [True] * (m.end() - m.start())
        for m in ASCII_RUN.finditer(needle):
            start, end = m.span()
            if start == 0:  # a letter's run may begin before it: not a unit of the letter
                continue
            # a run at the end may go on in the letter: a prefix of the letter's unit
            units.append((start, lexeme(MARK + m.group(), prefix=end == len(needle))))
            covered[start:end] = [True] * (end - start)
        if not units:
            return cls(needle, None, False, None, None)
        units.sort()
        chain = [units[0][1]]
        for (before, _), (offset, operand) in zip(units, units[1:], strict=False):
            distance = offset - before
            chain.append("<->" if distance == 1 else f"<{distance}>")
            chain.append(operand)
        return cls(
            needle,
            " ".join(chain),
            all(covered),
            all_of(list(dict.fromkeys(u for _, u in units))),
            all_of(list(dict.fromkeys([units[0][1], units[-1][1]]))),
        )


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
            parts.append(self.text.units or words_query(self.clause.words))
        return any_of(parts)

    def rank(self) -> str | None:
        """What the clause's letters are ranked by: its words, or its text's ends."""
        parts = [self.words] if self.words else []
        if self.text is not None and self.text.ends:
            parts.append(self.text.ends)
        return any_of(parts) if parts else None

    def text_only(self) -> str:
        """The letters with the text (a loose clause's text, for ranking them first)."""
        assert self.text is not None
        return self.text.chain or NEVER


def clause_query(clause: analysis.Clause, *, known: bool = True) -> ClauseQuery:
    """`known`: for a one-word clause with character pairs, whether some letter has the
    word as a word (when none has, its text is looked for, as the Whoosh engine does)."""
    if clause.phrase:
        return ClauseQuery(clause, None, Text.of(clause.text))
    words = words_query(clause.words)
    if clause.loose:
        return ClauseQuery(clause, words, Text.of(clause.text))
    if not known:
        return ClauseQuery(clause, None, Text.of(clause.text))
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
        has no loose clause)."""
        loose = self.loose_groups()
        if not loose:
            return None
        return all_of([self.tsquery()] + [any_of([c.text_only() for c in g]) for g in loose])

    def rank(self) -> str:
        """What the matches are ranked by: the query without phrases (RUM ranks a phrase
        slowly: every letter has it, so it adds nothing) nor exclusions; only lexemes of
        ``tsquery`` (RUM ranks by the lexemes its scan reads)."""
        groups = [[r for r in (c.rank() for c in g) if r] for g in self.groups]
        return all_of([any_of(g) for g in groups if g] or [NEVER])

    def candidates(self) -> str:
        """A superset of the matching letters, without positions or exclusions."""
        return all_of([any_of([c.candidates() for c in g]) for g in self.groups])


def plan(parsed: analysis.ParsedQuery, known=lambda word: True) -> Plan:
    """`known(word)`: whether some letter has this word (asked only of one-word clauses
    with character pairs)."""

    def one(clause: analysis.Clause) -> ClauseQuery:
        is_known = known(clause.words[0]) if may_be_unknown(clause) else True
        return clause_query(clause, known=is_known)

    return Plan([[one(c) for c in g] for g in parsed.groups], [one(c) for c in parsed.excluded])
