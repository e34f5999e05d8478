"""Document numbers and the sign-off checklist: pure rules, tables of cases."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from tracker.rules.docnumbers import (
    DocNumberError,
    check_recorded_number,
    format_doc_number,
    parse_doc_number,
)
from tracker.rules.letter_checks import LetterFacts, check_letter


@pytest.mark.parametrize(
    ("prefix", "year", "serial", "expected"),
    [("穗教案", 2022, 119, "穗教案〔2022〕119号"), ("穗卫函", 2023, 1, "穗卫函〔2023〕1号")],
)
def test_format(prefix, year, serial, expected):
    assert format_doc_number(prefix, year, serial) == expected


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("穗教案〔2022〕119号", ("穗教案", 2022, 119)),
        ("穗教案[2022]119号", ("穗教案", 2022, 119)),  # corrected to 〔〕 when formatted
        ("穗教案【2022】7号", ("穗教案", 2022, 7)),
        (" 粤民函（2021）30号 ", ("粤民函", 2021, 30)),
        ("穗教案〔２０２２〕１１９号", ("穗教案", 2022, 119)),  # full-width digits
    ],
)
def test_parse_accepts(text, parsed):
    number = parse_doc_number(text)
    assert (number.prefix, number.year, number.serial) == parsed
    assert str(number) == format_doc_number(*parsed)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "请填写文号"),
        ("穗教案2022119号", "格式应为"),
        ("穗教案〔22〕119号", "格式应为"),  # the year is written in full
        ("穗教案〔2022〕第119号", "不加“第”字"),
        ("穗教案〔2022〕0119号", "不加前导零"),
        ("穗教案〔２０２２〕０１１９号", "不加前导零"),  # in full width too
        ("穗卫函〔2022〕5号", "本单位的机关代字是“穗教案”"),
        ("穗教案〔2021〕5号", "应为成文年份2022"),
    ],
)
def test_parse_refuses(text, message):
    with pytest.raises(DocNumberError, match=message):
        parse_doc_number(text, expected_prefix="穗教案", expected_year=2022)


def test_a_recorded_number_keeps_its_office_layout_with_ascii_digits():
    assert check_recorded_number("穗卫函〔２０１９〕３０-１７号", 2019) == "穗卫函〔2019〕30-17号"
    with pytest.raises(DocNumberError, match="最多6位"):
        check_recorded_number("穗卫函〔2019〕１２３４５６７号", 2019)


BODY = """曾志伟代表：
您提出的《关于进一步加强广州市中小学生心理健康管理工作的建议》(第20222174号)已收悉。
一、目前工作推进情况
……
二、下一步工作安排
今年底全市中小学专任教师持C证率达到80%。
"""

GOOD = LetterFacts(
    classification="B",
    classification_needs_followup=True,
    disclosure="主动公开",
    disclosure_public=True,
    disclosure_reason=None,
    body=BODY,
    commitment_count=1,
    cc=("市府办公厅", "市人大选联工委", "市卫生健康委"),
    co_units=(("广州市卫生健康委员会", ("市卫生健康委",)),),
    co_units_without_opinion=(),
    contact_dates=(date(2022, 4, 28),),
    letter_on=date(2022, 5, 7),
    due_on=date(2022, 6, 6),
    title="广州市教育局关于市十六届人大一次会议第20222174号建议答复的函",
    proposal_number="20222174",
    proposal_title="关于进一步加强广州市中小学生心理健康管理工作的建议",
)


def test_a_complete_letter_passes():
    result = check_letter(GOOD)
    assert result.passed and all(c.ok for c in result.checks)


@pytest.mark.parametrize(
    ("change", "code", "severity"),
    [
        ({"classification": None}, "classification", "error"),
        ({"body": BODY.replace("二、下一步工作安排", "二、其他")}, "commitments", "error"),
        ({"commitment_count": 0}, "commitments", "error"),
        ({"disclosure": None}, "disclosure", "error"),
        ({"disclosure": "不予公开", "disclosure_public": False}, "disclosure_reason", "error"),
        ({"body": BODY.replace("20222174", "20222175")}, "proposal_match", "error"),
        ({"body": BODY.replace("心理健康管理", "心理健康")}, "proposal_match", "error"),
        ({"body": BODY + "（请写明已开展的工作。）"}, "placeholders", "error"),
        ({"contact_dates": (date(2022, 5, 8),)}, "contact", "warning"),
        ({"contact_dates": ()}, "contact", "warning"),
        ({"co_units_without_opinion": ("广州市卫生健康委员会",)}, "co_opinions", "warning"),
        ({"cc": ("市府办公厅",)}, "cc", "warning"),
        ({"letter_on": date(2022, 6, 7)}, "due", "warning"),
    ],
)
def test_each_failing_check(change, code, severity):
    result = check_letter(replace(GOOD, **change))
    failing = [c for c in result.checks if not c.ok]
    assert [(c.code, c.severity) for c in failing] == [(code, severity)]
    assert failing[0].message


def test_an_a_grade_needs_no_commitment():
    facts = replace(
        GOOD, classification="A", classification_needs_followup=False, commitment_count=0
    )
    assert check_letter(facts).passed


@pytest.mark.parametrize(
    "heading",
    ["二、下一步工作安排", "二、接下来的工作安排", "二、下步工作措施", "二、今后努力方向"],
)
def test_the_checklist_finds_the_part_the_commitment_finder_reads(heading):
    """One pattern says which heading looks ahead: the checklist does not ask a B reply for
    a 下一步 part when the commitment finder has read its promises from one."""
    from tracker.letters.commitments import find_commitments

    body = BODY.replace("二、下一步工作安排", heading)
    found = find_commitments(
        [{"heading": heading, "text": "今年底全市中小学专任教师持C证率达到80%。"}],
        date(2022, 5, 7),
    )
    assert [c["section"] for c in found] == [heading]
    result = check_letter(replace(GOOD, body=body, commitment_count=len(found)))
    assert result.passed, [c.message for c in result.checks if not c.ok]
