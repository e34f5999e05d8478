"""Commitment due dates and targets, as a table of sentences (letter dated 2022-05-07)."""

from datetime import date

import pytest

from tracker.letters.commitments import (
    arabicize_dates,
    cn_to_int,
    extract_target,
    find_commitments,
    infer_due_on,
)

LETTER = date(2022, 5, 7)

# sentence, expected due date (ISO or None), expected target
CASES = [
    # the seed letter's commitment
    ("今年底全市中小学专任教师持C证率达到80%", "2022-12-31", "80%"),
    (
        "各区推进全体教职员工的心理健康知识培训，今年底全市中小学专任教师持C证率达到80%",
        "2022-12-31",
        "80%",
    ),
    # this year: 今年底 / 年内 / 年底前 / 今年内 / 本年度
    ("年内完成550所学校心理辅导室标准化建设", "2022-12-31", "550所"),
    ("力争年底前建成137公里地铁线路", "2022-12-31", "137公里"),
    ("今年内举办家庭教育专家讲座20场", "2022-12-31", "20场"),
    ("今年年底前实现专职心理教师配备率100%", "2022-12-31", "100%"),
    ("本年度内完成全部排查工作", "2022-12-31", None),
    # next year
    ("明年实现优质教育集团区域全覆盖", "2023-12-31", None),
    ("明年上半年出台实施方案", "2023-06-30", None),
    ("明年下半年启动第二期工程", "2023-12-31", None),
    ("明年3月底前完成验收", "2023-03-31", None),
    ("后年全面建成", "2024-12-31", None),
    # halves and quarters of the letter year
    ("上半年完成全市摸底调查", "2022-06-30", None),
    ("下半年启动试点工作", "2022-12-31", None),
    ("今年第三季度完成招标", "2022-09-30", None),
    # a month with no year: this year, or next year if the month has passed
    ("10月底前印发科普读本3万册", "2022-10-31", "3万册"),
    ("5月底前完成清查", "2022-05-31", None),
    ("3月底前完成验收", "2023-03-31", None),
    ("9月1日前开学投入使用", "2022-09-01", None),
    # explicit dates
    ("2023年6月前完成全部改造", "2023-06-30", None),
    ("2023年6月底前完成全部改造", "2023-06-30", None),
    ("2023年3月1日前正式施行", "2023-03-01", None),
    ("将于2022年9月1日起实施新标准", "2022-09-01", None),
    ("2024年建成并投入使用", "2024-12-31", None),
    ("2023年上半年完成立法调研", "2023-06-30", None),
    ("2023年底前新增公办学位6万个", "2023-12-31", "6万个"),
    # Chinese numerals
    ("二〇二三年六月底前完成", "2023-06-30", None),
    ("二○二三年三月一日前出台管理办法", "2023-03-01", None),
    ("十月底前完成", "2022-10-31", None),
    # several expressions: the earliest upcoming one
    ("10月底前公布名单，明年实现全覆盖", "2022-10-31", None),
    ("2021年已建成12所，2023年底前再建成20所", "2023-12-31", "20所"),
    # open-ended promises have no date
    ("逐步配齐专职心理教师", None, None),
    ("长期坚持开展家校共育活动", None, None),
    ("持续推进心理健康教育工作", None, None),
    ("五年内完成改造", None, None),
    ("3个月内完成整改", "2022-08-07", None),
    # dates in the past or in titles are background, not due dates
    ("推进落实《广州市中小学心理健康行动计划(2021-2023年)》，逐步配齐专职心理教师", None, None),
    ("截至2021年10月底，已100%配备专职心理教师", None, "100%"),
    ("今年以来已开展培训", None, None),
    ("今年4月份部署开展复查督导", None, None),
    ("2021年4月建立了联席会议制度", None, None),
    # targets: full-width percent, rates and ordinals are not targets
    ("持证率提升至85％", None, "85%"),
    ("落实每两周1节的心理课", None, None),
    ("实施第3批市特色学校争创工作", None, None),
    ("新建学校12所，新增学位1.5万个", None, "12所"),
    ("年内新增加装电梯1000台", "2022-12-31", "1000台"),
    # plan periods end with their last year; 明后年 is the year after next
    ("十四五期间完成全部农村公路改造", "2025-12-31", None),
    ("争取列入“十五五”期间农村公路改造计划", "2030-12-31", None),
    ("“十三五”期间争取中央资金43亿元", None, "43亿元"),  # over before the letter
    ("正在研究制定“十五五”农村公路补助政策", None, None),  # a name, not a period
    ("将该线路面改造列入明后年的政府投资项目", "2024-12-31", None),
    ("今明两年完成老旧小区改造", "2023-12-31", None),
    # a year's project or plan is due at the end of that year
    ("将健康社区纳入2024年老旧小区改造项目", "2024-12-31", None),
    ("拟纳入2023年城建计划", "2023-12-31", None),
    # an estimate names the month: its end
    ("预计8月份可以建成并投入使用", "2022-08-31", None),
    ("计划10月完成招标", "2022-10-31", None),
    # "this year's plan" although the year began before the letter
    ("今年以来，我县计划安装红绿灯15处", "2022-12-31", "15处"),
    ("今年以来已安装红绿灯15处", None, "15处"),
    # the year of a document or meeting is not a due date; nor is a day already past
    ("按照省政府2022年印发的《实施意见》推进", None, None),
    ("3月30日，市政府印发《工作方案》", None, None),
    # targets: a specification of several dimensions, a graded standard, money
    ("建设标准为路基加宽至6.5米、路面加宽至5.5米", None, "路基加宽至6.5米、路面加宽至5.5米"),
    ("目前正在按照三级公路标准组织实施", None, "三级公路标准"),
    ("按二级公路标准改建8公里", None, "8公里"),  # a count still wins
    ("将再安排25亿元支持建设一批省级产业园", None, "25亿元"),
    ("有望获得5000万元省级财政资金支持", None, "5000万元"),
]


