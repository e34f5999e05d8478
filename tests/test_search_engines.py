"""One suite for both search engines: the same cases on Whoosh and on PostgreSQL (with a RUM
index, and with GIN where the rum extension is missing).

The engine-independent cases of test_search_engine.py are collected here again with this
module's ``engine`` and ``split_engine`` fixtures; the cases below them are written for
any engine. PostgreSQL is the session's server (conftest's ``pg_server``)."""

from __future__ import annotations

import dataclasses
import re
from datetime import date

import pytest
from sqlalchemy import create_engine, event
from test_search_engine import (  # noqa: F401  (the cases are collected again here)
    ALL,
    LIFTS,
    PIECES,
    SCHOOL_TEACHERS,
    SEED,
    SPLIT_LETTERS,
    TOILETS,
    VILLAGE,
    BuiltIndexes,
    built_indexes,
    found,
    letter_file_docs,
    seed_doc,
    test_a_dictionary_word_keeps_word_matching_unless_quoted,
    test_a_name_broken_by_a_line_break_is_found_and_marked,
    test_a_name_found_as_a_word_and_glued_to_a_title,
    test_a_name_inside_a_longer_string_is_found_first,
    test_all_words_required,
    test_bare_string_is_segmented_and_its_words_anded,
    test_empty_query,
    test_facet_counts,
    test_filters_are_exact,
    test_hit_fields,
    test_index_replaces_by_id_and_remove,
    test_malformed_queries_never_raise,
    test_or_and_exclusion,
    test_or_and_exclusion_with_names,
    test_phrase_needs_consecutive_words,
    test_public_only_and_unit_restriction,
    test_quoted_phrases_across_segmentations,
    test_rebuild_replaces_everything,
    test_seed_letter_found_by_word_phrase_name_and_numbers,
    test_similar_letters,
    test_snippets_are_escaped,
    test_snippets_mark_matches,
    test_sort_by_date_and_pagination,
    test_terms_and_phrase_terms,
    test_the_letter_with_the_name_ranks_above_letters_with_its_words_apart,
    test_title_ranks_above_body,
    test_two_character_words,
    test_unbalanced_quote_reads_plain_words,
    test_word_inside_a_longer_word,
)

from tracker.search import analysis
from tracker.search.base import LetterDoc, SearchQuery
from tracker.search.postgres import document
from tracker.search.whoosh.engine import WhooshEngine
from tracker.services.pgsearch import PostgresEngine, schema

ENGINES = ["whoosh", "postgres", "postgres-gin"]


def _database(pg_server):
    url = pg_server.create_database()
    engine = create_engine(url)
    yield engine
    engine.dispose()
    pg_server.drop_database(url)


@pytest.fixture(scope="session")
def pg_database(pg_server):
    """A database for the engine cases (the RUM engine's; each case starts with the engine's
    table dropped, or as Engines.held)."""
    yield from _database(pg_server)


@pytest.fixture(scope="session")
def pg_database_gin(pg_server):
    """The GIN engine's database: the cases of the two kinds alternate, each keeps its own."""
    yield from _database(pg_server)


