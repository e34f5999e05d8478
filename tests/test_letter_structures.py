"""The parser on the structures real letters come in: metadata tables, issuers printed only
in one place, sessions in every printed form, groups as proposers, damaged dates and
numbers, contact lines, co-handling opinions, traditional-character copies, letters run
together into one line, and pages that are no letter at all.

Every letter here was written for these tests (the published letters in ../shared/letters
are for measuring the parser, not for copying); each shows one structure, and the test says
what a clerk reads from it.
"""

from __future__ import annotations

import re

import pytest

from tracker.letters.page import unwrap
from tracker.letters.parser import NotALetter, parse_letter
from tracker.services.corpus import review_reasons

BODY = (
    "您提出的《关于加快青石镇卫生院改造的建议》收悉。经研究，现答复如下：\n"
    "青石镇卫生院始建于1998年，业务用房已不能满足群众就医需要。我局已将改造项目纳入"
    "2024年县级卫生健康项目库，下一步将积极争取上级资金支持，力争年底前开工建设。\n"
    "感谢您对卫生健康工作的关心和支持。\n"
)


def letter(*lines: str) -> str:
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------
# Page metadata above the letter
# --------------------------------------------------------------------------------------


def test_metadata_as_key_value_lines():
    result = parse_letter(
        letter(
            "首页 > 政务公开 > 建议提案办理",
            "索引号: 11330500MB1234567X/2024-00031 主题分类: 卫生健康",
            "发布机构: 安平县卫生健康局 生成日期: 2024-07-02",
            "文号: 安卫函〔2024〕17号 公开方式: 主动公开",
            "关于县十八届人大三次会议第52号建议的答复",
            "周建国代表：",
            BODY,
            "2024年6月28日",
        )
    )
    assert result.issuer == "安平县卫生健康局"
    assert result.doc_number == "安卫函〔2024〕17号"
    assert result.disclosure == "主动公开"
    assert result.session == "县十八届人大三次会议"
    assert result.proposal_number == "52"
    assert result.letter_date == "2024-06-28"  # not the page's 生成日期
    assert result.published_at is None


def test_metadata_as_pipe_rows():
    result = parse_letter(
        letter(
            "索 引 号: | 004512/2023-00098 | 发布机构: | 柳河县交通运输局 |",
            "名 称: | 对柳河县第十七届人民代表大会第二次会议第8号建议的答复 | |",
            "文 号: | 柳交函〔2023〕41号 | 发布日期: | 2023-08-15 |",
            "韩立新代表：",
            BODY,
            "柳河县交通运输局",
            "2023年8月10日",
        )
    )
    assert result.issuer == "柳河县交通运输局"
    assert result.doc_number == "柳交函〔2023〕41号"
    assert result.session == "柳河县第十七届人民代表大会第二次会议"
    assert result.proposal_number == "8"
    assert result.published_at == "2023-08-15"
    assert result.letter_date == "2023-08-10"


def test_metadata_one_label_per_line():
    result = parse_letter(
        letter(
            "索 引 号",
            "000123456/2022-01311",
            "信息所属单位",
            "市场监管司",
            "文  号",
            "国市监议〔2022〕73号",
            "发布日期",
            "2022年9月30日",
            "对十三届全国人大五次会议第6021号建议的答复",
            "郑海峰代表：",
            BODY,
        )
    )
    assert result.issuer == "市场监管司"
    assert result.doc_number == "国市监议〔2022〕73号"
    assert result.session == "十三届全国人大五次会议"
    assert result.proposal_number == "6021"
    assert result.letter_date is None  # the page's dates are not the letter's


# --------------------------------------------------------------------------------------
# The issuer printed in one place only
# --------------------------------------------------------------------------------------


def test_issuer_only_as_a_signature_without_a_date():
    result = parse_letter(
        letter("孙晓梅代表：", BODY, "此复。", "", "桃源县水利局", "扫一扫在手机打开当前页")
    )
    assert result.issuer == "桃源县水利局"
    assert result.letter_date is None


def test_issuer_only_in_the_signing_line_at_the_top():
    result = parse_letter(
        letter(
            "石门县自然资源局          签发人：刘国平",
            "石自然资函〔2023〕12号",
            "对县十七届人大二次会议第19号建议的复函",
            "李德明代表：",
            BODY,
            "2023年5月20日",
        )
    )
    assert result.issuer == "石门县自然资源局"
    assert result.doc_number == "石自然资函〔2023〕12号"


