"""The synthetic corpus generator: determinism, shape of the corpus, and agreement with the
project's own parser on the fields the generator put into each letter."""

from __future__ import annotations

import contextlib
import random
import re
import statistics
from collections import Counter

import pytest

from tracker.letters import synth
from tracker.letters.formats import decode_text
from tracker.letters.parser import (
    NotALetter,
    ParsedLetter,
    parse_file,
    parse_letter,
)
from tracker.letters.patterns import disclosure_mode
from tracker.letters.synth import TOPICS, generate_letters, generate_records, write_corpus
from tracker.rules import chinese

KEY_FIELDS = (
    "proposal_number",
    "doc_number",
    "classification",
    "letter_date",
    "issuer",
    "disclosure",
)
OTHER_FIELDS = (
    "title",
    "proposal_kind",
    "session",
    "proposal_title",
    "proposers",
    "published_at",
    "co_units",
    "contacts",
    "contact_person",
    "contact_phone",
    "cc",
)


@pytest.fixture(scope="module")
def corpus() -> list[dict]:
    return list(generate_records(2000, seed=1))


# --------------------------------------------------------------------------------------
# Determinism
# --------------------------------------------------------------------------------------


def test_same_seed_same_letters():
    assert list(generate_letters(60, seed=7)) == list(generate_letters(60, seed=7))


def test_different_seed_different_letters():
    a = [text for _, text in generate_letters(20, seed=1)]
    b = [text for _, text in generate_letters(20, seed=2)]
    assert all(x != y for x, y in zip(a, b, strict=True))


def test_prefix_stability():
    assert list(generate_letters(50, seed=3)) == list(generate_letters(200, seed=3))[:50]


def test_letters_wrap_records():
    records = list(generate_records(10, seed=5))
    assert list(generate_letters(10, seed=5)) == [(r["file_name"], r["text"]) for r in records]


def test_no_global_random_state_is_used():
    random.seed(12345)
    state = random.getstate()
    list(generate_records(20))
    assert random.getstate() == state


def test_zero_and_negative_n():
    assert list(generate_letters(0)) == []
    with pytest.raises(ValueError):
        list(generate_records(-1))


# --------------------------------------------------------------------------------------
# The corpus looks like the real thing
# --------------------------------------------------------------------------------------


def test_average_length():
    lengths = [len(text) for _, text in generate_letters(200, seed=1)]
    assert 2500 <= statistics.mean(lengths) <= 3500
    assert min(lengths) >= 1400
    assert max(lengths) <= 5500


def test_topic_frequencies_are_skewed(corpus):
    assert len(TOPICS) >= 60
    counts = Counter(r["topic"] for r in corpus)
    per_topic = [counts[t.name] for t in TOPICS]
    assert max(per_topic) >= 5 * statistics.median(per_topic)
    assert len(counts) >= 60  # the long tail shows up too


def test_topics_have_their_own_vocabulary(corpus):
    # the topic's own measures appear in its letters far more than in other topics' letters
    for topic in TOPICS[:10]:
        term = topic.measures[0]
        own = [r for r in corpus if r["topic"] == topic.name]
        other = [r for r in corpus if r["topic"] != topic.name]
        own_rate = sum(term in r["text"] for r in own) / len(own)
        other_rate = sum(term in r["text"] for r in other) / len(other)
        assert own_rate > 0.5 and own_rate > 5 * other_rate, (topic.name, term)


def test_rare_terms_occur_in_a_handful_of_letters(corpus):
    counts = Counter(w for r in corpus for w in set(r["rare_terms"]))
    assert counts, "no rare terms at all"
    assert min(counts.values()) >= 1
    assert max(counts.values()) <= len(corpus) // 50
    for r in corpus:
        for word in r["rare_terms"]:
            assert word in r["text"]