class Engines:
    """Makes engines of one kind that share one store (an index folder, a database)."""

    # On PostgreSQL, for each kind of engine (a database each): which letters its table
    # holds and the fingerprint it had then. A test whose store is the same starts on it as
    # it is (indexing the letters again was most of these tests' time); any change a test
    # made (a row, an index, the planner's statistics) shows in the fingerprint, and the
    # next test indexes them again.
    held: dict[str, dict] = {}

    def __init__(self, kind: str, request, tmp_path) -> None:
        self.kind = kind
        self.request = request
        self.folder = tmp_path / "index"
        self.made: list = []
        self.ready = kind == "whoosh"  # PostgreSQL: the table dropped, or found as held
        if kind != "whoosh":
            self.db = request.getfixturevalue(
                "pg_database" if kind == "postgres" else "pg_database_gin"
            )

    def holding(self, name: str):
        """An engine on the store, which starts with the letters called `name` indexed: for
        Whoosh a copy of an index built once per session; on PostgreSQL the table as the
        last test that asked for them left it, when it is unchanged, else indexed again."""
        if self.kind == "whoosh":
            self.request.getfixturevalue("built_indexes").whoosh(name, self.folder)
            return self()
        held = Engines.held.get(self.kind, {})
        if held.get("name") == name and held.get("print") == self._fingerprint():
            self.ready = True
            return self()
        eng = self()  # (drops the table)
        eng.index(BuiltIndexes.docs(name))
        Engines.held[self.kind] = {"name": name, "print": self._fingerprint()}
        return eng

    def _fingerprint(self) -> tuple:
        with self.db.connect() as conn:
            return conn.exec_driver_sql(
                f"SELECT (SELECT count(*) || ':' || coalesce(sum(hashtext(t::text)), 0) "
                f"FROM {schema.TABLE} t), "
                f"(SELECT string_agg(indexname || indexdef, ';' ORDER BY indexname) "
                f"FROM pg_indexes WHERE tablename IN ('{schema.TABLE}', '{schema.BUILD}')), "
                f"(SELECT count(*) FROM pg_statistic WHERE starelid IN "
                f"(to_regclass('{schema.TABLE}'), to_regclass('{schema.BUILD}'))), "
                f"to_regclass('{schema.BUILD}') IS NULL"
            ).one()

    def __call__(self):
        if self.kind == "whoosh":
            eng = WhooshEngine(self.folder)
        else:
            if not self.ready:  # a store of its own: the table dropped
                with self.db.begin() as conn:
                    schema.drop(conn)
                Engines.held.pop(self.kind, None)
                self.ready = True
            eng = PostgresEngine(self.db, rum=None if self.kind == "postgres" else False)
        self.made.append(eng)
        return eng

    def close(self) -> None:
        for eng in self.made:
            eng.close()


@pytest.fixture(params=ENGINES)
def engines(request, tmp_path):
    made = Engines(request.param, request, tmp_path)
    yield made
    made.close()


@pytest.fixture
def engine(engines):
    return engines.holding("all")


@pytest.fixture
def split_engine(engines):
    return engines.holding("split")


@pytest.mark.parametrize(("rum", "kind"), [(None, "rum"), (False, "gin")])
def test_the_postgres_engine_uses_rum_when_it_can(pg_database, rum, kind):
    with pg_database.begin() as conn:
        schema.drop(conn)
    eng = PostgresEngine(pg_database, rum=rum)
    eng.index([TOILETS])
    assert eng.text_index() == kind
    assert found(eng, "公厕") == [2]


def _generation(db) -> int:
    with db.connect() as conn:
        return conn.exec_driver_sql(f"SELECT generation FROM {schema.STATE}").scalar_one()


def test_a_querys_counts_are_used_again_until_the_letters_change(pg_database):
    """The counts (total and facets) of a query are counted once for its pages and orders,
    and again once any letter changed, by any engine on the database; never shared between
    queries, filters or visibilities."""
    with pg_database.begin() as conn:
        schema.drop(conn)
    eng = PostgresEngine(pg_database)
    eng.index(ALL)
    counted: list[str] = []

    def count(conn, cursor, statement, params, context, executemany):
        if "GROUPING" in statement:
            counted.append(statement)

    event.listen(pg_database, "before_cursor_execute", count)
    try:
        first = eng.search(SearchQuery(text="答复"))
        assert first.total == 6 and len(counted) == 1
        again = [
            eng.search(SearchQuery(text="答复", per_page=2, page=2)),
            eng.search(SearchQuery(text="答复", sort="date")),
        ]
        assert len(counted) == 1  # its pages and orders: the counts kept
        assert [r.total for r in again] == [6, 6] and again[1].facets == first.facets
        assert [h.letter_id for h in again[0].hits] == [h.letter_id for h in first.hits][2:4]
        hidden = eng.search(SearchQuery(text="答复", public_only=True))
        restricted = eng.search(SearchQuery(text="心理", unit_ids=frozenset({7})))
        other_unit = eng.search(SearchQuery(text="心理", unit_ids=frozenset({8})))
        filtered = eng.search(SearchQuery(text="答复", filters={"issuer": "广州市教育局"}))
        assert len(counted) == 5
        assert (hidden.total, restricted.total, other_unit.total, filtered.total) == (4, 3, 2, 3)

        # a change rolled back: the same letters, the same generation
        generation = _generation(pg_database)
        new = dataclasses.replace(SCHOOL_TEACHERS, id=40, title="关于教师的答复")
        with pg_database.connect() as conn, conn.begin() as transaction:
            eng.write(conn, [new])
            transaction.rollback()
        assert _generation(pg_database) == generation
        assert eng.search(SearchQuery(text="答复")).total == 6 and len(counted) == 5

        # a change committed by another engine (another server): a new generation, once for
        # the transaction however many letters it wrote; counted again
        PostgresEngine(pg_database).index([new, dataclasses.replace(new, id=41)])
        assert _generation(pg_database) == generation + 1
        after = eng.search(SearchQuery(text="答复"))
        assert after.total == 8 and len(counted) == 6
        assert dict(after.facets["issuer"])["广州市教育局"] == 5
        # written again unchanged: no change, no new generation
        PostgresEngine(pg_database).index([new])
        assert _generation(pg_database) == generation + 1
        PostgresEngine(pg_database).remove([40, 41])
        assert eng.search(SearchQuery(text="答复")).total == 6 and len(counted) == 7
    finally:
        event.remove(pg_database, "before_cursor_execute", count)


