"""Demo data that shows the product working: real units, one user per role, the seed
proposal 20222174 with its contacts and reply, and current items in every state.

Everything goes through the services, as the users would do it. Loading twice changes
nothing: units, users and proposals that exist are left alone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from tracker.extensions import db
from tracker.models import Proposal, Unit, User
from tracker.services import proposals as svc
from tracker.services import users, vocab
from tracker.services.settings import today

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
]

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
        _user("duban"), p, lead_units=[_unit(lead)], co_units=[_unit(c) for c in co], assigned_on=on
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
        )
        new_users.append(username)
    created = [number for number, make in _PROPOSALS if not _loaded(number, make)]
    db.session.flush()
    return f"{len(added)} units, {len(new_users)} users, {len(created)} proposals added"


def import_corpus(folder: str) -> dict[str, int]:
    """Import the demo corpus (the reply letters shipped in corpus/); idempotent."""
    from pathlib import Path

    from tracker.services import indexing
    from tracker.services.corpus import Importer, iter_files

    counts: dict[str, int] = {}
    if not Path(folder).is_dir():
        return counts
    importer = Importer()
    with indexing.deferred(db.session()):
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
    """The real proposal behind the seed letter: answered A类 on 7 May 2022, rated 满意."""
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
    )
    svc.log_contact(
        _user("clerk"),
        p,
        contacted_on=date(2022, 4, 28),
        channel="微信",
        phase="during",
        participants="曾志伟代表；市教育局体卫艺处",
        summary="通过微信向代表介绍办理思路，听取代表对心理教师配备的意见。",
    )
    svc.log_contact(
        _user("clerk"),
        p,
        contacted_on=date(2022, 4, 29),
        channel="电话",
        phase="during",
        participants="曾志伟代表；市教育局体卫艺处",
        summary="电话沟通答复内容，代表对工作推进情况表示认可。",
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
    )
    svc.record_rating(
        _user("liaison"),
        p,
        satisfaction="满意",
        rated_on=date(2022, 5, 20),
        comment="答复全面，措施具体。",
    )


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
    )
    svc.record_rating(
        _user("liaison"),
        p,
        satisfaction="不满意",
        rated_on=t - timedelta(days=12),
        comment="答复未说明具体选址和建设时间表，请进一步细化。",
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
    )
    svc.log_contact(
        _user("clerk"),
        p,
        contacted_on=t - timedelta(days=30),
        channel="座谈会",
        phase="during",
        participants="曾志伟代表、市卫生健康委",
        summary="召开座谈会听取意见。",
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
    ("D022", _cppcc),
]