def test_every_grade_and_placement_appears(corpus):
    grades = {r["classification"] for r in corpus}
    assert {"A", "B", "C", "D", "留作参考", "列入计划"} <= grades
    texts = [r["text"] for r in corpus]
    assert any(re.search(r"^\s*[A-D]类$", t, re.M) for t in texts)  # own line
    assert any(re.search(r"号\s*[(（]?[A-D]类[)）]?$", t, re.M) for t in texts)  # after doc no.
    assert any(re.search(r"^\s*(?:办复|答复|办理)类别[:：]", t, re.M) for t in texts)  # footer


def test_kinds_sessions_and_numbers(corpus):
    kinds = Counter(r["proposal_kind"] for r in corpus)
    assert kinds["建议"] > 500 and kinds["提案"] > 500 and kinds["议案"] > 0
    numbers = {r["proposal_number"] for r in corpus}
    assert any(re.fullmatch(r"20\d{6}", n) for n in numbers)
    assert any(re.fullmatch(r"\d+-\d+", n) for n in numbers)
    assert any(re.fullmatch(r"[DJ]\d{3}", n) for n in numbers)
    sessions = {r["item_session"] for r in corpus}
    assert "市十六届人大一次会议" in sessions and "省十三届人大五次会议" in sessions
    # one session per jurisdiction, body and year: sessions follow the letter dates
    by_key: dict[tuple, set] = {}
    for r in corpus:
        key = (r["jurisdiction"], r["proposal_kind"] == "提案", r["letter_date"][:4])
        by_key.setdefault(key, set()).add(r["item_session"])
    assert all(len(v) == 1 for v in by_key.values())
    years = {r["letter_date"][:4] for r in corpus}
    assert years == {str(y) for y in range(2015, 2026)}


def test_issuing_units(corpus):
    issuers = {r["issuer"] for r in corpus}
    assert len(issuers) >= 40
    assert len({r["jurisdiction"] for r in corpus}) >= 3
    prefixes = {
        re.match(r"\D+?(?=[〔\[【(])", r["doc_number"]).group(0) for r in corpus if r["doc_number"]
    }
    assert len(prefixes) >= 40
    assert {p[0] for p in prefixes} == {"穗", "深", "粤", "京"}
    assert "穗教案" in prefixes


def test_doc_numbers_are_unique(corpus):
    docs = [r["doc_number"] for r in corpus if r["doc_number"]]
    assert len(docs) > 0.9 * len(corpus)
    # unique per (prefix, year) whatever the brackets
    keys = [re.sub(r"[〔\[【(]|[〕\]】)]", "|", d) for d in docs]
    assert len(set(keys)) == len(keys)


def test_addressees_contacts_and_disclosure(corpus):
    texts = [r["text"] for r in corpus]
    assert any(re.search(r"^\S+等\d+位代表：", t, re.M) for t in texts)
    assert any(re.search(r"^\S+委员：", t, re.M) for t in texts)
    assert any(
        re.search(r"^(?:民革|民盟|民建|民进|农工党|致公党|九三学社|台盟)\S*：", t, re.M)
        for t in texts
    )
    assert any("进行了微信、电话沟通交流" in t for t in texts)
    disclosure = Counter(r["disclosure"] for r in corpus)
    assert 0.62 < disclosure["主动公开"] / len(corpus) < 0.78
    assert 0.14 < disclosure["依申请公开"] / len(corpus) < 0.26
    assert 0.05 < disclosure["不予公开"] / len(corpus) < 0.15


def test_web_noise_and_chinese_dates(corpus):
    noisy = [r for r in corpus if r["has_web_noise"]]
    assert 0.33 < len(noisy) / len(corpus) < 0.47
    for r in noisy:
        assert r["published_at"][:10] > r["letter_date"]
        assert r["disclosure"] == "主动公开"  # only published replies are web pages
        assert "扫一扫在手机打开当前页" in r["text"] or "【打印】" in r["text"]
    chinese = [r for r in corpus if re.search(r"二[〇○0][一二][〇一二三四五六七八九]年", r["text"])]
    assert 0.08 < len(chinese) / len(corpus) < 0.22


