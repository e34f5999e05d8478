"""The reply-letter parser, against the real seed letter and one test letter per variation.

Expected values are read off the letter texts by hand (see tests/letters/ and DOMAIN.md).
"""

import random
from pathlib import Path

import pytest

from tracker.letters.formats import decode_text
from tracker.letters.parser import (
    NotALetter,
    ParsedLetter,
    parse_file,
    parse_letter,
)

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "corpus" / "000_983cdb5ab656f1f2.txt"
LETTERS = Path(__file__).resolve().parent / "letters"

KEYS = {
    "title",
    "issuer",
    "proposal_kind",
    "session",
    "proposal_number",
    "proposal_title",
    "proposers",
    "classification",
    "doc_number",
    "letter_date",
    "published_at",
    "co_units",
    "contacts",
    "contact_person",
    "contact_phone",
    "disclosure",
    "cc",
    "sections",
    "commitments",
    "body",
    "addressee",
    "co_opinion",
    "unread",
}


def letter(name: str) -> dict:
    result = parse_file(LETTERS / name)
    assert "error" not in result, result.get("error")
    return result


# --------------------------------------------------------------------------------------
# The seed letter, field by field (DOMAIN.md, "The reply letter, field by field")
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed() -> dict:
    return parse_file(SEED)


SEED_FIELDS = {
    "title": "广州市教育局关于市十六届人大一次会议第20222174号建议答复的函",
    "issuer": "广州市教育局",
    "published_at": "2022-05-09T09:53:22",
    "classification": "A",
    "doc_number": "穗教案〔2022〕119号",
    "proposers": ["曾志伟"],
    "proposal_title": "关于进一步加强广州市中小学生心理健康管理工作的建议",
    "proposal_number": "20222174",
    "proposal_kind": "建议",
    "session": "市十六届人大一次会议",
    "co_units": ["市卫生健康委"],
    "contacts": [
        {"date": "2022-04-28", "channels": ["微信", "电话"]},
        {"date": "2022-04-29", "channels": ["微信", "电话"]},
    ],
    "letter_date": "2022-05-07",
    "contact_person": "邹慧婷",
    "contact_phone": "22083710",
    "disclosure": "主动公开",
    "cc": ["市府办公厅", "市人大选联工委", "市卫生健康委"],
}


@pytest.mark.parametrize(("field", "expected"), SEED_FIELDS.items(), ids=list(SEED_FIELDS))
def test_seed_field(seed, field, expected):
    assert seed[field] == expected


def test_seed_has_exactly_the_documented_keys(seed):
    assert set(seed) == KEYS | {"file"}
    assert seed["file"] == str(SEED)


def test_seed_sections(seed):
    assert [s["heading"] for s in seed["sections"]] == [
        "一、目前工作推进情况",
        "二、下一步工作安排",
    ]
    first, second = (s["text"] for s in seed["sections"])
    # sub-headings stay inside the text of their section
    assert first.startswith("(一)建立健全中小学心理健康工作机制\n")
    assert "(五)推进家校协同育人" in first
    assert second.startswith("接下来,市相关职能部门将认真采纳您的建议")
    assert second.endswith("提高学校心理团体辅导和个体辅导的针对性和实效性。")
    # the closing paragraph and signature are not part of the last section
    assert "感谢你们" not in second
    assert "广州市教育局\n" not in second


def test_seed_commitment_c_certificate(seed):
    matches = [c for c in seed["commitments"] if "持C证率达到80%" in c["text"]]
    assert matches == [
        {
            "text": "各区推进全体教职员工的心理健康知识培训,今年底全市中小学专任教师持C证率达到80%",
            "due_on": "2022-12-31",
            "target": "80%",
            "section": "二、下一步工作安排",
        }
    ]


def test_seed_commitments_come_from_the_forward_section_only(seed):
    assert len(seed["commitments"]) == 8
    assert {c["section"] for c in seed["commitments"]} == {"二、下一步工作安排"}
    texts = [c["text"] for c in seed["commitments"]]
    # numbered sub-headings are not commitments; their content is
    assert "健全完善工作体系" not in texts
    assert texts[1].startswith("完善中小学心理健康教育机制建设")
    # 逐步 with no date: no due date (the plan's "(2021-2023年)" is not one)
    assert seed["commitments"][3]["text"].startswith("推进落实《广州市中小学心理健康行动计划")
    assert seed["commitments"][3]["due_on"] is None