def test_issuer_only_as_the_page_source_line():
    result = parse_letter(
        letter(
            "对县十九届人大一次会议第27号建议的答复",
            "来源：临江县农业农村局发布时间：2022-08-09 10:20浏览次数：",
            "吴海燕代表：",
            BODY,
        )
    )
    assert result.issuer == "临江县农业农村局"
    assert result.published_at == "2022-08-09T10:20:00"


def test_issuer_only_as_the_contact_unit():
    result = parse_letter(
        letter(
            "许文静委员：",
            BODY,
            "联系单位：安阳县文化广电和旅游局",
            "联系电话：0372-5512345",
            "2023年7月3日",
        )
    )
    assert result.issuer == "安阳县文化广电和旅游局"
    assert result.contact_phone == "0372-5512345"


def test_the_fullest_printed_name_of_the_issuer():
    result = parse_letter(
        letter(
            "关于区八届人大二次会议第33号建议的答复",
            "来源：南湖市北塘区市场监督管理局 发布时间：2023-06-01 09:00",
            "陈立新代表：",
            BODY,
            "北塘区市场监督管理局",
            "2023年5月26日",
        )
    )
    assert result.issuer == "南湖市北塘区市场监督管理局"


# --------------------------------------------------------------------------------------
# Sessions as printed, kept whole with their place name
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("heading", "session", "number", "kind"),
    [
        (
            "关于湖西省八届人大二次会议代表建议第812033号办理情况的答复",
            "湖西省八届人大二次会议",
            "812033",
            "建议",
        ),
        (
            "【区民政局】政协东州市南城区第十五届三次会议委员提案答复 第62号",
            "政协东州市南城区第十五届三次会议",
            "62",
            "提案",
        ),
        (
            "关于对南城区第十二届政治协商会议第三次会议第45号提案的答复",
            "南城区第十二届政治协商会议第三次会议",
            "45",
            "提案",
        ),
        ("对十四届全国人大二次会议第3317号建议的答复", "十四届全国人大二次会议", "3317", "建议"),
        (
            "云山区人民政府对政协第九届云山市委员会第二次会议第0091号提案的答复",
            "政协第九届云山市委员会第二次会议",
            "0091",
            "提案",
        ),
        ("关于青田县人大十届四次会议第7号建议的答复", "青田县人大十届四次会议", "7", "建议"),
        (
            "海东省交通运输厅关于省十四届人大一次会议湖12号建议的答复",
            "省十四届人大一次会议",
            "湖12",
            "建议",
        ),
        (
            "白沙县民政局对县政协第十一届委员会三次会议第14号提案答复的函",
            "县政协第十一届委员会三次会议",
            "14",
            "提案",
        ),
        ("对白水市三届政协二次会议 第28号提案的答复", "白水市三届政协二次会议", "28", "提案"),
        ("对县十六届人大五次会议5号建议的答复", "县十六届人大五次会议", "5", "建议"),
        (  # a township's congress, named as the town's letters name it
            "青石镇人民政府关于镇第十八届人民代表大会第三次会议第12号建议的答复",
            "镇第十八届人民代表大会第三次会议",
            "12",
            "建议",
        ),
    ],
)
def test_sessions_numbers_and_kinds_in_headings(heading, session, number, kind):
    result = parse_letter(letter(heading, "刘晓东代表：", BODY))
    assert result.session == session
    assert result.proposal_number == number
    assert result.proposal_kind == kind


def test_the_fullest_session_wins_over_a_shorter_mention():
    result = parse_letter(
        letter(
            "关于湖西省八届人大二次会议第4410号建议的答复",
            "赵明代表：",
            "您在省八届人大二次会议上提出的《关于加快乡村公路建设的建议》收悉，现答复如下：",
            BODY,
        )
    )
    assert result.session == "湖西省八届人大二次会议"


def test_a_heading_that_lost_its_numerals_gives_way_to_the_page_title():
    result = parse_letter(
        letter(
            "南城区人民政府关于区四届人大三次会议第21号建议办理情况的答复",
            "发布时间：2023-09-18 10:36",
            "南城区人民政府关于区届人大次会议21号建议办理情况的答复",
            "刘强5名代表",
            "你们提出的《关于修缮文昌路的建议》，交由南城区人民政府办理，经认真研究，现复如下：",
            BODY,
        )
    )
    assert result.session == "区四届人大三次会议"
    assert result.proposal_number == "21"
    assert result.proposers == ["刘强"]
    assert result.issuer == "南城区人民政府"


