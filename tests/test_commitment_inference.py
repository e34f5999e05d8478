"""Commitment due dates and targets, as a table of sentences (letter dated 2022-05-07)."""

from datetime import date

import pytest

from tracker.letters.commitments import (
    arabicize_dates,
    extract_target,
    find_commitments,
    infer_due_on,
)
from tracker.letters.parser import parse_letter
from tracker.letters.synth import generate_records
from tracker.rules.chinese import cn_to_int

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


# --------------------------------------------------------------------------------------
# Promises anywhere in the letter, as a supervisor reads it (letter dated 2022-05-07)
# --------------------------------------------------------------------------------------


def _found(text: str, heading: str | None = None) -> list[tuple[str, str | None, str | None]]:
    return [
        (c["text"], c["due_on"], c["target"])
        for c in find_commitments([{"heading": heading, "text": text}], LETTER)
    ]


# a paragraph outside any forward-looking section -> (text, due, target) of each promise
PROMISES = [
    (
        "今年以来，我县计划安装红绿灯15处，投入资金约1000万元，目前正在推进投标实施。",
        [
            (
                "今年以来，我县计划安装红绿灯15处，投入资金约1000万元，目前正在推进投标实施",
                "2022-12-31",
                "15处",
            )
        ],
    ),
    (  # conditional: 待…后实施, no date
        "该方案已提交政府常务会讨论，待讨论通过后，予以实施。",
        [("该方案已提交政府常务会讨论，待讨论通过后，予以实施", None, None)],
    ),
    (  # after the report of work done comes the promise
        "我厅主动谋划，已启动相关研究论证工作，争取尽快开工建设。",
        [("我厅主动谋划，已启动相关研究论证工作，争取尽快开工建设", None, None)],
    ),
    (
        "新兴街拟试点设立社区基金，吸引企业参与社区服务。",
        [("新兴街拟试点设立社区基金，吸引企业参与社区服务", None, None)],
    ),
    (  # the year set apart by a comma still dates the promise
        "2022年，我省将再安排25亿元支持建设一批省级产业园。",
        [("2022年，我省将再安排25亿元支持建设一批省级产业园", "2022-12-31", "25亿元")],
    ),
    (
        "为方便群众出行，我们6月底前将对桥下破损路段进行修补。",
        [("为方便群众出行，我们6月底前将对桥下破损路段进行修补", "2022-06-30", None)],
    ),
    (  # two promises with their own dates: two commitments
        "我局决定今年先进行可行性研究及初步方案编制，争取在财政支持的情况下，"
        "将该线路面改造列入明后年的政府投资项目。",
        [
            ("我局决定今年先进行可行性研究及初步方案编制", "2022-12-31", None),
            ("争取在财政支持的情况下，将该线路面改造列入明后年的政府投资项目", "2024-12-31", None),
        ],
    ),
    (
        "同时，积极向市、省汇报，争取将其列入“十四五”期间农村公路改造计划。",
        [("同时，积极向市、省汇报，争取将其列入“十四五”期间农村公路改造计划", "2025-12-31", None)],
    ),
    (  # a hedged promise, split from the report before it (继续 followed by work done)
        "2022年我厅继续支持各地建设产业园，该产业园已入选候选名单，有望获得5000万元省级资金支持。",
        [("有望获得5000万元省级资金支持", None, "5000万元")],
    ),
    (  # a progress note with an estimate dates the promise before it
        "我委将尽快完善广场休闲座椅和公厕。目前我委已形成初步建设方案，预计8月份可以建成。",
        [
            (
                "我委将尽快完善广场休闲座椅和公厕。目前我委已形成初步建设方案，预计8月份可以建成",
                "2022-08-31",
                None,
            )
        ],
    ),
    (
        "拟将观凹至草庙岭公路纳入改造计划，建设标准为路基加宽至6.5米、路面加宽至5.5米。",
        [
            (
                "拟将观凹至草庙岭公路纳入改造计划，建设标准为路基加宽至6.5米、路面加宽至5.5米",
                None,
                "路基加宽至6.5米、路面加宽至5.5米",
            )
        ],
    ),
    (  # ongoing work to a standard
        "青中路已纳入改造工程范围，目前正在按照三级公路标准组织实施。",
        [("青中路已纳入改造工程范围，目前正在按照三级公路标准组织实施", None, "三级公路标准")],
    ),
    (  # a goal set for the year is a promise, though the plan setting it was adopted
        "市政府印发《工作方案》，明确了2022年实现政务服务“一网通办”的目标。",
        [
            (
                "市政府印发《工作方案》，明确了2022年实现政务服务“一网通办”的目标",
                "2022-12-31",
                None,
            )
        ],
    ),
    (  # a plan of an earlier year still promises (the date is gone)
        "拟将该路纳入2021年农村公路改造计划。",
        [("拟将该路纳入2021年农村公路改造计划", None, None)],
    ),
    (  # a request to another unit is not this unit's promise; what it promises after is
        "若该提案获得通过，建议由贵单位牵头办理，我局将全力配合。",
        [("若该提案获得通过，建议由贵单位牵头办理，我局将全力配合", None, None)],
    ),
    (  # letters reposted in traditional characters
        "我局將要求各處早市的物業儘快規範車輛停放。",
        [("我局將要求各處早市的物業儘快規範車輛停放", None, None)],
    ),
]