def test_seed_body_is_the_letter_without_page_noise(seed):
    body = seed["body"]
    assert body.startswith("广州市教育局关于市十六届人大一次会议第20222174号建议答复的函\nA类\n")
    assert body.endswith("抄送:市府办公厅、市人大选联工委、市卫生健康委。")
    for noise in ("发布时间", "来源", "浏览量", "浏览字号", "扫一扫"):
        assert noise not in body
    assert "曾志伟代表:\n您提出的《关于进一步加强" in body
    assert "2022年5月7日" in body


def test_seed_published_time_is_not_the_letter_date(seed):
    assert seed["published_at"].startswith("2022-05-09")
    assert seed["letter_date"] == "2022-05-07"


# --------------------------------------------------------------------------------------
# One test letter per variation
# --------------------------------------------------------------------------------------

EXPECTED = {
    # page noise above and below; 关于…第N号提案的答复; organisation addressee; grade in
    # the footer (答复类别：A); two co-units; contacts by phone and a 座谈会
    "01_web_noise_cppcc_org.txt": {
        "title": "广州市住房和城乡建设局关于市政协十三届五次会议第20213105号提案的答复",
        "issuer": "广州市住房和城乡建设局",
        "proposal_kind": "提案",
        "session": "市政协十三届五次会议",
        "proposal_number": "20213105",
        "proposal_title": "关于加快推进既有住宅加装电梯工作的提案",
        "proposers": ["民革广州市委员会"],
        "classification": "A",
        "doc_number": "穗建复〔2021〕128号",
        "letter_date": "2021-06-10",
        "published_at": "2021-06-18",
        "co_units": ["市规划和自然资源局", "市市场监管局"],
        "contacts": [
            {"date": "2021-03-15", "channels": ["电话"]},
            {"date": "2021-04-08", "channels": ["座谈会"]},
        ],
        "contact_person": "张三",
        "contact_phone": "020-83123456",
        "disclosure": "主动公开",
        "cc": ["市政协提案委", "市政府办公厅", "市规划和自然资源局", "市市场监管局"],
    },
    # title broken over two lines; grade glued to the document number; padded names;
    # half-width and full-width punctuation mixed with stray spaces; 联系人及电话
    "02_two_line_title_mixed_punct.txt": {
        "title": "广州市交通运输局关于市十六届人大一次会议第20221024号建议答复的函",
        "issuer": "广州市交通运输局",
        "proposal_kind": "建议",
        "session": "市十六届人大一次会议",
        "proposal_number": "20221024",
        "proposal_title": "关于优化地铁站点周边公交接驳的建议",
        "proposers": ["闫冰", "王小明"],
        "classification": "C",
        "doc_number": "穗交运函〔2022〕27号",
        "letter_date": "2022-06-20",
        "published_at": None,
        "co_units": ["市公安局交警支队"],
        "contacts": [
            {"date": "2022-05-16", "channels": ["电话"]},
            {"date": "2022-06-02", "channels": ["面商"]},
        ],
        "contact_person": "王五",
        "contact_phone": "020-8312 3456",
        "disclosure": "主动公开",
        "cc": ["市府办公厅", "市人大选联工委", "市公安局交警支队"],
    },
    # 对…第N号建议的回复 (no issuer in the title); XX等N位代表; (B类) after a document
    # number like 30-17号; 会办单位; date in Chinese numerals; 承办人及联系电话
    "03_reply_dui_cn_date.txt": {
        "title": "对市十五届人大四次会议第20190357号建议的回复",
        "issuer": "广州市卫生健康委员会",
        "proposal_kind": "建议",
        "session": "市十五届人大四次会议",
        "proposal_number": "20190357",
        "proposal_title": "关于加强社区卫生服务中心全科医生队伍建设的建议",
        "proposers": ["陈建华"],
        "classification": "B",
        "doc_number": "穗卫函〔2019〕30-17号",
        "letter_date": "2019-05-28",
        "published_at": None,
        "co_units": ["市人力资源社会保障局"],
        "contacts": [
            {"date": "2019-04-02", "channels": ["面商"]},
            {"date": "2019-04-20", "channels": ["电话"]},
        ],
        "contact_person": "李四",
        "contact_phone": "13800138000",
        "disclosure": "依申请公开",
        "cc": ["市府办公厅", "市人大选联工委", "市人力资源社会保障局"],
    },
    # …的复函; word label as the grade; [] brackets; proposal number J027
    "04_fuhan_org_word_label.txt": {
        "title": "广州市民政局关于市政协十四届一次会议第J027号提案的复函",
        "issuer": "广州市民政局",
        "proposal_kind": "提案",
        "session": "市政协十四届一次会议",
        "proposal_number": "J027",
        "proposal_title": "关于完善社区居家养老服务网络的提案",
        "proposers": ["民建市委会"],
        "classification": "列入计划",
        "doc_number": "穗民函[2022]88号",
        "letter_date": "2022-05-30",
        "published_at": None,
        "co_units": [],
        "contacts": [{"date": "2022-04-19", "channels": ["微信", "电话"]}],
        "contact_person": "林晓",
        "contact_phone": "83170000",
        "disclosure": "主动公开",
        "cc": ["市政协提案委", "市政府办公厅"],
    },
    # title "答复函" only; XX委员; （B类） after the number; (第53-3号); session in the body;
    # 二0一七年…; 公开属性：依申请公开
    "05_dafuhan_weiyuan.txt": {
        "title": "答复函",
        "issuer": "广州市华南新城建设管理局",
        "proposal_kind": "提案",
        "session": "区政协九届一次会议",
        "proposal_number": "53-3",
        "proposal_title": "关于加快推进城中村雨污分流改造的提案",
        "proposers": ["李明"],
        "classification": "B",
        "doc_number": "华建复〔2017〕5号",
        "letter_date": "2017-05-26",
        "published_at": None,
        "co_units": ["区水务局"],
        "contacts": [],
        "contact_person": "赵敏",
        "contact_phone": "020-36881234",
        "disclosure": "依申请公开",
        "cc": ["区政协提案委", "区水务局"],
    },
    # no title, no document number, no cc; (一) headings only; 办复类别:B类 in the
    # footer; （第D022号）; 二○一二年…; 公开类别: 不予公开
    "06_no_title_org_footer_grade.txt": {
        "title": None,
        "issuer": "广州市文化广电新闻出版局",
        "proposal_kind": "提案",
        "session": None,
        "proposal_number": "D022",
        "proposal_title": "关于加强华侨历史文化遗产保护利用的提案",
        "proposers": ["致公党市委"],
        "classification": "B",
        "doc_number": None,
        "letter_date": "2012-12-03",
        "published_at": None,
        "co_units": [],
        "contacts": [],
        "contact_person": "周红",
        "contact_phone": "83001234",
        "disclosure": "不予公开",
        "cc": [],
    },
    # 议案; 乙类; a visit (视察) and a 座谈会 on one day; phone with (020)
    "07_yian_grade_jia_yi.txt": {
        "title": "广州市水务局关于市十五届人大三次会议第3号议案办理情况的答复",
        "issuer": "广州市水务局",
        "proposal_kind": "议案",
        "session": "市十五届人大三次会议",
        "proposal_number": "3",
        "proposal_title": "关于加快黑臭水体治理的议案",
        "proposers": ["刘思源"],
        "classification": "乙",
        "doc_number": "穗水函〔2018〕112号",
        "letter_date": "2018-05-22",
        "published_at": None,
        "co_units": ["市生态环境局", "市住房城乡建设局"],
        "contacts": [{"date": "2018-04-10", "channels": ["视察", "座谈会"]}],
        "contact_person": "黄敏",
        "contact_phone": "(020)83339999",
        "disclosure": "主动公开",
        "cc": ["市人大常委会城建环资工委", "市生态环境局", "市住房城乡建设局"],
    },
    # the date traps: a bare date and 发布时间 at the top, "1.2017年起实施…" in the body
    "08_date_trap.txt": {
        "title": "广州市生态环境局关于市十五届人大五次会议第20200415号建议答复的函",
        "issuer": "广州市生态环境局",
        "proposers": ["何志强"],
        "classification": "A",
        "doc_number": "穗环函〔2020〕215号",
        "letter_date": "2020-07-03",
        "published_at": "2020-07-15T10:00:00",
        "contacts": [],
        "contact_person": "吴涛",
        "contact_phone": "020-86573333",
        "cc": ["市府办公厅", "市人大选联工委"],
    },
    # 会同 three units (one name containing 和, one list joined by 和); contacts in a
    # letter of January are in the previous year
    "09_co_units_contacts_year_boundary.txt": {
        "issuer": "广州市规划和自然资源局",
        "doc_number": "穗规划资源函〔2023〕9号",
        "letter_date": "2023-01-10",
        "co_units": ["市住房城乡建设局", "市教育局", "市卫生健康委"],
        "contacts": [
            {"date": "2022-11-28", "channels": ["电话", "微信"]},
            {"date": "2022-11-30", "channels": ["电话", "微信"]},
            {"date": "2022-12-20", "channels": ["面商"]},
        ],
    },
    # 【】 brackets; 农工党界别委员小组; 答复类别：留作参考; no numbered sections
    "11_org_leftover_reference.txt": {
        "title": "广州市科学技术局关于市政协十四届二次会议第20230156号提案的答复",
        "proposal_kind": "提案",
        "proposers": ["农工党界别委员小组"],
        "classification": "留作参考",
        "doc_number": "穗科函【2023】12号",
        "letter_date": "2023-05-25",
        "sections": [],
        "contacts": [],
    },
    # a page with a metadata table (文号 given only there), the title twice, a letterhead
    # line, 尊敬的…代表, headings with text on the same line, a joint signature
    "12_metadata_table_joint_signature.txt": {
        "title": "广州市教育局关于市十六届人大一次会议第20221532号建议答复的函",
        "issuer": "广州市教育局",
        "proposal_number": "20221532",
        "proposal_title": "关于加强中小学校体育场地开放的建议",
        "proposers": ["梁海涛"],
        "classification": None,
        "doc_number": "穗教案〔2022〕168号",
        "letter_date": "2022-05-20",
        "published_at": None,
        "co_units": [],  # "下一步，我局将会同…" is future work, not a co-handling unit
        "contact_person": "邹慧婷",
        "contact_phone": "020-22083710",
        "disclosure": None,
        "cc": [],
    },
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_letter_fields(name):
    result = letter(name)
    assert set(result) == KEYS | {"file"}
    assert {key: result[key] for key in EXPECTED[name]} == EXPECTED[name]


def test_every_fixture_letter_is_covered():
    on_disk = {p.name for p in LETTERS.glob("*.txt") if not p.name.startswith("9")}
    assert on_disk == set(EXPECTED) | {"10_commitments_rich.txt"}


def test_web_noise_is_not_in_the_body():
    body = letter("01_web_noise_cppcc_org.txt")["body"]
    assert body.startswith("广州市住房和城乡建设局关于市政协十三届五次会议第20213105号提案的答复\n")
    assert body.endswith("抄送：市政协提案委，市政府办公厅，市规划和自然资源局，市市场监管局。")
    for noise in (
        "当前位置",
        "首页",
        "发布日期",
        "信息来源",
        "浏览次数",
        "字体",
        "打印本页",
        "关闭窗口",
        "扫一扫",
    ):
        assert noise not in body


def test_sections_and_commitments_of_a_cppcc_reply():
    result = letter("01_web_noise_cppcc_org.txt")
    assert [s["heading"] for s in result["sections"]] == [
        "一、工作开展情况",
        "二、存在的困难",
        "三、下一步工作打算",
    ]
    assert "特此答复" not in result["sections"][-1]["text"]
    assert [(c["due_on"], c["target"]) for c in result["commitments"]] == [
        ("2022-06-30", None),
        ("2021-12-31", "1000台"),
        (None, None),
    ]


def test_metadata_page_body_starts_at_the_letter():
    result = letter("12_metadata_table_joint_signature.txt")
    assert result["body"].startswith(
        "广州市教育局关于市十六届人大一次会议第20221532号建议答复的函\n尊敬的梁海涛代表：\n"
    )
    for noise in ("索引号", "发布机构", "成文日期", "分享到", "相关链接", "网站首页"):
        assert noise not in result["body"]
    assert [s["heading"] for s in result["sections"]] == [
        "一、关于体育师资配备问题",
        "二、关于场地开放问题",
    ]
    assert result["sections"][0]["text"].startswith("我市已配备专职体育教师1.2万名。")
    assert "特此函复" not in result["sections"][1]["text"]
    assert result["commitments"] == [
        {
            "text": "下一步，我局将会同市人力资源社会保障局，力争2023年底前实现体育教师配备达标率100%",
            "due_on": "2023-12-31",
            "target": "100%",
            "section": "一、关于体育师资配备问题",
        }
    ]


def test_title_on_two_lines_and_body_keeps_both_lines():
    result = letter("02_two_line_title_mixed_punct.txt")
    assert result["body"].startswith(
        "广州市交通运输局关于市十六届人大一次会议\n第20221024号建议答复的函\n"
    )
    assert [s["heading"] for s in result["sections"]] == [
        "一、有关情况",
        "二、关于增设公交接驳线路的问题",
    ]
    # a promise outside a forward-looking section
    assert [c["text"] for c in result["commitments"]] == [
        "待周边道路建成后 ,我局将结合客流情况研究开通接驳线路"
    ]


def test_parenthesised_headings_are_top_level_when_there_is_no_first_level():
    result = letter("06_no_title_org_footer_grade.txt")
    assert [s["heading"] for s in result["sections"]] == [
        "（一）关于开展华侨文物普查",
        "（二）关于加大保护力度",
        "（三）关于活化利用",
    ]
    assert result["sections"][0]["text"].startswith("2012年，我局组织开展了")
    assert result["commitments"][0]["due_on"] == "2013-06-30"
    assert result["body"].startswith("致公党市委：\n")


def test_date_trap_numbered_items_and_page_date():
    result = letter("08_date_trap.txt")
    assert result["letter_date"] == "2020-07-03"
    assert result["sections"][0]["heading"] == "一、相关法规和标准"
    # "1.2017年…" is an item of the text, not a heading or a date line
    assert result["sections"][0]["text"].startswith("1.2017年起实施《广东省饮食业油烟排放标准》")
    assert len(result["sections"]) == 3
    assert result["commitments"] == [
        {
            "text": "我局将继续加大执法检查力度，年底前完成全市500家重点餐饮单位油烟在线监控设备安装",
            "due_on": "2020-12-31",
            "target": "500家",
            "section": "三、下一步工作",
        }
    ]


def test_commitments_with_several_due_rules():
    result = letter("10_commitments_rich.txt")
    assert result["letter_date"] == "2022-05-18"
    assert [(c["due_on"], c["target"]) for c in result["commitments"]] == [
        ("2022-12-31", "55所"),  # 今年底前
        ("2022-10-31", None),  # 10月底前 …
        ("2023-12-31", None),  # … 明年: a second promise with its own date
        ("2023-06-30", "5000名"),  # 2023年6月底前
        (None, None),  # 逐步
    ]
    assert [c["text"] for c in result["commitments"][1:3]] == [
        "10月底前公布第三批教育集团名单",
        "明年实现优质教育集团区域全覆盖",
    ]
    # "我局将中小学学位建设列入年度重点工作" describes current work: not a commitment
    assert all(c["section"] == "二、下一步工作安排" for c in result["commitments"])


def test_letter_without_sections_gets_commitments_from_its_text():
    result = letter("11_org_leftover_reference.txt")
    assert [c["text"] for c in result["commitments"]] == [
        "你们提出的建议，我局将在制定下一轮科技创新政策时予以参考"
    ]


# --------------------------------------------------------------------------------------
# Smaller variations on one template
# --------------------------------------------------------------------------------------

TEMPLATE = """{title}

{header}

{salutation}

  您提出的《关于加强社区养老服务的建议》（第20221111号）收悉。{intro}现答复如下：

  一、工作情况

  全市已建成社区养老服务站点2300个。

  二、下一步工作安排

  我局将继续推进社区养老服务设施建设，今年底前新建服务站200个。

  广州市民政局

  {date}

{footer}
"""


def make(**parts) -> ParsedLetter:
    values = {
        "title": "广州市民政局关于市十六届人大一次会议第20221111号建议答复的函",
        "header": "穗民函〔2022〕60号",
        "salutation": "张三代表：",
        "intro": "",
        "date": "2022年5月7日",
        "footer": "（联系人：林晓，联系电话：83170000）",
    }
    values.update(parts)
    return parse_letter(TEMPLATE.format(**values))


@pytest.mark.parametrize(
    ("salutation", "proposers"),
    [
        ("张三代表：", ["张三"]),
        ("尊敬的张三代表:", ["张三"]),
        ("张三等3位代表：", ["张三"]),
        ("闫  冰、王小明代表:", ["闫冰", "王小明"]),
        ("李四委员：", ["李四"]),
        ("张三、李四委员：", ["张三", "李四"]),
        ("民革广州市委员会:", ["民革广州市委员会"]),
        ("民建市委会:", ["民建市委会"]),
        ("农工党界别委员小组:", ["农工党界别委员小组"]),
        ("致公党市委:", ["致公党市委"]),
    ],
)
def test_addressees(salutation, proposers):
    assert make(salutation=salutation).proposers == proposers


def test_salutation_followed_by_text_on_the_same_line():
    text = TEMPLATE.format(
        title="答复函",
        header="",
        salutation="张三代表：您提出的《关于加快养老服务设施建设的建议》收悉。",
        intro="",
        date="2022年5月7日",
        footer="",
    )
    result = parse_letter(text)
    assert result.proposers == ["张三"]
    assert result.proposal_title == "关于加快养老服务设施建设的建议"


@pytest.mark.parametrize(
    ("header", "footer", "classification", "doc_number"),
    [
        ("A类\n穗民函〔2022〕60号", "", "A", "穗民函〔2022〕60号"),
        ("穗民函〔2022〕60号(B类)", "", "B", "穗民函〔2022〕60号"),
        ("穗民函〔2022〕60号（B类）", "", "B", "穗民函〔2022〕60号"),
        ("穗教案〔2022〕27号C类", "", "C", "穗教案〔2022〕27号"),
        # a space in a number is type, not the number (and would not match one recorded)
        ("  穗民函 〔2022〕60号  ", "办复类别:B类", "B", "穗民函〔2022〕60号"),
        ("穗民函[2022]60号", "答复类别：A", "A", "穗民函[2022]60号"),
        ("穗民函【2022】60号", "答复类别：解决采纳", "解决采纳", "穗民函【2022】60号"),
        ("正在解决\n穗卫函〔2019〕30-17号", "", "正在解决", "穗卫函〔2019〕30-17号"),
        ("甲类\n穗民函〔2022〕60号", "", "甲", "穗民函〔2022〕60号"),
        ("丙类", "", "丙", None),
        ("答复类别：B类\n穗民函〔2022〕60号", "", "B", "穗民函〔2022〕60号"),
        ("A\n穗民函〔2022〕第60号", "", "A", "穗民函〔2022〕第60号"),
        ("", "", None, None),
    ],
)
def test_grades_and_document_numbers(header, footer, classification, doc_number):
    result = make(header=header, footer=footer)
    assert result.classification == classification
    assert result.doc_number == doc_number


@pytest.mark.parametrize(
    ("title", "kind", "number", "issuer"),
    [
        (
            "广州市民政局关于市十六届人大一次会议第20221111号建议答复的函",
            "建议",
            "20221111",
            "广州市民政局",
        ),
        ("对市十六届人大一次会议第20221111号建议的回复", "建议", "20221111", "广州市民政局"),
        ("关于市政协十四届一次会议第D022号提案的答复", "提案", "D022", "广州市民政局"),
        ("广州市民政局关于市政协十四届一次会议第J027号提案的复函", "提案", "J027", "广州市民政局"),
        ("答复函", "建议", "20221111", "广州市民政局"),
    ],
)
def test_titles(title, kind, number, issuer):
    result = make(title=title)
    assert result.title == title
    assert result.proposal_kind == kind
    assert result.proposal_number == number
    assert result.issuer == issuer


def test_page_numbers_are_noise():
    result = make(intro="\n- 2 -\n")
    assert "- 2 -" not in result.body
    assert result.sections[0]["heading"] == "一、工作情况"


@pytest.mark.parametrize(
    ("closing", "issuer", "letter_date"),
    [
        ("广州市民政局\n\n  2022年5月7日", "广州市民政局", "2022-05-07"),
        ("广州市民政局    2022年5月7日", "广州市民政局", "2022-05-07"),
        ("广州市民政局（盖章）\n  2022年5月7日", "广州市民政局", "2022-05-07"),
        ("广州市民政局    广州市卫生健康委员会\n  2022年5月7日", "广州市民政局", "2022-05-07"),
        # no signature: the issuer comes from the title, never from a body line
        ("持续做好运营维护\n  2022年5月7日", "广州市文化广电旅游局", "2022-05-07"),
        # a date inside a sentence is not the letter date
        ("截至2022年5月7日", "广州市文化广电旅游局", None),
    ],
)
def test_signature_and_date_line(closing, issuer, letter_date):
    text = TEMPLATE.format(
        title="广州市文化广电旅游局关于市十六届人大一次会议第20221111号建议答复的函",
        header="",
        salutation="张三代表：",
        intro="",
        date="",
        footer="",
    ).replace("  广州市民政局\n\n  \n", "  " + closing + "\n")
    result = parse_letter(text)
    assert result.issuer == issuer
    assert result.letter_date == letter_date


def test_no_title_at_all():
    result = make(title="")
    assert result.title is None
    assert result.issuer == "广州市民政局"  # from the signature, not guessed
    assert result.doc_number == "穗民函〔2022〕60号"


@pytest.mark.parametrize(
    ("date_line", "iso"),
    [
        ("2022年5月7日", "2022-05-07"),
        ("2022 年 5 月 7 日", "2022-05-07"),
        ("二〇二二年五月七日", "2022-05-07"),
        ("二0一七年五月二十六日", "2017-05-26"),
        ("二○一二年十二月三日", "2012-12-03"),
        ("二O一九年十月三十一日", "2019-10-31"),
        ("二〇二二年十月十日", "2022-10-10"),
    ],
)
def test_letter_dates(date_line, iso):
    assert make(date=date_line).letter_date == iso


def test_promises_in_the_opening_paragraph_count_too():
    result = make(intro="经研究，我局拟于明年在各区试点建设综合养老服务中心。")
    assert [(c["section"], c["due_on"], c["target"]) for c in result.commitments] == [
        (None, "2023-12-31", None),
        ("二、下一步工作安排", "2022-12-31", "200个"),
    ]


def test_commitments_of_an_undated_letter_count_from_its_page_date():
    result = make(header="发布时间：2022-05-09 09:53:22", date="")
    assert result.letter_date is None
    assert result.commitments[0]["due_on"] == "2022-12-31"  # 今年底前, the page's year


def test_no_date_line_means_no_letter_date():
    result = make(date="")
    assert result.letter_date is None
    # relative dates cannot be resolved without the letter date
    assert result.commitments[0]["due_on"] is None


@pytest.mark.parametrize(
    ("footer", "person", "phone"),
    [
        ("(联系人:邹慧婷,联系电话:22083710)", "邹慧婷", "22083710"),
        ("联系人:张三  联系电话:020-83123456", "张三", "020-83123456"),
        ("承办人及联系电话:李四 13800138000", "李四", "13800138000"),
        ("联系人及电话：王五，020-8312 3456", "王五", "020-8312 3456"),
        ("（联系人：赵敏；电话：020-36881234）", "赵敏", "020-36881234"),
        ("联系电话：83170000", None, "83170000"),
        ("联系人：体卫艺处 马超\n电话：020－22089999", "马超", "020-22089999"),
        ("", None, None),
    ],
)
def test_contact_person_and_phone(footer, person, phone):
    result = make(footer=footer)
    assert result.contact_person == person
    assert result.contact_phone == phone


@pytest.mark.parametrize(
    ("footer", "disclosure"),
    [
        ("公开方式:主动公开", "主动公开"),
        ("公开属性：依申请公开", "依申请公开"),
        ("公开类别: 不予公开", "不予公开"),
        ("（此件主动公开）", "此件主动公开"),
        ("", None),
    ],
)
def test_disclosure(footer, disclosure):
    assert make(footer=footer).disclosure == disclosure


@pytest.mark.parametrize(
    ("footer", "cc"),
    [
        (
            "抄送:市府办公厅、市人大选联工委、市卫生健康委。",
            ["市府办公厅", "市人大选联工委", "市卫生健康委"],
        ),
        (
            "抄送：市府办公厅，市人大选联工委；市卫生健康委",
            ["市府办公厅", "市人大选联工委", "市卫生健康委"],
        ),
        ("抄  送：市府办公厅、\n      市人大选联工委。", ["市府办公厅", "市人大选联工委"]),
        ("", []),
    ],
)
def test_cc(footer, cc):
    assert make(footer=footer).cc == cc


@pytest.mark.parametrize(
    ("intro", "co_units"),
    [
        ("我局会同市卫生健康委认真研究办理。", ["市卫生健康委"]),
        (
            "我局会同市规划和自然资源局、市住房城乡建设局认真研究。",
            ["市规划和自然资源局", "市住房城乡建设局"],
        ),
        ("我局会同市教育研究院认真研究。", ["市教育研究院"]),
        ("经综合会办单位市医疗保障局的意见，", ["市医疗保障局"]),
        ("经综合会办单位意见，", []),
        ("我局会同有关部门认真研究。", []),
    ],
)
def test_co_units(intro, co_units):
    assert make(intro=intro).co_units == co_units


@pytest.mark.parametrize(
    ("intro", "contacts"),
    [
        (
            "我局在4月28、29日与您进行了微信、电话沟通交流。",
            [
                {"date": "2022-04-28", "channels": ["微信", "电话"]},
                {"date": "2022-04-29", "channels": ["微信", "电话"]},
            ],
        ),
        ("我局于3月15日通过电话与您沟通。", [{"date": "2022-03-15", "channels": ["电话"]}]),
        ("我局于2022年4月2日与您到现场面商。", [{"date": "2022-04-02", "channels": ["面商"]}]),
        # a month after the letter's month is last year
        ("我局于12月20日通过电子邮件与您联系。", [{"date": "2021-12-20", "channels": ["邮件"]}]),
        (
            "4月6日至8日，我局邀请您走访调研。",
            [
                {"date": "2022-04-06", "channels": ["走访", "调研"]},
                {"date": "2022-04-07", "channels": ["走访", "调研"]},
                {"date": "2022-04-08", "channels": ["走访", "调研"]},
            ],
        ),
        # numbers about a hotline, not a contact with the proposer
        ("截至2022年4月29日，热线接受电话咨询503例。", []),
    ],
)
def test_contacts(intro, contacts):
    assert make(intro=intro).contacts == contacts


def test_contact_dates_need_the_letter_date_for_the_year():
    result = make(intro="我局于3月15日通过电话与您沟通。", date="")
    assert result.contacts == [{"date": None, "channels": ["电话"]}]


# --------------------------------------------------------------------------------------
# Not letters, encodings, files
# --------------------------------------------------------------------------------------


def test_news_article_is_not_a_letter():
    text = (LETTERS / "90_not_a_letter_news.txt").read_text(encoding="utf-8")
    with pytest.raises(NotALetter, match="不是答复函"):
        parse_letter(text)
    result = parse_file(LETTERS / "90_not_a_letter_news.txt")
    assert set(result) == {"file", "error"}


@pytest.mark.parametrize(
    "text",
    ["", "   \n\n  ", "Hello, this is an English text about nothing in particular." * 5, "答复函"],
)
def test_empty_or_non_chinese_text_is_not_a_letter(text):
    with pytest.raises(NotALetter):
        parse_letter(text)


def test_not_a_letter_is_a_value_error():
    assert issubclass(NotALetter, ValueError)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    result = parse_file(path)
    assert result["file"] == str(path)
    assert "空文件" in result["error"]


def test_binary_garbage(tmp_path):
    data = random.Random(20220507).randbytes(4096)
    with pytest.raises(NotALetter):
        parse_letter(decode_text(data) if b"\x00" not in data else "\x00")
    path = tmp_path / "garbage.bin"
    path.write_bytes(data)
    assert set(parse_file(path)) == {"file", "error"}
    # garbage without NUL bytes that happens not to decode
    path.write_bytes(b"\x80\xff\xfe" * 500)
    assert "GB18030" in parse_file(path)["error"]


def test_missing_file(tmp_path):
    result = parse_file(tmp_path / "nope.txt")
    assert result["file"] == str(tmp_path / "nope.txt")
    assert result["error"]


def test_gb18030_bytes_decode_and_parse_alike(tmp_path):
    utf8_path = LETTERS / "10_commitments_rich.txt"
    text = utf8_path.read_text(encoding="utf-8")
    data = text.encode("gb18030")
    assert decode_text(data) == text
    gb_path = tmp_path / "gb.txt"
    gb_path.write_bytes(data)
    from_gb = parse_file(gb_path)
    from_utf8 = parse_file(utf8_path)
    assert from_gb.pop("file") != from_utf8.pop("file")
    assert from_gb == from_utf8
    assert from_gb["proposers"] == ["王晓燕"]


def test_utf8_with_bom(tmp_path):
    text = SEED.read_text(encoding="utf-8")
    assert decode_text(text.encode("utf-8-sig")) == text
    path = tmp_path / "bom.txt"
    path.write_bytes(text.encode("utf-8-sig"))
    assert parse_file(path)["title"] == SEED_FIELDS["title"]


def test_utf16_with_bom():
    text = SEED.read_text(encoding="utf-8")
    assert decode_text(text.encode("utf-16")) == text


def test_publication_time_on_a_shared_metadata_line():
    text = SEED.read_text(encoding="utf-8")
    start, end = text.index("  • 发布时间"), text.index("  A类")
    text = (
        text[:start]
        + "来源：广州市教育局 发布时间：2022年05月09日 09:53 浏览次数：100\n\n"
        + text[end:]
    )
    result = parse_letter(text)
    assert result.published_at == "2022-05-09T09:53:00"
    assert result.classification == "A"
    assert "浏览次数" not in result.body


def test_crlf_line_endings():
    text = SEED.read_text(encoding="utf-8").replace("\n", "\r\n")
    result = parse_letter(text)
    assert result.letter_date == "2022-05-07"
    assert [s["heading"] for s in result.sections] == [
        "一、目前工作推进情况",
        "二、下一步工作安排",
    ]