def test_a_session_printed_but_unreadable_is_flagged_as_such():
    result = parse_letter(letter("对县届人大次会议第5号建议的答复", "王伟代表：", BODY))
    assert result.session is None
    assert "session" in result.unread
    assert "会议届次：信中印有，未能识别" in review_reasons(result)


# --------------------------------------------------------------------------------------
# Kinds: the heading first, then the addressee, then the text
# --------------------------------------------------------------------------------------


def test_kind_from_the_addressee_when_the_title_says_suggestion():
    result = parse_letter(
        letter("马丽委员：", "您提出的《关于建设城西社区食堂的建议》的提案收悉。现答复如下：", BODY)
    )
    assert result.proposal_kind == "提案"


def test_kind_motion_from_the_text():
    result = parse_letter(
        letter(
            "黄志强等代表：",
            "您提出的《关于设立河湾现代农业产业园的议案》收悉，现将有关情况答复如下：",
            BODY,
        )
    )
    assert result.proposal_kind == "议案"
    assert result.proposers == ["黄志强"]


# --------------------------------------------------------------------------------------
# Proposers
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("addressee", "proposers"),
    [
        ("南城代表团：", ["南城代表团"]),
        ("民盟东州市委员会：", ["民盟东州市委员会"]),
        ("经济界别委员小组：", ["经济界别委员小组"]),
        ("东州军分区：", ["东州军分区"]),
        ("林雪梅等5位代表：", ["林雪梅"]),
        ("林雪梅等3名代表：", ["林雪梅"]),
        ("张  伟、李红、欧阳明代表：", ["张伟", "李红", "欧阳明"]),
        ("张伟 李红代表：", ["张伟", "李红"]),
        ("王海政协白沙县委员：", ["王海"]),
        ("尊敬的何丽娟代表", ["何丽娟"]),
        ("尊敬何丽娟代表：", ["何丽娟"]),
        ("郝  瑞  代表：", ["郝瑞"]),  # a name padded to three characters' width
        ("郝瑞  代表：", ["郝瑞"]),
    ],
)
def test_proposers(addressee, proposers):
    result = parse_letter(letter("对县十八届人大三次会议第9号建议的答复", addressee, BODY))
    assert result.proposers == proposers


def test_a_party_addressed_as_your_party():
    result = parse_letter(
        letter(
            "对区政协十四届二次会议第88号提案的答复",
            "九三学社南城区工委：",
            "贵党派提出的《关于完善社区养老服务的提案》收悉，经研究答复如下：",
            BODY,
        )
    )
    assert result.proposers == ["九三学社南城区工委"]
    assert result.proposal_kind == "提案"


def test_a_form_lists_the_proposers():
    result = parse_letter(
        letter(
            "青山区城市管理局",
            "关于区九届人大二次会议第4号代表建议办理情况的复函",
            "代表姓名：刘志刚、王秀英、陈国华",
            "建议内容：关于增设青山路公交站点的建议",
            "办理结果：",
            BODY,
            "青山区城市管理局",
            "2024年7月23日",
        )
    )
    assert result.proposers == ["刘志刚", "王秀英", "陈国华"]
    assert result.proposal_title == "关于增设青山路公交站点的建议"
    assert result.issuer == "青山区城市管理局"


# --------------------------------------------------------------------------------------
# Damaged dates and document numbers
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("date_line", "letter_date", "unread"),
    [
        ("2021915", "2021-09-15", False),
        ("202465", "2024-06-05", False),
        ("20236月14", "2023-06-14", False),
        ("二〇二三年十月九日", "2023-10-09", False),
        ("2021111", None, True),  # 1 Nov or 11 Jan: a person must look
    ],
)
def test_dates_that_lost_their_separators(date_line, letter_date, unread):
    result = parse_letter(letter("刘晓东代表：", BODY, "", "桃源县水利局", date_line))
    assert result.letter_date == letter_date
    assert ("letter_date" in result.unread) is unread
    assert result.issuer == "桃源县水利局"