def test_a_texts_similar_letters_are_used_again_until_the_letters_change(pg_database):
    """A page that shows a text's similar letters (a proposal's, its draft's, a letter's) is
    seen again after every step of the work: the same text asked by the same viewer is
    answered without the search's statements while the letters are the same, and weighed
    again once any letter changed, by any engine on the database; never shared between
    texts, excluded letters, limits or visibilities."""
    with pg_database.begin() as conn:
        schema.drop(conn)
    eng = PostgresEngine(pg_database)
    eng.index(ALL)
    text_ = "学校心理辅导室建设和心理教师配备"
    weighed: list[str] = []

    def record(conn, cursor, statement, params, context, executemany):
        if "reltuples" in statement:  # the letters counted for the word weights: once a
            weighed.append(statement)  # similar() is computed

    event.listen(pg_database, "before_cursor_execute", record)
    try:
        first = eng.similar(text_, limit=5, exclude=[1])
        assert first[0].letter_id == 5 and len(weighed) == 1
        assert eng.similar(text_, limit=5, exclude=[1]) == first and len(weighed) == 1
        others = [
            eng.similar(text_, limit=5, exclude=[1, 5]),
            eng.similar(text_, limit=2, exclude=[1]),
            eng.similar(text_, limit=5, exclude=[1], public_only=True),
            eng.similar(text_, limit=5, exclude=[1], unit_ids=frozenset({1})),
            eng.similar(text_ + "。", limit=5, exclude=[1]),
        ]
        assert len(weighed) == 6
        assert 5 not in [h.letter_id for h in others[0]] and len(others[1]) <= 2
        assert 5 not in [h.letter_id for h in others[3]]

        # a letter with the very text, committed by another engine (another server): a new
        # generation, weighed again, and it is among them
        PostgresEngine(pg_database).index(
            [dataclasses.replace(SCHOOL_TEACHERS, id=42, title=text_, body=text_ * 3)]
        )
        after = eng.similar(text_, limit=5, exclude=[1])
        assert len(weighed) == 7 and 42 in [h.letter_id for h in after]
        PostgresEngine(pg_database).remove([42])
        assert eng.similar(text_, limit=5, exclude=[1]) == first and len(weighed) == 8
    finally:
        event.remove(pg_database, "before_cursor_execute", record)


def test_a_table_made_by_an_earlier_version_gets_its_state_as_of_the_first_format(pg_database):
    with pg_database.begin() as conn:
        schema.drop(conn)
    PostgresEngine(pg_database).index(ALL)
    with pg_database.begin() as conn:  # as the version before the state made it
        conn.exec_driver_sql(f"DROP TABLE {schema.STATE}")
        conn.exec_driver_sql(f"DROP FUNCTION {schema.TABLE}_changed() CASCADE")
    eng = PostgresEngine(pg_database)
    assert found(eng, "答复") == found(eng, "答复")  # (searchable)
    with pg_database.connect() as conn:
        assert conn.exec_driver_sql(f"SELECT format FROM {schema.STATE}").scalar_one() == 1
        assert schema.state_ready(conn)
    generation = _generation(pg_database)
    eng.index([dataclasses.replace(TOILETS, title="公厕的答复")])
    assert _generation(pg_database) == generation + 1
    eng.rebuild(ALL)  # rows of the current format, in a table of its own
    with pg_database.connect() as conn:
        assert conn.exec_driver_sql(f"SELECT format FROM {schema.STATE}").scalar_one() == 2
        assert schema.state_ready(conn)
    assert _generation(pg_database) > generation + 1