def test_file_names(corpus):
    names = [r["file_name"] for r in corpus]
    assert len(set(names)) == len(names)
    assert all(re.fullmatch(r"syn_\d{6}_[a-z]{2}-[a-z]+\.txt", n) for n in names)
    assert names[0].startswith("syn_000001_")


# --------------------------------------------------------------------------------------
# The project's parser reads the letters back
# --------------------------------------------------------------------------------------


def _as_generated(letter: ParsedLetter) -> dict:
    """The parser's fields in the generator's terms: the generator records the disclosure
    mode, the parser the phrase as printed (此件主动公开), which the importer maps."""
    fields = letter.as_dict()
    fields["disclosure"] = disclosure_mode(fields["disclosure"])
    return fields


def test_parser_agrees_with_the_ground_truth():
    records = list(generate_records(300, seed=11))
    parsed = []
    for r in records:
        with contextlib.suppress(NotALetter):
            parsed.append((r, _as_generated(parse_letter(r["text"]))))
    assert len(parsed) >= 0.98 * len(records)
    mismatches = [
        (r["file_name"], field, r[field], p[field])
        for r, p in parsed
        for field in KEY_FIELDS
        if p[field] != r[field]
    ]
    assert mismatches == []
    # the other fields the generator knows agree too, nearly always
    for field in OTHER_FIELDS:
        agree = sum(p[field] == r[field] for r, p in parsed)
        assert agree >= 0.95 * len(parsed), field


# --------------------------------------------------------------------------------------
# Writing the corpus
# --------------------------------------------------------------------------------------


def test_write_corpus(tmp_path):
    count = write_corpus(tmp_path / "out", 200, seed=1)
    assert count == 200
    files = sorted((tmp_path / "out").glob("*.txt"))
    records = list(generate_records(200, seed=1))
    assert [f.name for f in files] == sorted(r["file_name"] for r in records)
    gb = [r for r in records if r["encoding"] == "gb18030"]
    assert 1 <= len(gb) <= 25  # about 5%
    for r in gb:
        data = (tmp_path / "out" / r["file_name"]).read_bytes()
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
        assert decode_text(data) == r["text"]
        result = parse_file(tmp_path / "out" / r["file_name"])
        assert "error" not in result
        assert result["doc_number"] == r["doc_number"]
    for r in records:
        assert (tmp_path / "out" / r["file_name"]).read_bytes() == r["text"].encode(r["encoding"])


def test_write_corpus_without_encoding_mix(tmp_path):
    assert write_corpus(tmp_path, 60, seed=1, encoding_mix=False) == 60
    records = list(generate_records(60, seed=1))
    assert any(r["encoding"] == "gb18030" for r in records)  # the mix would have had some
    assert sorted(f.name for f in tmp_path.glob("*.txt")) == sorted(r["file_name"] for r in records)
    for r in records:  # every letter, all in UTF-8
        assert (tmp_path / r["file_name"]).read_bytes() == r["text"].encode("utf-8")


def test_module_is_standard_library_only():
    """The generator needs nothing installed: the standard library, and of the tracker only
    rules/chinese (the one date writer), which is standard library itself."""
    stdlib = {
        "__future__",
        "bisect",
        "itertools",
        "re",
        "collections",
        "datetime",
        "pathlib",
        "importlib",
        "tomllib",
        "random",
    }
    found = {}
    for module in (synth, chinese):
        with open(module.__file__, encoding="utf-8") as fh:
            found[module.__name__] = set(re.findall(r"^(?:from|import) ([\w.]+)", fh.read(), re.M))
    assert {name.split(".")[0] for name in found[synth.__name__]} - {"tracker"} <= stdlib
    assert {name for name in found[synth.__name__] if name.startswith("tracker")} <= {
        "tracker.rules.chinese"
    }
    assert {name.split(".")[0] for name in found[chinese.__name__]} <= stdlib
