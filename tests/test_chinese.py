"""Chinese numerals and dates: one reader and one writer (tracker.rules.chinese) for the
letter parser, the commitment finder, the deadline settings, pages and reminders."""

from datetime import date

import pytest

from tracker.letters.commitments import infer_due_on
from tracker.letters.parser import parse_letter
from tracker.letters.text import read_date
from tracker.rules.chinese import cn_date, cn_to_int
from tracker.rules.deadlines import DAYS, MONTHS, WORKING_DAYS, Period


@pytest.mark.parametrize(
    ("token", "value"),
    [
        # as letters print years, months and days (the parser's and the finder's cases)
        ("二〇二二", 2022),
        ("二○一二", 2012),
        ("二O一七", 2017),
        ("二0一七", 2017),
        ("二零二三", 2023),
        ("2022", 2022),
        ("五", 5),
        ("十", 10),
        ("十二", 12),
        ("二十六", 26),
        ("三十一", 31),
        # as deadline rules write periods (the settings' cases)
        ("两", 2),
        ("兩", 2),
        ("十五", 15),
        ("二十", 20),
        ("两十", 20),
        ("九十九", 99),
    ],
)
def test_one_reader_reads_the_numerals_of_letters_and_of_rules(token, value):
    assert cn_to_int(token) == value


@pytest.mark.parametrize("token", ["", "年", "十二三四", "一百", "十十"])
def test_the_reader_refuses_what_is_no_numeral(token):
    with pytest.raises(ValueError):
        cn_to_int(token)


@pytest.mark.parametrize(
    ("text", "period"),
    [
        ("两个月", Period(2, MONTHS)),
        ("兩個月", Period(2, MONTHS)),
        ("三个月", Period(3, MONTHS)),
        ("十五天", Period(15, DAYS)),
        ("二十个工作日", Period(20, WORKING_DAYS)),
        ("五个工作日", Period(5, WORKING_DAYS)),
    ],
)
def test_deadline_settings_read_chinese_amounts(text, period):
    assert Period.parse(text) == period


@pytest.mark.parametrize("text", ["二五天", "零十天", "一百天"])
def test_deadline_settings_take_no_digit_by_digit_amounts(text):
    with pytest.raises(ValueError, match="无法识别的期限"):
        Period.parse(text)


def test_letters_read_dates_in_chinese_numerals():
    assert read_date("二〇二二年五月七日") == (date(2022, 5, 7), True)
    assert read_date("二O二三年十二月三十一日") == (date(2023, 12, 31), True)
    assert infer_due_on("力争二〇二三年六月底前完成", date(2022, 5, 7)) == date(2023, 6, 30)


def test_a_letter_dated_in_chinese_numerals_is_read():
    text = (
        "关于市十六届人大一次会议第20222174号建议答复的函\n"
        "曾志伟代表：\n"
        "您提出的《关于进一步加强中小学生心理健康管理工作的建议》收悉，现答复如下：\n"
        "一、目前工作推进情况\n我局高度重视。\n"
        "广州市教育局\n"
        "二〇二二年五月七日\n"
    )
    assert parse_letter(text).letter_date == "2022-05-07"


@pytest.mark.parametrize(
    ("day", "text"),
    [(date(2022, 5, 7), "2022年5月7日"), (date(2024, 12, 31), "2024年12月31日"), (None, "")],
)
def test_one_writer_writes_dates_as_letters_print_them(day, text):
    assert cn_date(day) == text
