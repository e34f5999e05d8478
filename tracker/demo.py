"""Demo data that shows the product working: real units, one user per role, the seed
proposal 20222174 with its contacts and reply, and current items in every state.

Everything goes through the services, as the users would do it. Loading twice changes
nothing: units, users and proposals that exist are left alone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from tracker.current import (
    deadline_policy,
    read_options,
    search_engine,
    site_path,
    today,
    upload_dir,
)
from tracker.extensions import db
from tracker.models import Proposal, Unit, User
from tracker.rules.labels import SENT_LETTER_STATUSES
from tracker.services import cosign, deputies, drafting, users, vocab
from tracker.services import proposals as svc

DEMO_PASSWORD = "tracker-demo"

UNITS = [
    # name, short names, document prefix, coordinating office
    ("广州市教育局", ["市教育局"], "穗教案", False),
    ("广州市卫生健康委员会", ["市卫生健康委"], "穗卫函", False),
    ("广州市人民政府办公厅", ["市府办公厅"], "穗府办函", True),
    ("广州市规划和自然资源局", ["市规划和自然资源局"], "穗规划资源函", False),
    ("广州市住房和城乡建设局", ["市住房城乡建设局"], "穗建函", False),
    ("广州市交通运输局", ["市交通运输局"], "穗交运函", False),
    ("广州市民政局", ["市民政局"], "穗民函", False),
]

USERS = [
    # username, role, unit, display name
    ("admin", "admin", None, "系统管理员"),
    ("liaison", "liaison", None, "选联工委 陈联络"),
    ("supervisor", "supervisor", "广州市教育局", "教育局 李处长"),
    ("clerk", "clerk", "广州市教育局", "教育局 邹慧婷"),
    ("duban", "supervisor", "广州市人民政府办公厅", "市府办公厅 督办 王科长"),
    ("clerk-health", "clerk", "广州市卫生健康委员会", "卫健委 林承办"),
    ("clerk-civil", "clerk", "广州市民政局", "民政局 何承办"),
    ("deputy", "deputy", None, "曾志伟代表"),
]
# the deputies' names as their proposals give them (the deputy role's link to proposals)
DEPUTY_NAMES = {"deputy": "曾志伟"}

SEED_TITLE = "关于进一步加强广州市中小学生心理健康管理工作的建议"


def _user(name: str) -> User:
    return db.session.execute(db.select(User).where(User.username == name)).scalar_one()


def _unit(name: str) -> Unit:
    return db.session.execute(db.select(Unit).where(Unit.name == name)).scalar_one()


def _exists(session_name: str, number: str) -> bool:
    session = svc.get_or_create_session(session_name, year=_session_year(session_name))
    return (
        db.session.execute(
            db.select(Proposal.id).where(
                Proposal.session_id == session.id, Proposal.number == number
            )
        ).first()
        is not None
    )


def _session_year(name: str) -> int:
    return {
        "市十六届人大一次会议": 2022,
        "市十六届人大四次会议": 2025,
        "市十六届人大五次会议": 2026,
        "市政协十四届五次会议": 2026,
    }.get(name, today().year)


def _at(day: date) -> datetime:
    """09:30 Beijing time on that day, in UTC."""
    return datetime(day.year, day.month, day.day, 1, 30, tzinfo=UTC)


def _register(
    number: str,
    title: str,
    proposer: str,
    *,
    session: str = "市十六届人大五次会议",
    kind: str = "建议",
    proposer_kind: str = "代表",
    co_signers=(),
    submitted_on: date,
    is_key: bool = False,
    content: str = "",
) -> Proposal:
    return svc.register_proposal(
        _user("liaison"),
        session=svc.get_or_create_session(session, year=_session_year(session)),
        kind=kind,
        number=number,
        title=title,
        lead_proposer=proposer,
        proposer_kind=proposer_kind,
        co_signers=co_signers,
        submitted_on=submitted_on,
        is_key=is_key,
        content=content,
    )


def _assign(p: Proposal, lead: str, co=(), on: date | None = None):
    svc.assign_units(
        _user("duban"),
        p,
        lead_units=[_unit(lead)],
        co_units=[_unit(c) for c in co],
        assigned_on=on,
        policy=deadline_policy(),
    )


def load() -> str:
    vocab.ensure_defaults()
    added = []
    for name, short, prefix, coordinating in UNITS:
        if users.find_unit(name) is None:
            db.session.add(
                Unit(name=name, short_names=short, doc_prefix=prefix, is_coordinating=coordinating)
            )
            added.append(name)
    db.session.flush()
    new_users = []
    for username, role, unit, display in USERS:
        if db.session.execute(db.select(User.id).where(User.username == username)).first():
            continue
        users.create_user(
            None,
            username=username,
            password=DEMO_PASSWORD,
            role=role,
            unit=_unit(unit) if unit else None,
            display_name=display,
            deputy_name=DEPUTY_NAMES.get(username),
        )
        new_users.append(username)
    created = [number for number, make in _PROPOSALS if not _loaded(number, make)]
    db.session.flush()
    return f"{len(added)} units, {len(new_users)} users, {len(created)} proposals added"


def import_corpus(folder: str) -> dict[str, int]:
    """Import the demo corpus (the reply letters shipped in corpus/); idempotent."""
    from pathlib import Path

    from tracker import search_hooks
    from tracker.services.corpus import Importer, iter_files

    counts: dict[str, int] = {}
    if not Path(folder).is_dir():
        return counts
    importer = Importer(options=read_options(), search=search_engine())
    with search_hooks.deferred(db.session()):
        for outcome in importer.import_many(iter_files([folder])):
            counts[outcome.status] = counts.get(outcome.status, 0) + 1
        db.session.commit()
    return counts


def _loaded(number: str, make) -> bool:
    session_name = make.__defaults__[0] if make.__defaults__ else "市十六届人大五次会议"
    if _exists(session_name, number):
        return True
    make()
    db.session.flush()
    return False


# -- the proposals -------------------------------------------------------------------


def _seed_20222174(session="市十六届人大一次会议"):
    """The real proposal behind the seed letter: answered A类 on 7 May 2022. 曾志伟 (the
    `deputy` login) confirmed the first contact online and is told the reply is waiting
    for his rating: he rates it himself."""
    p = _register(
        "20222174",
        SEED_TITLE,
        "曾志伟",
        session=session,
        submitted_on=date(2022, 1, 20),
        content="建议进一步健全中小学生心理健康工作机制，配齐专职心理教师，"
        "加强心理危机预防、预警和干预，推进家校协同育人。",
    )
    _assign(p, "广州市教育局", ["广州市卫生健康委员会"], date(2022, 3, 4))
    lead, co = p.assignments
    svc.sign_for(_user("clerk"), lead, _at(date(2022, 3, 7)))
    svc.sign_for(_user("clerk-health"), co, _at(date(2022, 3, 8)))
    svc.submit_opinion(
        _user("clerk-health"),
        co,
        opinion_on=date(2022, 3, 30),
        text="市卫生健康委支持加强中小学生心理健康服务，将依托市未成年人心理咨询与援助中心"
        "和精神卫生医疗机构，做好心理危机转介和医疗救治衔接。",
        today=today(),
    )
    svc.log_contact(
        _user("clerk"),
        p,
        contacted_on=date(2022, 4, 28),
        channel="微信",
        phase="during",
        participants="曾志伟代表；市教育局体卫艺处",
        summary="通过微信向代表介绍办理思路，听取代表对心理教师配备的意见。",
        today=today(),
    )
    svc.log_contact(
        _user("clerk"),
        p,
        contacted_on=date(2022, 4, 29),
        channel="电话",
        phase="during",
        participants="曾志伟代表；市教育局体卫艺处",
        summary="电话沟通答复内容，代表对工作推进情况表示认可。",
        today=today(),
    )
    svc.record_reply(
        _user("clerk"),
        lead,
        title="广州市教育局关于市十六届人大一次会议第20222174号建议答复的函",
        classification="A",
        doc_number="穗教案〔2022〕119号",
        letter_on=date(2022, 5, 7),
        issued_on=date(2022, 5, 7),
        disclosure="主动公开",
        body="一、目前工作推进情况\n\n（略，见答复函全文）\n\n二、下一步工作安排\n\n"
        "各区推进全体教职员工的心理健康知识培训，今年底全市中小学专任教师持C证率达到80%。",
        today=today(),
        link=site_path,
    )
    first = min(p.contacts, key=lambda c: c.contacted_on)
    deputies.answer_contact(_user("deputy"), first, status="confirmed", comment="")


def _overdue(session="市十六届人大五次会议"):
    """Assigned four months ago and still not answered: overdue."""
    t = today()
    p = _register(
        "20265012",
        "关于加快推进中小学校园周边交通安全设施建设的建议",
        "何嘉欣",
        co_signers=["刘建国", "郑晓燕"],
        submitted_on=t - timedelta(days=140),
        is_key=True,
    )
    _assign(p, "广州市教育局", ["广州市交通运输局"], t - timedelta(days=122))
    lead = p.assignments[0]
    svc.sign_for(_user("clerk"), lead, _at(t - timedelta(days=120)))
    svc.log_contact(
        _user("clerk"),
        p,
        contacted_on=t - timedelta(days=100),
        channel="面商",
        phase="before",
        participants="何嘉欣代表",
        summary="办前面商，了解代表关注的学校周边路段。",
        today=today(),
    )


def _awaiting_sign_for(session="市十六届人大五次会议"):
    """Assigned two days ago: waiting to be signed for."""
    t = today()
    p = _register(
        "20265087",
        "关于规范校外培训机构收费管理的建议",
        "黄志强",
        submitted_on=t - timedelta(days=20),
    )
    _assign(p, "广州市教育局", [], t - timedelta(days=2))


def _rehandling(session="市十六届人大五次会议"):
    """Answered B类, rated 不满意: back in handling with a new, shorter deadline."""
    t = today()
    p = _register(
        "20265033",
        "关于增加中心城区公办幼儿园学位供给的建议",
        "梁碧云",
        submitted_on=t - timedelta(days=190),
    )
    _assign(p, "广州市教育局", ["广州市规划和自然资源局"], t - timedelta(days=170))
    lead, co = p.assignments
    svc.sign_for(_user("clerk"), lead, _at(t - timedelta(days=168)))
    svc.log_contact(
        _user("clerk"),
        p,
        contacted_on=t - timedelta(days=120),
        channel="电话",
        phase="during",
        participants="梁碧云代表",
        summary="电话沟通学位缺口情况。",
        today=today(),
    )
    svc.record_reply(
        _user("clerk"),
        lead,
        title="广州市教育局关于市十六届人大五次会议第20265033号建议答复的函",
        classification="B",
        doc_number="穗教案〔2026〕57号",
        letter_on=t - timedelta(days=95),
        disclosure="主动公开",
        body="二、下一步工作安排\n\n力争明年新增公办幼儿园学位3000个。",
        today=today(),
    )
    svc.record_rating(
        _user("liaison"),
        p,
        satisfaction="不满意",
        rated_on=t - timedelta(days=12),
        comment="答复未说明具体选址和建设时间表，请进一步细化。",
        today=today(),
        policy=deadline_policy(),
    )


def _due_soon(session="市十六届人大五次会议"):
    """Signed for, reply due within a week, co-unit opinion received."""
    t = today()
    p = _register(
        "20265046",
        "关于加强中小学生近视防控工作的建议",
        "曾志伟",
        submitted_on=t - timedelta(days=110),
    )
    _assign(p, "广州市教育局", ["广州市卫生健康委员会"], t - timedelta(days=86))
    lead, co = p.assignments
    svc.sign_for(_user("clerk"), lead, _at(t - timedelta(days=84)))
    svc.submit_opinion(
        _user("clerk-health"),
        co,
        opinion_on=t - timedelta(days=60),
        text="建议将学生视力筛查纳入学校卫生工作考核，卫生健康部门做好筛查技术指导。",
        today=today(),
    )
    svc.log_contact(
        _user("clerk"),
        p,
        contacted_on=t - timedelta(days=30),
        channel="座谈会",
        phase="during",
        participants="曾志伟代表、市卫生健康委",
        summary="召开座谈会听取意见。",
        today=today(),
    )


def _co_opinion_owed(session="市十六届人大五次会议"):
    """Lead unit is 卫健委; 教育局 owes its co-handling opinion."""
    t = today()
    p = _register(
        "20265101",
        "关于完善校医配备和学校卫生室建设的建议",
        "罗敏",
        submitted_on=t - timedelta(days=40),
    )
    _assign(p, "广州市卫生健康委员会", ["广州市教育局"], t - timedelta(days=21))
    svc.sign_for(_user("clerk-health"), p.assignments[0], _at(t - timedelta(days=20)))


def _cosigning(session="市十六届人大五次会议"):
    """会签 in progress: 教育局's draft went to its two co-units; 卫健委 agreed, 民政局
    returned it with comments, and the clerk is to revise it."""
    t = today()
    p = _register(
        "20265120",
        "关于加强困难家庭学生心理关爱的建议",
        "黄晓燕",
        submitted_on=t - timedelta(days=95),
    )
    _assign(p, "广州市教育局", ["广州市卫生健康委员会", "广州市民政局"], t - timedelta(days=70))
    lead, health, civil = p.assignments
    clerk = _user("clerk")
    svc.sign_for(clerk, lead, _at(t - timedelta(days=69)))
    for who, a, text in (
        ("clerk-health", health, "卫生健康部门将为有需要的学生开通心理门诊绿色通道。"),
        ("clerk-civil", civil, "民政部门将把困难家庭学生纳入社会救助对象的心理关爱服务。"),
    ):
        svc.sign_for(_user(who), a, _at(t - timedelta(days=68)))
        svc.submit_opinion(_user(who), a, opinion_on=t - timedelta(days=40), text=text, today=t)
    svc.log_contact(
        clerk,
        p,
        contacted_on=t - timedelta(days=20),
        channel="面商",
        phase="during",
        participants="黄晓燕代表",
        summary="当面听取代表对困难家庭学生心理关爱的意见。",
        today=t,
    )
    letter = drafting.start_draft(clerk, p, today=t)
    opening = letter.body.split("一、目前工作推进情况")[0]
    body = (
        opening + "一、目前工作推进情况\n\n全市中小学已建立困难家庭学生心理健康档案，"
        "每学期开展一次心理健康筛查。\n\n二、下一步工作安排\n\n"
        "今年底前为全市困难家庭学生建立“一生一策”心理关爱台账。\n\n"
        "感谢您对我们工作的关心和支持，欢迎继续提出宝贵意见和建议。"
    )
    values = {name: getattr(letter, name) for name in drafting.FIELDS}
    drafting.save_draft(
        clerk,
        letter,
        values={**values, "classification": "B"},
        body=body,
        base_version=letter.version,
        comment="补充工作情况和下一步安排",
        today=t,
    )
    policy = deadline_policy()
    drafting.submit(clerk, letter, {}, today=t, policy=policy)
    if letter.status != "cosigning":
        return  # 会签 switched off in this jurisdiction
    cosign.decide(_user("clerk-health"), letter, agree=True, comment="", policy=policy)
    cosign.decide(
        _user("clerk-civil"),
        letter,
        agree=False,
        comment="请在“下一步工作安排”中写明民政部门将困难家庭学生纳入社会救助对象心理关爱服务，"
        "并注明由市民政局社会救助处配合。",
        policy=policy,
    )


def _cppcc(session="市政协十四届五次会议"):
    """A CPPCC proposal from a party committee, in handling."""
    t = today()
    p = _register(
        "D022",
        "关于推动社区嵌入式养老服务设施建设的提案",
        "民革广州市委员会",
        session=session,
        kind="提案",
        proposer_kind="单位",
        submitted_on=t - timedelta(days=75),
    )
    _assign(p, "广州市民政局", ["广州市住房和城乡建设局"], t - timedelta(days=50))


_PROPOSALS = [
    ("20222174", _seed_20222174),
    ("20265012", _overdue),
    ("20265087", _awaiting_sign_for),
    ("20265033", _rehandling),
    ("20265046", _due_soon),
    ("20265101", _co_opinion_owed),
    ("20265120", _cosigning),
    ("D022", _cppcc),
]


# -- a year of replies and their follow-up (for the dashboard and the commitment tracker) ----

# unit, topics (title stem, promise with a date, measurable promise)
_YEAR_TOPICS = [
    (
        "广州市教育局",
        [
            (
                "关于推进中小学课后服务提质增效的建议",
                "年底前实现全市公办中小学课后服务全覆盖",
                "力争明年上半年课后服务学生参与率达到90%",
            ),
            (
                "关于加强中小学体育师资配备的建议",
                "今年9月底前完成新一轮体育教师招聘",
                "明年新增专职体育教师300名",
            ),
            (
                "关于扩大普惠性学前教育资源的建议",
                "年内新增公办幼儿园学位5000个",
                "力争明年公办园在园幼儿占比达到55%",
            ),
            (
                "关于加强校园食品安全管理的建议",
                "今年10月底前完成全市学校食堂“互联网+明厨亮灶”改造",
                "年底前学校食堂量化分级A级比例达到70%",
            ),
        ],
    ),
    (
        "广州市卫生健康委员会",
        [
            (
                "关于加强社区卫生服务中心能力建设的建议",
                "年底前新建社区医院15家",
                "力争明年家庭医生签约覆盖率达到45%",
            ),
            (
                "关于完善儿童心理健康服务体系的建议",
                "今年8月底前在各区设立儿童心理门诊",
                "明年上半年实现区级精神卫生机构儿童心理门诊全覆盖",
            ),
            (
                "关于优化基层急救网络布局的建议",
                "年内新增急救站点12个",
                "力争明年急救平均反应时间缩短至12分钟",
            ),
        ],
    ),
    (
        "广州市交通运输局",
        [
            (
                "关于优化中心城区公交线网的建议",
                "年底前优化调整公交线路40条",
                "明年公交站点500米覆盖率达到100%",
            ),
            (
                "关于加快推进新能源出租车更新的建议",
                "今年9月底前完成2000辆出租车更新",
                "力争明年新能源出租车占比达到95%",
            ),
        ],
    ),
    (
        "广州市住房和城乡建设局",
        [
            (
                "关于加快老旧小区加装电梯的建议",
                "年内完成加装电梯500台",
                "明年上半年出台加装电梯财政补助新办法",
            ),
            (
                "关于推进城中村改造安置房建设的建议",
                "年底前建成安置房8000套",
                "力争明年完成3个城中村改造项目",
            ),
        ],
    ),
    (
        "广州市民政局",
        [
            (
                "关于完善居家养老服务补贴制度的建议",
                "年内新增长者饭堂100个",
                "明年实现街道综合养老服务中心全覆盖",
            ),
            (
                "关于加强困境儿童关爱保护的建议",
                "今年10月底前完成全市困境儿童排查",
                "年底前儿童督导员培训覆盖率达到100%",
            ),
        ],
    ),
    (
        "广州市规划和自然资源局",
        [
            (
                "关于加强历史文化街区保护利用的建议",
                "年底前公布第二批历史建筑名录",
                "力争明年完成10个历史文化街区保护规划",
            ),
        ],
    ),
]

_DEPUTIES = [
    "陈立新",
    "周慧敏",
    "吴国栋",
    "许丽华",
    "冯志远",
    "邓雅琴",
    "萧文杰",
    "谢婉婷",
    "区永康",
    "麦秀英",
]


def _unit_clerk(unit: Unit) -> User:
    """The demo clerk of a unit; units without a demo user act through a stand-in clerk
    that is never stored, so their records name no person."""
    clerk = db.session.execute(
        db.select(User).where(User.unit_id == unit.id, User.role == "clerk")
    ).scalar()
    return clerk or User(username=f"stand-in-{unit.id}", role="clerk", unit_id=unit.id, unit=unit)


def year_of_replies() -> int:
    """Proposals of this year's session answered by six units, some on time and some late,
    graded A/B/C, rated by the deputies; their promises confirmed and followed up."""
    return _replies_of_year(today().year, "市十六届人大五次会议", seed=2026)


# last year's handling, unit by unit, for a ranking worth reading: share of replies late,
# of replies after a contact with the deputy, of those contacts in person, and how the
# deputies rated (weights of 满意, 基本满意, 不满意)
_LAST_YEAR_PROFILES = {
    "广州市教育局": (0.1, 1.0, 0.7, (7, 3, 0)),
    "广州市卫生健康委员会": (0.3, 0.8, 0.4, (5, 4, 1)),
    "广州市交通运输局": (0.5, 0.5, 0.2, (3, 4, 3)),
    "广州市住房和城乡建设局": (0.25, 0.9, 0.5, (5, 3, 2)),
    "广州市民政局": (0.0, 1.0, 0.9, (8, 2, 0)),
    "广州市规划和自然资源局": (0.6, 0.3, 0.0, (2, 4, 4)),
}


def last_year_of_replies() -> int:
    """Last year's session, handled and rated, for last year's assessment (考评): each unit
    as _LAST_YEAR_PROFILES says, the deputies rating the result and the attitude, an
    unsatisfied item answered again."""
    year = today().year - 1
    return _replies_of_year(year, "市十六届人大四次会议", seed=year, profiles=_LAST_YEAR_PROFILES)


def finalize_last_year() -> bool:
    """The coordinating office finalizes last year's assessment (考评定稿) under the default
    scheme, as it publishes it early in the year; once only."""
    from tracker.services import assessment

    year = today().year - 1
    if assessment.year_record(year) is not None:
        return False
    assessment.finalize(_user("duban"), year)
    return True


def _replies_of_year(year: int, session: str, *, seed: int, profiles=None) -> int:
    import random

    t = today()
    rng = random.Random(seed)  # the same draws on every run: a proposal is the same one
    start = date(year, 2, 10)
    serial = made = 0
    for unit_name, topics in _YEAR_TOPICS:
        unit = _unit(unit_name)
        clerk = _unit_clerk(unit)
        profile = profiles.get(unit_name) if profiles else None
        for title, dated, measured in topics:
            serial += 1
            number = f"{year}{6000 + serial}"
            if profile is not None:
                title = title.replace("关于", "关于进一步", 1)
            assigned = start + timedelta(days=rng.randint(0, 40))
            # this year one reply in four goes out after its due date; last year by unit
            late = serial % 4 == 0 if profile is None else rng.random() < profile[0]
            reply_shift = rng.randint(3, 20) if late else -rng.randint(3, 25)
            channel = rng.choice(["电话", "微信", "面商"])
            contacted = True
            if profile is not None:
                contacted = rng.random() < profile[1]
                channel = (
                    rng.choice(["面商", "座谈会", "走访"])
                    if rng.random() < profile[2]
                    else (rng.choice(["电话", "微信"]))
                )
            grade = rng.choices(["A", "B", "C"], weights=[5, 4, 1])[0]
            rated = rng.random() < 0.85
            levels = ["满意", "基本满意", "不满意"]
            satisfaction = rng.choices(levels, weights=profile[3] if profile else [6, 3, 1])[0]
            attitude = rng.choices(levels[:2], weights=[4, 1])[0] if profile else None
            rated_after = rng.randint(7, 14)
            deputy = _DEPUTIES[(serial * 7) % len(_DEPUTIES)]
            if assigned + timedelta(days=60) > t or _exists(session, number):
                continue  # too early in the year for a reply, or loaded before
            made += 1
            p = _register(
                number, title, deputy, session=session, submitted_on=assigned - timedelta(days=25)
            )
            _assign(p, unit_name, [], assigned)
            lead = p.assignments[0]
            svc.sign_for(clerk, lead, _at(assigned + timedelta(days=2)))
            # most replies go out before the due date; some after it
            letter_on = min(lead.due_on + timedelta(days=reply_shift), t - timedelta(days=1))
            if contacted:
                svc.log_contact(
                    clerk,
                    p,
                    contacted_on=letter_on - timedelta(days=10),
                    channel=channel,
                    phase="during",
                    participants=f"{p.lead_proposer}代表",
                    summary="沟通办理思路和答复内容。",
                    today=today(),
                )
            _demo_reply(clerk, lead, session, number, grade, letter_on, dated, measured)
            if rated and letter_on + timedelta(days=15) < t:
                svc.record_rating(
                    _user("liaison"),
                    p,
                    satisfaction=satisfaction,
                    attitude=attitude,
                    rated_on=letter_on + timedelta(days=rated_after),
                    comment=""
                    if satisfaction != "不满意"
                    else "答复未给出具体时间表，请细化措施。",
                    today=today(),
                    policy=deadline_policy(),
                )
                again = [a for a in p.active_assignments if a.round == p.round and a.round > 1]
                if profile is not None and again:  # last year's re-handling is answered
                    on = min(again[0].due_on - timedelta(days=5), t - timedelta(days=1))
                    _demo_reply(clerk, again[0], session, number, "B", on, dated, measured)
    db.session.flush()
    return made


def _demo_reply(clerk, assignment, session, number, grade, letter_on, dated, measured) -> None:
    p = assignment.proposal
    unit_name = assignment.unit.name
    svc.record_reply(
        clerk,
        assignment,
        title=f"{unit_name}关于{session}第{number}号建议答复的函",
        classification=grade,
        doc_number="",
        letter_on=letter_on,
        disclosure="主动公开",
        body=f"{p.lead_proposer}代表：\n\n您提出的《{p.title}》收悉，现答复如下：\n\n"
        "一、目前工作推进情况\n\n我单位高度重视，已将该建议列入年度重点工作。\n\n"
        f"二、下一步工作安排\n\n（一）{dated}，并及时向社会公布进展情况。\n\n"
        f"（二）{measured}，切实回应代表关切。\n\n感谢您对我们工作的关心和支持。",
        today=today(),
    )


def follow_ups() -> int:
    """Confirm the promises of the demo's own replies and of the seed letter and follow
    them up: done (with evidence), in progress, overdue, dropped, reported back. A letter
    with anything confirmed already is left alone, so loading twice changes nothing."""
    import random

    from tracker.models import ReplyLetter
    from tracker.services import commitments as follow

    t = today()
    letters = (
        db.session.execute(
            db.select(ReplyLetter)
            .where(
                db.or_(
                    ReplyLetter.doc_number == "穗教案〔2022〕119号",
                    ReplyLetter.source_file.is_(None),
                ),
                ReplyLetter.status.in_(SENT_LETTER_STATUSES),
            )
            .order_by(ReplyLetter.id)
        )
        .scalars()
        .all()
    )
    confirmed = 0
    for letter in letters:
        if letter.unit is None or any(c.status != "candidate" for c in letter.commitments):
            continue  # followed up by an earlier run (or by hand)
        rng = random.Random(letter.id)
        clerk = _unit_clerk(letter.unit)
        for c in [c for c in letter.commitments if c.status == "candidate"]:
            follow.confirm(clerk, c, keep_inferred=True)
            confirmed += 1
            if "持C证率" in c.text:
                _seed_follow_up(clerk, c)
                continue
            if c.due_on is None:
                continue
            start = max(letter.letter_on or t, c.due_on - timedelta(days=150))
            if c.due_on < t:
                roll = rng.random()
                if roll < 0.6:
                    noted = min(c.due_on - timedelta(days=rng.randint(0, 20)), t)
                    follow.add_update(
                        clerk,
                        c,
                        noted_on=max(noted, start),
                        note=f"已按期完成：{c.text.rstrip('。')}。",
                        evidence_url="https://www.gz.gov.cn/zwgk/",
                        upload_dir=upload_dir(),
                        today=today(),
                    )
                    follow.set_status(clerk, c, "done", done_on=max(noted, start), today=today())
                    if letter.classification == "B" and rng.random() < 0.5:
                        follow.report_back(
                            clerk,
                            c,
                            reported_on=min(max(noted, start) + timedelta(days=5), t),
                            channel="电话",
                            note="已电话告知代表落实情况，代表表示满意。",
                            today=today(),
                        )
                elif roll < 0.85:
                    follow.add_update(
                        clerk,
                        c,
                        noted_on=start,
                        note="已制定工作方案，正在组织实施，部分区进度滞后。",
                        upload_dir=upload_dir(),
                        today=today(),
                    )
                else:
                    follow.set_status(
                        clerk,
                        c,
                        "dropped",
                        reason="受年度财政预算调整影响，项目延至下一年度，已纳入明年计划。",
                        today=today(),
                    )
            elif rng.random() < 0.6 and start <= t:
                follow.add_update(
                    clerk,
                    c,
                    noted_on=start,
                    note="已启动，完成阶段性任务，按计划推进。",
                    upload_dir=upload_dir(),
                    today=today(),
                )
    db.session.flush()
    return confirmed


def _seed_follow_up(clerk: User, c) -> None:
    """The promise the product was designed from: 80% of teachers certified by the end
    of 2022. Done, with the figures."""
    from tracker.services import commitments as follow

    for day, note in (
        (date(2022, 9, 20), "全市组织心理健康教育C证培训12期，累计培训专任教师4.6万人次。"),
        (date(2022, 12, 28), "经统计，全市中小学专任教师持C证率达到81.3%，超额完成目标。"),
    ):
        if day <= today():
            follow.add_update(
                clerk,
                c,
                noted_on=day,
                note=note,
                evidence_url="https://jyj.gz.gov.cn/" if day.month == 12 else "",
                upload_dir=upload_dir(),
                today=today(),
            )
    if date(2022, 12, 30) <= today():
        follow.set_status(clerk, c, "done", done_on=date(2022, 12, 30), today=today())