@pytest.mark.parametrize(
    ("header", "doc_number", "grade"),
    [
        ("桃水函〔2023〕8号", "桃水函〔2023〕8号", None),
        ("桃水函﹝2023﹞8号", "桃水函﹝2023﹞8号", None),
        ("桃水函[2023]8号 B类", "桃水函[2023]8号", "B"),
        ("桃水函〔2023〕8号(A)", "桃水函〔2023〕8号", "A"),
        ("桃水函〔2023〕8号C类", "桃水函〔2023〕8号", "C"),
        ("桃水函〔2023〕8号 B1类 同意公开", "桃水函〔2023〕8号", "B"),
        ("桃水函〔2023〕8号  A", "桃水函〔2023〕8号", "A"),  # a bare letter beside the number
        ("桃水函 〔2023〕 8 号", "桃水函〔2023〕8号", None),  # spaces from a PDF's fonts
        # a head table's row of cells, read as one line
        ("公开方式：主动公开  A类  桃水函〔2023〕8号", "桃水函〔2023〕8号", "A"),
        ("桃源县水利局  桃水函〔2023〕8号(B)", "桃水函〔2023〕8号", "B"),
        ("桃水字202308           签发人：", "桃水字202308", None),
        ("桃水函〔202308", "桃水函〔202308", None),
    ],
)
def test_document_numbers_and_glued_grades(header, doc_number, grade):
    result = parse_letter(
        letter("对县十八届人大三次会议第9号建议的答复", header, "刘晓东代表：", BODY)
    )
    assert result.doc_number == doc_number
    assert result.classification == grade


def test_a_lone_letter_on_the_page_is_no_grade():
    result = parse_letter(letter("A", "刘晓东代表：", BODY))
    assert result.classification is None


TITLE = "桃源县水利局关于县十八届人大三次会议第9号建议的答复"


@pytest.mark.parametrize(
    ("header", "grade"),
    [
        (["A", "桃源县水利局", "桃水函〔2023〕8号", TITLE], "A"),  # letterhead between
        (
            [
                "桃源县水利局",
                "桃水函〔2023〕8号",
                "桃源县水利局关于县十八届人大三次会议",
                "第9号建议的答复",
                "B",
            ],
            "B",
        ),
        # a page's font-size buttons are no grade, near the number or not
        (["A", "B", "C", "桃水函〔2023〕8号", TITLE], None),
        (["A", "浏览次数：120", "发布时间：2023-07-05", "桃源县水利局", "来源：本站"], None),
    ],
)
def test_a_lone_letter_near_the_number_or_title_is_the_grade(header, grade):
    result = parse_letter(letter(*header, "刘晓东代表：", BODY))
    assert result.classification == grade


@pytest.mark.parametrize(
    ("line", "grade"),
    [
        ("答复类别：解决采纳类", "解决采纳"),  # a word label, as the vocabulary keeps it
        ("办理类别：列入计划类", "列入计划"),
        ("答复类别：所提问题已经解决或者基本解决", "A"),  # the national scheme's definitions
        ("答复类别：所提问题正在解决或者列入规划逐步解决", "B"),
        ("答复类别：因目前条件限制或者其他原因需待以后解决", "C"),
    ],
)
def test_grades_printed_as_words_or_definitions(line, grade):
    result = parse_letter(letter("刘晓东代表：", BODY, "桃源县水利局", "2023年7月3日", line))
    assert result.classification == grade
    assert "classification" not in result.unread


def test_a_definition_with_its_letter_above_the_letter():
    result = parse_letter(
        letter("桃水函〔2023〕8号", "所提问题已经解决或基本解决(A类)", TITLE, "刘晓东代表：", BODY)
    )
    assert result.classification == "A"
    assert result.doc_number == "桃水函〔2023〕8号"


@pytest.mark.parametrize("sentence", ["本件为B类。", "此件答复属B类", "该建议列为B类。"])
def test_a_grade_said_in_a_sentence_of_the_letter(sentence):
    body = BODY.replace("感谢您", sentence + "\n感谢您")
    result = parse_letter(letter(TITLE, "刘晓东代表：", body, "桃源县水利局", "2023年7月3日"))
    assert result.classification == "B"


def test_a_sentence_naming_a_grade_in_passing_is_not_the_grade():
    body = BODY.replace("感谢您", "去年本件所涉项目已列为B类项目推进。\n感谢您")
    result = parse_letter(letter(TITLE, "刘晓东代表：", body, "桃源县水利局", "2023年7月3日"))
    assert result.classification is None