@pytest.mark.parametrize(("sentence", "due", "target"), CASES, ids=[c[0][:16] for c in CASES])
def test_due_and_target(sentence, due, target):
    got = infer_due_on(sentence, LETTER)
    assert (got.isoformat() if got else None) == due
    assert extract_target(sentence) == target


@pytest.mark.parametrize(
    ("sentence", "due"),
    [
        ("今年底完成", None),  # relative to an unknown letter date
        ("10月底前完成", None),
        ("明年实现全覆盖", None),
        ("2023年6月底前完成", date(2023, 6, 30)),  # absolute dates need no letter date
        ("2023年3月1日前施行", date(2023, 3, 1)),
    ],
)
def test_due_without_letter_date(sentence, due):
    assert infer_due_on(sentence, None) == due


@pytest.mark.parametrize(
    ("sentence", "letter_date", "due"),
    [
        ("争取将其列入“十二五”期间农村公路改造计划", date(2011, 5, 10), date(2015, 12, 31)),
        ("十三五期间建成", date(2017, 3, 1), date(2020, 12, 31)),
        ("十四五时期建成", date(2021, 3, 1), date(2025, 12, 31)),
        ("十五五期间建成", date(2026, 3, 1), date(2030, 12, 31)),
        ("列入明后年的政府投资项目", date(2022, 6, 8), date(2024, 12, 31)),
        # 6月底前 counts from the letter date: this June, or next June once it is over
        ("我们6月底前将对桥下破损路段进行修补", date(2024, 6, 25), date(2024, 6, 30)),
        ("我们6月底前将对桥下破损路段进行修补", date(2024, 7, 2), date(2025, 6, 30)),
        ("下半年完成修补", date(2024, 6, 25), date(2024, 12, 31)),
        ("9月1日前完成", date(2024, 9, 2), date(2025, 9, 1)),
    ],
)
def test_due_relative_to_other_letter_dates(sentence, letter_date, due):
    assert infer_due_on(sentence, letter_date) == due