# -- any engine ------------------------------------------------------------------------------


def test_another_engine_on_the_same_store_sees_every_change(engines):
    a, b = engines(), engines()
    assert found(a, "公厕") == []
    b.index([TOILETS])
    assert found(a, "公厕") == [2]
    b.remove([2])
    assert found(a, "公厕") == []
    b.rebuild([LIFTS])
    assert found(a, "电梯") == [3] and a.ids() == {3}


def test_reopening_keeps_the_letters(engines):
    engines().index(ALL)
    again = engines()
    assert again.ids() == {d.id for d in ALL}
    assert found(again, '"心理健康教育"') == [1]


def test_long_and_very_common_strings(split_engine):
    assert found(split_engine, "黄泥塘村村民反映村道路面破损严重")[0] == VILLAGE.id
    assert found(split_engine, "黄泥塘" * 300) == [PIECES.id]  # no letter has it; the words apart


def test_texts_with_punctuation_are_read_as_printed(engines):
    eng = engines()
    eng.index(
        [
            seed_doc(),
            # the same units at the same distances, other punctuation between them
            seed_doc(id=2, doc_number="穗教案[2022]119号", body="文号穗教案[2022]119号。"),
            seed_doc(id=3, doc_number="穗教案〔2021〕119号", body="文号穗教案〔2021〕119号。"),
        ]
    )
    assert found(eng, "穗教案〔2022〕119号") == [1]
    assert found(eng, '"穗教案[2022]119号"') == [2]
    assert set(found(eng, "穗教案 119号")) == {1, 2, 3}
    assert found(eng, '"2022年5月"') == [1]  # a date without Han pairs in a row


def test_a_very_long_letter_is_searched_to_its_end(engines):
    """Beyond what a tsvector keeps (16,383 positions, 256 of a lexeme), texts are still
    found exactly."""
    filler = "本市持续推进各项民生工作，" * 1500  # 19,500 characters; 工作 1,500 times
    tail = "最后，黄泥塘村的道路已经修好。"
    long_letter = LetterDoc(id=40, title="很长的答复", body=filler + tail, public=True)
    eng = engines()
    eng.index([long_letter, VILLAGE, PIECES])
    assert set(found(eng, '"黄泥塘村的道路"')) == {40}
    ids = found(eng, "黄泥塘")  # the letters with the name, then the one with its words apart
    assert set(ids[:2]) == {VILLAGE.id, 40} and ids[2:] == [PIECES.id]
    assert found(eng, '"民生工作最后"') == []  # not across punctuation
    assert found(eng, '"民生工作"') == [40]
    assert eng.search(SearchQuery(text='"道路已经修好"')).hits[0].letter_id == 40
    result = eng.search(SearchQuery(text="黄泥塘", public_only=True))
    assert result.total == 3 and result.facets["year"] == [("2023", 2)]  # 40 has no date
    pages = [eng.search(SearchQuery(text="黄泥塘", per_page=1, page=p)).hits for p in (1, 2, 3)]
    assert [h.letter_id for p in pages for h in p] == ids


def test_facets_and_pages_of_a_query_whose_texts_are_read(engines):
    eng = engines()
    docs = [
        LetterDoc(
            id=100 + n,
            title=f"第{n}号答复",
            body=f"文号穗教案〔2022〕{n}号，黄泥塘村。",
            issuer="广州市教育局" if n % 2 else "广州市民政局",
            letter_on=date(2022, 1, 1 + n),
            public=True,
        )
        for n in range(1, 8)
    ]
    eng.index(docs)
    result = eng.search(SearchQuery(text='"〕3号，黄泥塘"'))
    assert [h.letter_id for h in result.hits] == [103]
    pages = [
        eng.search(SearchQuery(text='"号，黄泥塘"', per_page=3, page=p, sort="date"))
        for p in (1, 2, 3)
    ]
    assert [p.total for p in pages] == [7, 7, 7]
    assert [h.letter_id for p in pages for h in p.hits] == list(range(107, 100, -1))
    assert pages[0].facets["issuer"] == [("广州市教育局", 4), ("广州市民政局", 3)]