@pytest.mark.parametrize(("text", "expected"), PROMISES, ids=[p[0][:12] for p in PROMISES])
def test_promises_outside_forward_sections(text, expected):
    assert _found(text, "一、办理情况") == expected


# sentences about work already done (or not promises at all) give nothing
NOT_PROMISES = [
    "近年来，我局不断加大农村公路建设力度，农村路网覆盖率逐步提高。",
    "2021年，全市新增公办学位8720个，逐步缓解入学压力。",
    "截至2021年底，已累计投入资金3940万元。",
    "截止2021年末，全县人参留存面积达到888.2公顷。",
    "我局已将心理健康教育纳入开学检查内容。",
    "将新建改扩建学校纳入年度重点工作和绩效考核内容，压实属地责任。",
    "积极争取上级资金支持，2021年落实专项资金9241万元。",
    "持续开展村庄清洁行动，村容村貌明显改善。",
    "随着经济发展，机动车保有量逐年持续增加。",
    "“十三五”期间，我委先后争取中央资金43亿元；争取中央资金11亿元支持县级医院建设。",
    "我局已向上级主管部门申报、争取。",
    "财政部于2021年启动了试点，并于2021年将试点范围扩大到17个省。",
    "该项目已纳入省级项目库，并纳入省政府2022年印发的《实施意见》。",
    "该道路未纳入省级项目库，暂无法组织建设实施。",
    "该地块暂不具备争取现代农业产业园的条件。",
    "建立垃圾分类联席会议制度，定期研究解决定时定点投放中的难点问题。",
    "联席会议负责研究决定心理健康教育工作的重大事项。",
    "3月30日，市政府印发《工作方案》，部署开展专项整治。",
    "建议贵单位协调规划部门及时将项目纳入国土空间规划。",
    "现将有关办理情况答复如下：",
    "感谢您对我们工作的关心和支持，我们将继续努力。",
]


@pytest.mark.parametrize("text", NOT_PROMISES, ids=[t[:12] for t in NOT_PROMISES])
def test_work_done_promises_nothing(text):
    assert _found(text, "一、办理情况") == []


def test_a_paragraph_opening_with_next_steps_looks_ahead_to_its_end():
    text = (
        "下一步，我局将结合文物普查，摸清农村传统建筑底数。"
        "另建立传统村落保护管理协调机制，不断增强工作系统性。\n"
        "加强与住建部门的沟通。"
    )
    assert [t for t, _, _ in _found(text)] == [
        "下一步，我局将结合文物普查，摸清农村传统建筑底数",
        "另建立传统村落保护管理协调机制，不断增强工作系统性",
    ]


def test_a_forward_section_keeps_everything_but_work_done():
    text = "目前已完成初步设计。继续推进雨污分流改造。今年底前完成管网建设15公里。"
    assert _found(text, "三、下一步工作打算") == [
        ("继续推进雨污分流改造", None, None),
        ("今年底前完成管网建设15公里", "2022-12-31", "15公里"),
    ]


def test_a_list_of_measures_announced_as_such():
    sections = [
        {"heading": None, "text": "我委将从以下几个方面配合县区做好天然气取暖工作。"},
        {"heading": "一、加强组织领导", "text": "做好天然气取暖推广工作，加强对县区工作的指导。"},
        {"heading": "二、拓宽融资渠道", "text": "帮助县区筹集资金，支持清洁取暖项目建设。"},
    ]
    found = find_commitments(sections, LETTER)
    assert [(c["text"], c["section"]) for c in found] == [
        ("我委将从以下几个方面配合县区做好天然气取暖工作", None),
        ("做好天然气取暖推广工作，加强对县区工作的指导", "一、加强组织领导"),
        ("帮助县区筹集资金，支持清洁取暖项目建设", "二、拓宽融资渠道"),
    ]