# --------------------------------------------------------------------------------------
# Contact lines
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("notes", "person", "phone"),
    [
        (["承   办   人：陈  思", "联  系 电 话：13912345678"], "陈  思", "13912345678"),
        (
            [
                "主管领导姓名：赵伟  联系电话：13800001111",
                "承办人姓名：钱芳  联系电话：13900002222",
            ],
            "钱芳",
            "13900002222",
        ),
        (
            ["联 系 人：孙红", "联系电话：0591-87654321、13512345678"],
            "孙红",
            "0591-87654321、13512345678",
        ),
        (
            ["联系人：南城区交通局规划科王磊", "联系电话：0571-8888999，传真：0571-8888000"],
            "王磊",
            "0571-8888999",
        ),
        (
            ["联系单位及联系人：南城区交通局综合科，李娜；", "联系电话：6531809。"],
            "李娜",
            "6531809",
        ),
        (["（联系人：周敏；电话：020-36881234）"], "周敏", "020-36881234"),
        (["联系人及电话：郑华  8788586"], "郑华", "8788586"),
    ],
)
def test_contact_lines(notes, person, phone):
    result = parse_letter(letter("刘晓东代表：", BODY, "桃源县水利局", "2023年7月3日", *notes))
    assert result.contact_person == person
    assert result.contact_phone == phone


def test_a_phone_cut_after_its_area_code_by_the_page_width():
    notes = ["（联系人：孙悦；联系电话：010-", "62551234）"]
    result = parse_letter(letter("刘晓东代表：", BODY, "桃源县水利局", "2023年7月3日", *notes))
    assert result.contact_person == "孙悦"
    assert result.contact_phone == "010-62551234"


def test_a_letter_copied_out_of_a_pdf_keeps_its_date():
    """Lines cut at the page's width (none a paragraph of its own) and a page number
    between them: the date below the text is still the letter's."""
    wrapped = [
        "您提出的《关于加快青石镇卫生院改造的建议》收悉。经研究，现",
        "答复如下：",
        "青石镇卫生院始建于1998年，业务用房已不能满足群众就医需",
        "要。我局已将改造项目纳入2024年县级卫生健康项目库，估算投",
        "资1",
        "— 1 —",
        ".6亿元，下一步将积极争取上级资金支持，力争年底前开工",
        "建设，届时全镇群众就医条件将明显改善，门诊服务能力提",
        "升一倍以上，住院床位增加到80张，基本满足群众就医需求。",
        "感谢您对卫生健康工作的关心和支持。",
    ]
    result = parse_letter(letter(TITLE, "刘晓东代表：", *wrapped, "桃源县水利局", "2024年5月31日"))
    assert result.letter_date == "2024-05-31"
    assert result.issuer == "桃源县水利局"


def test_a_contact_label_without_a_name_is_flagged():
    result = parse_letter(
        letter(
            "刘晓东代表：", BODY, "桃源县水利局", "2023年7月3日", "联系人：", "联系电话：6531809"
        )
    )
    assert result.contact_person is None
    assert result.contact_phone == "6531809"
    assert "联系人：信中印有，未能识别" in review_reasons(result)


def test_the_site_footer_phone_is_not_the_letter_contact():
    result = parse_letter(
        letter(
            "刘晓东代表：",
            BODY,
            "桃源县水利局",
            "2023年7月3日",
            "扫一扫在手机打开当前页",
            "主办单位：桃源县人民政府办公室 联系方式：0736-1234567",
            "地址：桃源县人民路1号 备案号：湘ICP备00000001号",
        )
    )
    assert result.contact_phone is None
    assert result.contact_person is None


def test_a_date_in_the_related_links_is_not_the_letter_date():
    result = parse_letter(
        letter(
            "刘晓东代表：",
            BODY,
            "桃源县水利局",
            "相关链接：",
            "关于开展防汛检查的通知",
            "2023-07-04",
        )
    )
    assert result.letter_date is None
    assert result.issuer == "桃源县水利局"


# --------------------------------------------------------------------------------------
# Co-handling opinions (会办意见) are letters too
# --------------------------------------------------------------------------------------