# -- the PostgreSQL engine's documents ---------------------------------------------------------


def _lexemes(tsv: str) -> dict[str, list[tuple[int, str]]]:
    out = {}
    for m in re.finditer(r"'((?:[^']|'')*)':([0-9A-D,]+)", tsv):
        out[m.group(1).replace("''", "'")] = [
            (int(p.rstrip("ABCD")), p[-1] if p[-1] in "ABCD" else "D")
            for p in m.group(2).split(",")
        ]
    return out


@pytest.mark.parametrize("doc", [seed_doc(), LIFTS, VILLAGE, *letter_file_docs()[:3]])
def test_every_lexeme_stands_where_its_text_is(doc):
    """A unit at position p is the squeezed text's characters p-1, p, a word at p starts
    there (so that a text's units at their distances are the text), each with its field's
    weight: A title, B names and numbers, C body."""
    squeezed = document.squeezed(doc)
    weights = ""  # the weight of each position of the squeezed fields
    for field_text, weight, _ in document.segments(doc):
        weights += "DCBA"[weight] * len(analysis.squeeze(field_text)) + " "
    lexemes = _lexemes(document.build(doc).tsv)
    assert lexemes
    for lex, positions in lexemes.items():
        for pos, weight in positions:
            assert weight == weights[pos - 1], (lex, pos)
            if lex.startswith(document.MARK):
                unit = lex[1:]
                assert squeezed[pos - 1 : pos - 1 + len(unit)] == unit, lex
            elif squeezed[pos - 1 : pos - 1 + len(lex)] != lex:  # a whole value with spaces
                assert " " in lex, (lex, pos)
    words = {lex for lex in lexemes if not lex.startswith(document.MARK)}
    fields = [t for t, _, _ in document.segments(doc)]
    assert set(analysis.analyse(fields).terms) <= words | {
        analysis.normalize(t).strip() for t in fields
    }


@pytest.mark.parametrize("doc", [seed_doc(), LIFTS, VILLAGE])
def test_the_titles_lexemes_stand_again_marked_and_without_positions(doc):
    """Every lexeme of the titles (weight A) once more with TITLE_MARK and no positions,
    and no other: the letters with a word in their titles are its marked postings."""
    tsv = document.build(doc).tsv
    positioned = _lexemes(tsv)
    bare = [m.group(1).replace("''", "'") for m in re.finditer(r"'((?:[^']|'')*)'(?=\s|$)", tsv)]
    in_titles = {
        lex for lex, positions in positioned.items() if any(w == "A" for _, w in positions)
    }
    assert "^答复" in bare and ("^~答复" in bare)  # a word and a pair of each title
    assert sorted(bare) == sorted(document.TITLE_MARK + lex for lex in in_titles)
    assert not any(lex.startswith(document.TITLE_MARK) for lex in positioned)


def test_the_letters_with_a_word_in_their_titles_are_asked_by_the_marked_lexemes():
    from tracker.search.postgres.query import plan

    one = plan(analysis.parse_query("工作"))
    assert one.in_titles() == "'^工作'"
    assert one.in_titles(marked=False) == "'工作':A"  # rows of the first format
    loose = plan(analysis.parse_query('"黄泥塘村"'))
    assert loose.in_titles() == "( '^~黄泥' ) & ( '^~塘村' )"


def test_a_letter_beyond_the_positions_is_marked_incomplete():
    assert document.build(seed_doc()).complete
    assert not document.build(LetterDoc(id=1, body="心理" * 9000)).complete  # 18,000 characters
    assert not document.build(LetterDoc(id=1, body="工作，" * 300)).complete  # 300 times a pair


# -- the PostgreSQL engine's queries --------------------------------------------------------