def test_list_items_printed_as_headings():
    sections = [
        {"heading": None, "text": "我单位高度重视，在以后工作中作出以下措施："},
        {"heading": "一、乡政府、各村安排专人对重要路段绿化树木进行定期管护", "text": ""},
        {"heading": "二、成立道路巡逻队，定期对全乡道路进行巡逻", "text": ""},
        {"heading": "三、投入资金更新部分道路树木", "text": "我们一定务实创新。\n庙上乡人民政府"},
    ]
    assert [c["text"] for c in find_commitments(sections, LETTER)] == [
        "乡政府、各村安排专人对重要路段绿化树木进行定期管护",
        "成立道路巡逻队，定期对全乡道路进行巡逻",
        "投入资金更新部分道路树木",
        "我们一定务实创新",
    ]


def test_titles_without_text_are_not_promises():
    # a draft whose sections are still empty
    sections = [
        {"heading": None, "text": "您提出的建议已收悉。现将有关办理情况答复如下："},
        {"heading": "一、目前工作推进情况", "text": ""},
        {"heading": "二、下一步工作安排", "text": ""},
    ]
    assert find_commitments(sections, LETTER) == []


def test_a_phase_label_heads_its_content():
    sections = [
        {"heading": None, "text": "我局已拟定交流活动计划。活动具体计划如下："},
        {"heading": "一、第一阶段", "text": "2022年下半年，邀请专家赴武汉开展文化交流活动。"},
    ]
    assert find_commitments(sections, LETTER) == [
        {
            "text": "第一阶段:2022年下半年，邀请专家赴武汉开展文化交流活动",
            "due_on": "2022-12-31",
            "target": None,
            "section": "一、第一阶段",
        }
    ]


def test_lines_broken_by_the_layout_are_joined():
    text = "帮助县区相关部门，积极向国家、省对口部门争取中央预算\n内及省本级资金，支持清洁取暖项目建设。"
    assert [t for t, _, _ in _found(text)] == [
        "帮助县区相关部门，积极向国家、省对口部门争取中央预算内及省本级资金，支持清洁取暖项目建设"
    ]


# --------------------------------------------------------------------------------------
# A long letter: at most 12 candidates, the dated promises kept
# --------------------------------------------------------------------------------------

VAGUE = [  # the courtesies first: ranking, not letter order, must push them out
    "认真研究您提出的意见，在制定相关政策时予以吸收",
    "持续跟踪工作进展，及时向您反馈办理落实情况",
    "加强与有关部门的沟通协调，形成工作合力",
    "进一步完善工作机制，提升服务水平",
    "充分利用信息平台，推动信息公开",
    "加大宣传力度，营造良好社会氛围",
    "积极探索新模式，鼓励各区因地制宜开展创新",
    "建立定期评估机制，每年向社会公布工作进展",
]
DATED = [
    "今年底前新建社区养老服务站200个",
    "10月底前出台社区食堂建设指引",
    "明年上半年实现街镇综合养老服务中心全覆盖",
    "2023年6月底前培训养老护理员5000名",
    "力争明年家庭养老床位达到1万张",
    "年内完成全部养老机构消防改造",
    "2023年9月前建成区级养老服务指导中心11个",
    "今年第三季度启动长者饭堂补贴申领系统",
]


def _long_letter() -> list[dict]:
    plans = []
    for k in range(len(DATED)):
        plans += [VAGUE[k], f"{VAGUE[(k + 3) % len(VAGUE)]}（第{k + 1}项）", DATED[k]]
    return [
        {"heading": "一、工作情况", "text": "全市已建成社区养老服务站点2300个。" * 20},
        {"heading": "二、下一步工作安排", "text": "。".join(plans) + "。"},
    ]


def test_a_long_letter_keeps_the_twelve_best_in_letter_order():
    sections = _long_letter()
    everything = find_commitments(sections, LETTER, limit=None)
    assert len(everything) == 24
    kept = find_commitments(sections, LETTER)
    assert len(kept) == 12
    texts = [c["text"] for c in kept]
    assert all(d in texts for d in DATED)  # every dated promise is kept …
    assert texts == [c["text"] for c in everything if c["text"] in texts]  # … in letter order
    # the rest are the undated ones that are not courtesy (吸收, 反馈 come last)
    assert not any("吸收" in t or "反馈" in t for t in texts)


def test_generated_letters_are_capped_keeping_dated_promises():
    records = [r for r in generate_records(40, seed=3) if 2500 <= len(r["text"]) <= 3500]
    assert len(records) >= 10
    for record in records:
        sections = parse_letter(record["text"]).sections
        everything = find_commitments(sections, LETTER, limit=None)
        kept = find_commitments(sections, LETTER)
        assert len(kept) == min(12, len(everything))
        dated = [c for c in everything if c["due_on"]]
        if len(dated) <= 12:
            assert all(c in kept for c in dated)
        else:
            assert all(c["due_on"] for c in kept)