def test_a_co_handling_opinion_to_the_lead_unit():
    result = parse_letter(
        letter(
            "东州市自然资源局关于东州市十五届人大三次会议第1306号代表建议会办意见的函",
            "东自然资函〔2023〕66号(B)",
            "东州市住房和城乡建设局：",
            "东州市十五届人大三次会议期间，方国强等代表提出了《关于加快老旧小区改造的建议》，"
            "经研究，现提出会办意见如下：",
            "我局将在国土空间规划中统筹安排老旧小区配套设施用地，下一步积极做好规划审批服务。",
            "专此函达。",
            "东州市自然资源局",
            "2023年4月13日",
            "（联系人及电话：林晨，0631-87504003）",
        )
    )
    assert result.co_opinion is True
    assert result.addressee == "东州市住房和城乡建设局"
    assert result.proposers == ["方国强"]
    assert result.issuer == "东州市自然资源局"
    assert result.session == "东州市十五届人大三次会议"
    assert result.proposal_number == "1306"
    assert result.classification == "B"
    assert result.contact_person == "林晨"


def test_a_co_handling_opinion_without_a_colon_after_the_lead_unit():
    result = parse_letter(
        letter(
            "南城区人民政府",
            "对政协第九届云山市委员会第三次会议",
            "0078号提案的会办意见",
            "云山市文化广电旅游局",
            "何晓琳委员提出的关于加强体育中心停车保障的提案收悉。根据要求，由我单位协助你们办理此提案，"
            "现提出涉及我单位工作的答复意见。",
            "下一步我区将加大工作力度，争取在停车资源调配上取得更大成效。",
        )
    )
    assert result.co_opinion is True
    assert result.proposers == ["何晓琳"]
    assert result.issuer == "南城区人民政府"


# --------------------------------------------------------------------------------------
# Copies that went through other hands
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("opening", "units"),
    [
        ("本答复已征求县财政局、县发展改革局意见，现答复如下：", ["县财政局", "县发展改革局"]),
        ("经征求县财政局意见，现答复如下：", ["县财政局"]),
        ("经研究并商县财政局、县自然资源局，现将办理情况答复如下：", ["县财政局", "县自然资源局"]),
        ("经会同县财政局,县自然资源局研究,现答复如下:", ["县财政局", "县自然资源局"]),
        ("经会同县财政局，对您提出的建议进行了认真研究，现答复如下：", ["县财政局"]),
        ("经征求您的意见，现答复如下：", []),
    ],
)
def test_co_handling_units_in_the_opening(opening, units):
    body = BODY.replace("经研究，现答复如下：", opening)
    result = parse_letter(letter(TITLE, "刘晓东代表：", body, "桃源县水利局", "2023年7月3日"))
    assert result.co_units == units


def test_co_handling_units_in_a_field_above_the_letter():
    result = parse_letter(
        letter(
            TITLE,
            "主办单位：桃源县水利局",
            "协办单位：桃源县公安局交通警察大队、桃源县城市管理综合行政执法局",
            "刘晓东代表：",
            BODY,
        )
    )
    assert result.co_units == ["桃源县公安局交通警察大队", "桃源县城市管理综合行政执法局"]


def test_traditional_characters_with_readings_glued_on():
    result = parse_letter(
        letter(
            "尊敬的謝(xiè)國強代表:",
            "您提出的《關(guān)於加強夜市車輛管理的建議》已轉(zhuǎn)至我單位,現(xiàn)將有關(guān)情況答復(fù)如下:",
            "對於夜市期間車輛佔道問題,我局將要求各夜市管理方儘快規範車輛停放,確保市民出行安全。",
            "長(zhǎng)寧區(qū)城市管理局",
            "2019年7月5日",
        )
    )
    assert result.proposers == ["謝(xiè)國強"]  # as printed
    assert result.issuer == "長(zhǎng)寧區(qū)城市管理局"
    assert result.proposal_kind == "建议"
    assert result.letter_date == "2019-07-05"