def test_a_phrase_is_found_by_the_cheapest_pairs_that_cover_it():
    from tracker.search.postgres.query import Text, cover

    assert cover([1.0] * 6) == [0, 2, 4, 5]  # 下一/步工/作安/安排 of 下一步工作安排
    assert cover([1.0]) == [0] and cover([1.0, 1.0]) == [0, 1]
    common = {"~步工": 0.9}  # in most letters: avoided where other pairs cover its characters
    text = Text.of("下一步工作安排", cost=lambda lex: common.get(lex, 0.0))
    assert text.chain == "'~下一' <-> '~一步' <2> '~工作' <2> '~安排'" and text.exact


def test_the_letters_with_a_text_are_ranked_by_its_rarest_unit():
    """RUM ranks by the positions of each lexeme it is asked for: a text's letters are
    ranked by its unit in the fewest letters (120-180 ms for the 8,887 letters with
    加装电梯 at 100,000 ranked by both its ends, 38 ms by one)."""
    from tracker.search.postgres.query import plan

    shares = {"~加装": 0.09, "~装电": 0.09, "~电梯": 0.2}
    loose = plan(analysis.parse_query("加装电梯"), cost=lambda lex: shares.get(lex, 0.0))
    assert loose.texts_first() == "'~加装' <2> '~电梯'"
    assert loose.rank_first() == "'~加装'"
    assert loose.rank() == "( ( '加装' ) & ( '电梯' ) ) | ( '~加装' )"
    shares["~加装"] = 0.3
    assert (
        plan(analysis.parse_query("加装电梯"), cost=lambda lex: shares.get(lex, 0.0)).rank_first()
        == "'~电梯'"
    )
    phrase = plan(analysis.parse_query('"黄泥塘村"'))  # no statistics: the first unit
    assert phrase.rank() == "'~黄泥'"


def test_very_many_matches_are_ranked_as_ts_rank_ranks_them(pg_database, monkeypatch):
    """Past TITLE_FIRST_MIN matches the letters with the word in their titles are ranked
    apart from the others: the same ranks in the same order, every letter once."""
    from tracker.services.pgsearch import engine as pg_engine

    with pg_database.begin() as conn:
        schema.drop(conn)
    eng = PostgresEngine(pg_database)
    eng.index(ALL + letter_file_docs() + SPLIT_LETTERS)

    def pages(query):
        total = eng.search(SearchQuery(text=query)).total
        return [
            (h.letter_id, round(h.score % 1.0, 4))  # (the first of two tiers scores 1 more)
            for p in range(1, total // 4 + 2)
            for h in eng.search(SearchQuery(text=query, per_page=4, page=p)).hits
        ]

    queries = ("答复", "建议", "工作 OR 心理", "心理 OR 公厕 OR 电梯", '"黄泥塘" OR 答复')
    expected = {q: pages(q) for q in queries}
    monkeypatch.setattr(pg_engine, "TITLE_FIRST_MIN", 1)
    for query, before in expected.items():
        after = pages(query)
        assert len(before) > 4 and len({i for i, _ in after}) == len(after), query
        assert sorted(after) == sorted(before), query
        assert [s for _, s in after] == [s for _, s in before], query
    asked: list[str] = []

    def ask(conn, cursor, statement, params, context, executemany):
        asked.extend(v for v in (params or {}).values() if isinstance(v, str))

    event.listen(pg_database, "before_cursor_execute", ask)
    try:
        assert sorted(pages("答复")) == sorted(expected["答复"])
        assert any("'^答复'" in v for v in asked)  # its letters' titles: the marked lexeme

        # a table of the first format (rows without the marked lexemes): the titles' words
        # are asked by their weight, to the same pages
        with pg_database.begin() as conn:
            conn.exec_driver_sql(
                f"UPDATE {schema.TABLE} SET tsv = ts_delete(tsv, ARRAY(SELECT lexeme FROM "
                "unnest(tsv) WHERE lexeme LIKE '^%%'))"
            )
            conn.exec_driver_sql(f"UPDATE {schema.STATE} SET format = 1")
        asked.clear()
        for query, before in expected.items():
            after = pages(query)
            assert sorted(after) == sorted(before), query
            assert [s for _, s in after] == [s for _, s in before], query
        assert not any("'^" in v for v in asked)
        assert any("'答复':A" in v for v in asked)
    finally:
        event.remove(pg_database, "before_cursor_execute", ask)