def test_relative_dates_follow_the_letter_year():
    assert infer_due_on("今年底完成", date(2019, 11, 2)) == date(2019, 12, 31)
    # in November, "上半年" can only mean the first half of next year
    assert infer_due_on("上半年完成", date(2019, 11, 2)) == date(2020, 6, 30)
    assert infer_due_on("3月底前完成", date(2019, 11, 2)) == date(2020, 3, 31)


def test_empty_inputs():
    assert infer_due_on("", LETTER) is None
    assert extract_target("") is None
    assert extract_target(None) is None
    assert find_commitments([], LETTER) == []


@pytest.mark.parametrize(
    ("token", "value"),
    [
        ("2022", 2022),
        ("二〇二二", 2022),
        ("二0一七", 2017),
        ("二○一二", 2012),
        ("二O一七", 2017),
        ("十", 10),
        ("十二", 12),
        ("二十六", 26),
        ("三十一", 31),
        ("七", 7),
    ],
)
def test_cn_to_int(token, value):
    assert cn_to_int(token) == value


def test_cn_to_int_rejects_words():
    with pytest.raises(ValueError):
        cn_to_int("十二三四")
    with pytest.raises(ValueError):
        cn_to_int("年")


def test_arabicize_dates():
    assert arabicize_dates("二〇二二年五月七日") == "2022年5月7日"
    assert arabicize_dates("二0一七年十二月三十一日") == "2017年12月31日"
    assert arabicize_dates("五年内完成三个月的工作") == "五年内完成三个月的工作"


FORWARD = {
    "heading": "二、下一步工作安排",
    "text": (
        "接下来，市相关职能部门将认真采纳您的建议。\n"
        "（一）健全完善工作体系。完善中小学心理健康教育机制建设。\n"
        "（二）提升教师心育水平。今年底全市中小学专任教师持C证率达到80%；落实每两周1节的心理课。\n"
        "（三）逐步配齐专职心理教师，确保专职专用。"
    ),
}
PAST = {
    "heading": "一、目前工作推进情况",
    "text": (
        "一是夯实队伍基础。将专职心理教师配备列入2021年广州市十件民生实事予以推进，"
        "截至2021年10月底，全市550所中学已100%配备专职心理教师。"
        "将心理健康教育纳入每年春、秋季开学检查内容。"
        "下一步，我局将继续推进特色学校创建，力争明年新增市特色学校20所。\n"
        "（二）下一步打算\n"
        "加强家庭教育指导服务。"
    ),
}


def test_find_commitments_in_forward_section():
    found = find_commitments([FORWARD], LETTER)
    texts = [c["text"] for c in found]
    assert texts == [
        "接下来，市相关职能部门将认真采纳您的建议",
        "完善中小学心理健康教育机制建设",
        "今年底全市中小学专任教师持C证率达到80%",
        "落实每两周1节的心理课",
        "逐步配齐专职心理教师，确保专职专用",
    ]
    c证 = found[2]
    assert c证 == {
        "text": "今年底全市中小学专任教师持C证率达到80%",
        "due_on": "2022-12-31",
        "target": "80%",
        "section": "二、下一步工作安排",
    }
    assert found[4]["due_on"] is None
    assert all(c["section"] == "二、下一步工作安排" for c in found)


def test_find_commitments_outside_forward_section_needs_a_promise():
    found = find_commitments([PAST], LETTER)
    texts = [c["text"] for c in found]
    # past work described with 将…列入/纳入 is not a promise
    assert not any("民生实事" in t or "开学检查" in t for t in texts)
    assert texts[0] == "下一步，我局将继续推进特色学校创建，力争明年新增市特色学校20所"
    assert found[0]["due_on"] == "2023-12-31"
    assert found[0]["target"] == "20所"
    # a forward-looking sub-heading inside a section makes what follows commitments
    assert texts[1] == "加强家庭教育指导服务"
    assert len(found) == 2


def test_find_commitments_without_heading():
    found = find_commitments(
        [{"heading": None, "text": "经研究，我局将在制定下一轮政策时予以参考。感谢您的支持。"}],
        LETTER,
    )
    assert found == [
        {
            "text": "经研究，我局将在制定下一轮政策时予以参考",
            "due_on": None,
            "target": None,
            "section": None,
        }
    ]