def test_a_letter_flattened_into_one_table_cell():
    result = parse_letter(
        "对《加快白河工业园区基础设施建设的建议》的答复 | |\n"
        "白财复字〔2022〕9号 签发人：张明 尊敬的李东、周平等代表： 您提出的加快白河工业园区"
        "基础设施建设的建议已收悉，现答复如下： 财政局对园区基础设施建设高度重视，先后投入资金建设了"
        "园区道路。 下一步，我们将积极通过加大资金投入等方式支持园区建设。 感谢您对财政工作的关心和"
        "支持！ 2022年7月1日 联系科室、人员及电话：经建科6211754 抄送：县政府办公室、县人大常委会"
        "人代工委 |\n"
    )
    assert result.doc_number == "白财复字〔2022〕9号"
    assert result.proposers == ["李东", "周平"]
    assert result.letter_date == "2022-07-01"
    assert result.contact_phone == "6211754"
    assert result.cc == ["县政府办公室", "县人大常委会人代工委"]


def test_a_page_run_together_with_double_spaces():
    result = parse_letter(
        "首页 > 政务公开 > 建议提案  对南河县第九届人民代表大会第三次会议第12号建议的答复  "
        "发布时间:2023-07-21  来源:交通局  梁红等3名代表:  您提出的关于修缮老河路的建议收悉。"
        "我局高度重视,现答复如下:  经研究,老河路改造已列入交通厅项目库,待省厅审批后实施。  "
        "感谢您对交通工作的关心和支持!  2023年7月18日  联系人及电话:李伟  8788586\n"
    )
    assert result.session == "南河县第九届人民代表大会第三次会议"
    assert result.proposal_number == "12"
    assert result.proposers == ["梁红"]
    assert result.issuer == "交通局"
    assert result.letter_date == "2023-07-18"
    assert result.contact_phone == "8788586"


# --------------------------------------------------------------------------------------
# Replies with little structure are still letters; what is no letter is refused
# --------------------------------------------------------------------------------------


def test_a_bare_reply_imports_and_says_what_linking_needs():
    result = parse_letter(letter("龚晓代表：", BODY, "青石镇人民政府", "2023年9月15日"))
    assert result.issuer == "青石镇人民政府"
    assert review_reasons(result) == [
        "会议届次：信中未写明，关联建议/提案需要",
        "建议/提案编号：信中未写明，关联建议/提案需要",
    ]


def test_a_reply_without_an_addressee_but_with_its_marks():
    result = parse_letter(
        letter(
            "对政协青州市十一届四次会议第181号提案的答复",
            "你们提出的《关于支持建设青州机场高速公路的提案》收悉，现答复如下：",
            "该项目未纳入省道网规划，暂无法获得国家投资补助支持，我厅将在规划调整时予以重点考虑。",
        )
    )
    assert result.session == "政协青州市十一届四次会议"
    assert result.proposal_kind == "提案"


@pytest.mark.parametrize(
    "text",
    [
        # a news item about the handling work
        letter(
            "市交通局召开建议提案办理工作推进会",
            "发布时间：2023-05-12 16:20",
            "5月11日，市交通局召开建议提案办理工作推进会，通报了今年建议提案的办理进度，部署了下一阶段"
            "重点任务。会议要求各处室加强与代表委员的沟通联系，确保按时高质量办结。",
        ),
        # a notice
        letter(
            "关于做好2024年人大代表建议和政协提案办理工作的通知",
            "各区人民政府，市政府各部门：",
            "为做好2024年建议提案办理工作，现将有关事项通知如下：各单位要按照办理规定，在交办之日起三个月"
            "内办结，并在办结后及时公开答复内容。",
        ),
        # an index page
        letter(
            "建议提案办理结果公开",
            "对县十八届人大三次会议第23号建议的答复 2023-07-10",
            "对县十八届人大三次会议第19号建议的答复 2023-07-08",
            "对县政协十届三次会议第7号提案的答复 2023-07-05",
            "对县政协十届三次会议第4号提案的答复 2023-07-01",
            "共4条 第1页",
        ),
    ],
    ids=["news", "notice", "index"],
)
def test_what_is_no_reply_is_refused_with_the_reason(text):
    with pytest.raises(NotALetter) as refused:
        parse_letter(text)
    assert "答复" in str(refused.value)


def test_a_paragraph_opening_with_thanks_is_not_the_closing():
    result = parse_letter(
        letter(
            "高明委员：",
            "您提出的《关于保护传统村落的提案》收悉，现将办理情况答复如下：",
            "非常感谢您对传统村落保护工作的关注。我县文物资源丰富，已对12处古建筑进行修缮，"
            "设立了文物安全公示牌。",
            "下一步，我局将结合全国文物普查，摸清传统建筑底数，对符合条件的建立档案。",
            "感谢您对我们工作的关心。",
            "2024年7月30日",
        )
    )
    assert any("摸清传统建筑底数" in c["text"] for c in result.commitments)
    assert not any("12处古建筑" in c["text"] for c in result.commitments)  # work done


# --------------------------------------------------------------------------------------
# Text cut at a page's width (taken or copied out of a PDF)
# --------------------------------------------------------------------------------------


def _cut_at(text: str, width: int) -> str:
    """Every line cut as a PDF's text layer gives it: at `width` characters of Chinese
    type (Latin letters and digits half), a space where the type changes to digits."""
    out = []
    for line in text.splitlines():
        piece, used = "", 0.0
        for char in line.strip():
            used += 0.5 if ord(char) < 0x2E80 else 1.0
            piece += char
            if used >= width:
                out.append(piece)
                piece, used = "", 0.0
        out.append(piece)
    cut = "\n".join(out)
    return re.sub(r"(?<=[0-9])(?=[号年月])", " ", cut)


def test_a_letter_cut_at_the_page_width_reads_as_the_letter():
    from test_search_views import SEED

    text = SEED.read_text(encoding="utf-8")
    lines = _cut_at(text, 28).splitlines()
    lines.insert(len(lines) // 2, "— 2 —")  # a page's number, inside a paragraph
    whole, cut = parse_letter(text), parse_letter("\n".join(lines))
    for field in (
        "proposal_title",
        "doc_number",
        "letter_date",
        "proposers",
        "co_units",
        "contacts",
        "contact_person",
        "contact_phone",
        "classification",
        "disclosure",
        "cc",
    ):
        assert getattr(cut, field) == getattr(whole, field), field
    assert [h["heading"] for h in cut.sections] == [h["heading"] for h in whole.sections]
    assert len(cut.commitments) == len(whole.commitments)


def test_text_not_cut_at_a_width_is_left_as_it_is():
    from test_search_views import SEED

    text = SEED.read_text(encoding="utf-8")
    assert unwrap(text) == text
    short = "\n".join(["您提出的建议收悉。"] * 20)  # lines of one width, each a sentence
    assert unwrap(short) == short


def test_a_half_width_full_stop_ends_a_sentence_but_not_a_number():
    body = BODY.replace(
        "我局已将改造项目纳入2024年县级卫生健康项目库，下一步将积极争取上级资金支持，力争年底前开工建设。",
        "目前已完成项目选址和可研,估算投资1.6亿元.下一步将积极争取上级资金,力争年底前开工建设.",
    )
    result = parse_letter(letter(TITLE, "刘晓东代表：", body, "桃源县水利局", "2023年7月3日"))
    assert [c["text"] for c in result.commitments] == [
        "下一步将积极争取上级资金,力争年底前开工建设"
    ]


def test_headings_typed_with_half_width_commas_part_the_letter():
    body = (
        "您提出的建议收悉.经研究,现答复如下:\n"
        "一,助餐服务网络建设情况\n"
        "截至2022年底,全区建成老年助餐服务点168个,日均服务老年人1.2万人次.\n"
        "二,下一步工作\n"
        "计划2023年12月底前新增助餐服务点30个,实现城市社区助餐服务覆盖率达到100%.\n"
        "感谢您对民政工作的关心和支持!\n"
    )
    result = parse_letter(letter(TITLE, "刘晓东代表:", body, "桃源县民政局", "2023年6月16日"))
    assert [s["heading"] for s in result.sections] == ["一,助餐服务网络建设情况", "二,下一步工作"]
    assert [c["due_on"] for c in result.commitments] == ["2023-12-31"]


def test_a_co_unit_line_under_the_text_is_a_note_not_a_promise():
    body = (
        "您提出的《关于加快推进地铁站点周边公交接驳的建议》收悉。经研究，现答复如下：\n"
        "一、下一步工作\n"
        "年内将继续在新开通地铁站点周边开设接驳线路不少于30条。\n"
        "会办单位：桃源县财政局、桃源县自然资源局\n"
    )
    result = parse_letter(letter(TITLE, "刘晓东代表：", body, "桃源县交通运输局", "2024年5月8日"))
    assert result.co_units == ["桃源县财政局", "桃源县自然资源局"]
    assert [c["text"] for c in result.commitments] == [
        "年内将继续在新开通地铁站点周边开设接驳线路不少于30条"
    ]
