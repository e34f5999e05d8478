"""Drafting, checking, approving, issuing and publishing a reply letter in the browser."""

from __future__ import annotations

import multiprocessing
from datetime import date

import pytest

from tracker import create_app, current
from tracker.extensions import db
from tracker.models import Assignment, AuditEvent, LetterVersion, Proposal, ReplyLetter, User
from tracker.services import drafting
from tracker.services import proposals as svc

TITLE = "关于进一步加强广州市中小学生心理健康管理工作的建议"
FORWARD = (
    "\n\n二、下一步工作安排\n\n"
    "各区推进全体教职员工的心理健康知识培训，今年底全市中小学专任教师持C证率达到80%。"
)


def _user(name):
    return db.session.execute(db.select(User).filter_by(username=name)).scalar_one()


@pytest.fixture(autouse=True)
def without_cosign(app):
    """This module drafts as a jurisdiction that collects 会办意见 only (会签 switched off):
    submitting goes straight to the supervisor. tests/test_cosign.py takes the 会签 path."""
    app.config["CO_SIGN_REQUIRED"] = False


@pytest.fixture
def proposal(app, make_proposal):
    """20222174: lead 广州市教育局, co 广州市卫生健康委员会, contacts 28 (微信) and 29 (电话)
    April 2026, the co-unit's opinion received."""
    pid = make_proposal("20222174", title=TITLE, assigned_on=date(2026, 3, 2), sign=True)
    with app.app_context():
        p = db.session.get(Proposal, pid)
        clerk = _user("clerk")
        svc.log_contact(
            clerk,
            p,
            contacted_on=date(2026, 4, 28),
            channel="微信",
            phase="during",
            summary="微信沟通",
            today=current.today(),
        )
        svc.log_contact(
            clerk,
            p,
            contacted_on=date(2026, 4, 29),
            channel="电话",
            phase="during",
            summary="电话沟通",
            today=current.today(),
        )
        co = p.assignments[1]
        svc.submit_opinion(
            _user("clerk-health"),
            co,
            text="支持。",
            opinion_on=date(2026, 3, 30),
            today=current.today(),
        )
        db.session.commit()
    return pid


def _start(browser, pid) -> int:
    response = browser.post(f"/proposals/{pid}/draft")
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return int(response.location.rstrip("/").split("/")[-2])


def _filled(body: str) -> str:
    """The prefilled body with its prompts replaced by real text."""
    opening = body.split("一、目前工作推进情况")[0]
    return (
        opening
        + "一、目前工作推进情况\n\n建立了学生心理危机防控工作联席会议制度。"
        + FORWARD
        + "\n\n感谢您对我们工作的关心和支持。"
    )


def _letter(app, letter_id) -> ReplyLetter:
    with app.app_context():
        letter = db.session.get(ReplyLetter, letter_id)
        db.session.expunge(letter)
        return letter


def _form(letter: ReplyLetter, **changes) -> dict:
    data = {
        "title": letter.title,
        "addressee": letter.addressee,
        "body": letter.body,
        "classification": letter.classification or "",
        "doc_number": letter.doc_number or "",
        "letter_on": letter.letter_on.isoformat() if letter.letter_on else "",
        "contact_person": letter.contact_person or "",
        "contact_phone": letter.contact_phone or "",
        "disclosure": letter.disclosure or "",
        "disclosure_reason": "",
        "cc": "、".join(letter.cc or []),
        "base_version": str(letter.version),
        "action": "save",
    }
    data.update(changes)
    return data


def test_the_draft_is_prefilled_from_the_record(app, browser, proposal):
    browser.login("clerk")
    letter_id = _start(browser, proposal)
    letter = _letter(app, letter_id)
    assert letter.title == "广州市教育局关于市十六届人大一次会议第20222174号建议答复的函"
    assert letter.addressee == "曾志伟代表："
    assert f"您提出的《{TITLE}》（第20222174号）已收悉。" in letter.body
    assert (
        "会同市卫生健康委认真研究办理，并与曾志伟代表在4月28、29日进行了微信、电话沟通交流"
        in letter.body
    )
    assert "经综合会办单位意见" in letter.body
    assert "一、目前工作推进情况" in letter.body and "二、下一步工作安排" in letter.body
    assert letter.cc == ["市府办公厅", "市人大选联工委", "市卫生健康委"]
    assert letter.disclosure == "主动公开" and letter.status == "draft"
    page = browser.get(f"/letters/{letter_id}/edit").get_data(as_text=True)
    assert "签发前检查" in page and "会办意见" in page and "支持。" in page
    assert "相似的答复" in page
    # opening the draft again does not create a second one
    assert _start(browser, proposal) == letter_id


def test_saving_keeps_versions_and_a_stale_save_is_refused(app, browser, proposal):
    browser.login("clerk")
    letter_id = _start(browser, proposal)
    base = _letter(app, letter_id)
    first = browser.post(
        f"/letters/{letter_id}/edit",
        _form(base, body=base.body + FORWARD, comment="补充下一步工作"),
    )
    assert first.status_code == 302
    # a second editor who loaded version 1 saves: refused, the other change is shown
    browser.login("supervisor")
    stale = browser.post(
        f"/letters/{letter_id}/edit", _form(base, body=base.body + "\n\n另一个人的修改。")
    )
    page = stale.get_data(as_text=True)
    assert stale.status_code == 409
    assert "已在您打开之后保存了这份草稿，您的修改未保存" in page
    assert "<ins>" in page and "持C证率达到80%" in page
    with app.app_context():
        letter = db.session.get(ReplyLetter, letter_id)
        assert letter.version == 2 and "另一个人的修改" not in letter.body
        numbers = [v.number for v in letter.versions]
    assert numbers == [1, 2]
    # compare the two versions side by side
    page = browser.get(f"/letters/{letter_id}/compare?a=1&b=2").get_data(as_text=True)
    assert "<ins>" in page and "今年底全市中小学专任教师持C证率达到80%" in page
    assert "第1版 与 第2版 比较" in page


def test_checks_block_errors_and_need_reasons_for_warnings(app, browser, proposal):
    browser.login("clerk")
    letter_id = _start(browser, proposal)
    letter = _letter(app, letter_id)
    # no grade yet: submission is refused and nothing changes
    response = browser.post(f"/letters/{letter_id}/submit")
    assert response.status_code == 302
    assert "请先改正" in browser.get(f"/letters/{letter_id}/edit").get_data(as_text=True)
    assert _letter(app, letter_id).status == "draft"
    # B grade without commitments: an error
    browser.post(f"/letters/{letter_id}/edit", _form(letter, classification="B"))
    letter = _letter(app, letter_id)
    with app.app_context():
        codes = [
            c.code
            for c in drafting.checklist(
                db.session.get(ReplyLetter, letter_id), today=current.today()
            ).errors
        ]
    assert codes == ["placeholders", "commitments"]
    # with the forward section and a promise, and a letter date after the due date
    browser.post(
        f"/letters/{letter_id}/edit",
        _form(
            letter,
            body=_filled(letter.body),
            letter_on="2026-06-10",
            cc="市府办公厅、市人大选联工委",
        ),
    )
    with app.app_context():
        result = drafting.checklist(db.session.get(ReplyLetter, letter_id), today=current.today())
    assert not result.errors
    assert [c.code for c in result.warnings] == ["cc", "due"]
    browser.post(f"/letters/{letter_id}/submit", {"reason-cc": "会办单位同意不抄送"})
    assert _letter(app, letter_id).status == "draft"  # the due-date warning has no reason
    browser.post(
        f"/letters/{letter_id}/submit",
        {"reason-cc": "会办单位同意不抄送", "reason-due": "经督办同意延后"},
    )
    assert _letter(app, letter_id).status == "submitted"
    with app.app_context():
        event = db.session.execute(
            db.select(AuditEvent).filter_by(action="letter_submit")
        ).scalar_one()
        assert event.data["overrides"] == {"cc": "会办单位同意不抄送", "due": "经督办同意延后"}


def _ready(app, browser, proposal, **changes) -> int:
    """A complete B-grade draft, submitted by the clerk."""
    browser.login("clerk")
    letter_id = _start(browser, proposal)
    letter = _letter(app, letter_id)
    body = _filled(letter.body)
    browser.post(
        f"/letters/{letter_id}/edit",
        _form(letter, body=body, classification="B", letter_on="2026-05-07", **changes),
    )
    response = browser.post(f"/letters/{letter_id}/submit")
    assert _letter(app, letter_id).status == "submitted", response
    return letter_id


def test_approve_numbers_issue_and_publish(app, browser, proposal):
    letter_id = _ready(app, browser, proposal)
    # the clerk cannot sign off
    assert browser.post(f"/letters/{letter_id}/approve").status_code == 403
    browser.login("supervisor")
    response = browser.post(
        f"/letters/{letter_id}/approve", {"classification": "A", "letter_on": "2026-05-07"}
    )
    assert response.status_code == 302
    letter = _letter(app, letter_id)
    assert (letter.status, letter.doc_number, letter.classification) == (
        "approved",
        "穗教案〔2026〕1号",
        "A",
    )
    browser.login("clerk")
    assert (
        browser.post(f"/letters/{letter_id}/issue", {"issued_on": "2026-05-08"}).status_code == 302
    )
    with app.app_context():
        p = db.session.get(Proposal, proposal)
        assert p.status == "replied" and p.lead_assignment.replied_on == date(2026, 5, 8)
    # not yet published: the public cannot reach it
    browser.logout()
    assert browser.get(f"/public/letters/{letter_id}").status_code == 404
    assert browser.get(f"/public/letters/{letter_id}/export/docx").status_code == 404
    assert "穗教案〔2026〕1号" not in browser.get("/public/?q=心理").get_data(as_text=True)
    browser.login("clerk")
    assert browser.post(f"/letters/{letter_id}/publish").status_code == 302
    browser.logout()
    assert browser.get(f"/public/letters/{letter_id}").status_code == 200
    assert "穗教案〔2026〕1号" in browser.get("/public/?q=心理").get_data(as_text=True)


def test_return_with_comments_and_a_corrected_grade(app, browser, proposal):
    letter_id = _ready(app, browser, proposal)
    browser.login("supervisor")
    response = browser.post(
        f"/letters/{letter_id}/return", {"comment": "请补充具体时间表", "classification": "C"}
    )
    assert response.status_code == 302
    letter = _letter(app, letter_id)
    assert (letter.status, letter.classification) == ("draft", "C")
    page = browser.get(f"/letters/{letter_id}/versions").get_data(as_text=True)
    assert "退回修改：请补充具体时间表" in page


def test_a_manual_number_is_validated_and_unique(app, browser, proposal, make_proposal):
    browser.login("clerk")
    letter_id = _start(browser, proposal)
    letter = _letter(app, letter_id)
    for bad, message in [
        ("穗教案〔2026〕第5号", "不加“第”字"),
        ("穗教案〔26〕5号", "格式应为"),
        ("穗卫函〔2026〕5号", "本单位的机关代字是“穗教案”"),
    ]:
        response = browser.post(
            f"/letters/{letter_id}/edit", _form(letter, doc_number=bad, letter_on="2026-05-07")
        )
        assert response.status_code == 400 and message in response.get_data(as_text=True)
    with app.app_context():
        db.session.add(ReplyLetter(status="imported", doc_number="穗教案〔2026〕5号"))
        db.session.commit()
    response = browser.post(
        f"/letters/{letter_id}/edit",
        _form(letter, doc_number="穗教案[2026]5号", letter_on="2026-05-07"),
    )
    assert response.status_code == 400
    assert "文号穗教案〔2026〕5号已被使用" in response.get_data(as_text=True)


def _approve_in_process(config, letter_id, queue):
    app = create_app(config)
    try:
        with app.app_context():
            letter = db.session.get(ReplyLetter, letter_id)
            drafting.approve(
                _user("supervisor"), letter, letter_on=date(2026, 5, 7), today=current.today()
            )
            db.session.commit()
            queue.put(letter.doc_number)
    except Exception as error:  # reported to the test
        queue.put(repr(error))


@pytest.mark.slow
def test_concurrent_approvals_never_share_a_number(app, make_proposal, proposal):
    pids = [proposal] + [make_proposal(f"2026{n:04d}", co=(), sign=True) for n in range(1, 6)]
    ids = []
    with app.app_context():
        db.session.add(ReplyLetter(status="imported", doc_number="穗教案〔2026〕2号"))
        supervisor = _user("supervisor")
        for n, pid in enumerate(pids):
            letter = ReplyLetter(
                proposal_id=pid,
                unit_id=supervisor.unit_id,
                status="submitted",
                round=1,
                title=f"第{n}件",
                body="",
            )
            db.session.add(letter)
            db.session.flush()
            ids.append(letter.id)
        db.session.commit()
    context = multiprocessing.get_context("fork")  # separate processes, without re-importing
    queue = context.Queue()
    workers = [
        context.Process(target=_approve_in_process, args=(dict(app.config), i, queue)) for i in ids
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    numbers = sorted(queue.get(timeout=5) for _ in ids)
    assert len(set(numbers)) == 6, numbers
    serials = sorted(int(n.split("〕")[1].rstrip("号")) for n in numbers)
    assert serials == [3, 4, 5, 6, 7, 8]  # numbering continues after 2, taken by hand


def test_only_the_unit_edits_its_draft(app, browser, proposal):
    browser.login("clerk")
    letter_id = _start(browser, proposal)
    letter = _letter(app, letter_id)
    browser.login("clerk-health")  # the co-handling unit: neither sees nor edits the draft
    assert browser.get(f"/letters/{letter_id}/edit").status_code == 403
    assert browser.post(f"/letters/{letter_id}/edit", _form(letter)).status_code == 403
    assert browser.post(f"/proposals/{proposal}/draft").status_code == 403
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(LetterVersion.id))).scalar() == 1
        assert db.session.execute(db.select(Assignment.replied_on)).scalars().all() == [None, None]


def test_export_in_the_browser_and_from_the_command_line(app, browser, runner, proposal, tmp_path):
    import io
    from pathlib import Path

    from docx import Document

    letter_id = _ready(app, browser, proposal)
    browser.login("supervisor")
    browser.post(f"/letters/{letter_id}/approve", {"letter_on": "2026-05-07"})
    response = browser.get(f"/letters/{letter_id}/export/docx")
    assert response.status_code == 200
    assert response.mimetype.endswith("wordprocessingml.document")
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    text = "\n".join(p.text for p in Document(io.BytesIO(response.data)).paragraphs)
    assert "穗教案〔2026〕1号" in text and "曾志伟代表：" in text
    assert "今年底全市中小学专任教师持C证率达到80%" in text
    assert browser.get(f"/letters/{letter_id}/export/pdf").data.startswith(b"%PDF")
    assert "<html" in browser.get(f"/letters/{letter_id}/export/html").get_data(as_text=True)
    # the command line, by document number or by proposal number
    out = tmp_path / "letter.docx"
    result = runner.invoke(
        args=["export-letter", "穗教案〔2026〕1号", "--format", "docx", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "穗教案〔2026〕1号" in "\n".join(p.text for p in Document(str(out)).paragraphs)
    result = runner.invoke(
        args=[
            "export-letter",
            "--proposal",
            "20222174",
            "--format",
            "pdf",
            "--out",
            str(tmp_path / "letter.pdf"),
        ]
    )
    assert result.exit_code == 0 and Path(tmp_path / "letter.pdf").read_bytes()[:4] == b"%PDF"
    result = runner.invoke(
        args=[
            "export-letter",
            "穗教案〔2026〕99号",
            "--format",
            "html",
            "--out",
            str(tmp_path / "x.html"),
        ]
    )
    assert result.exit_code == 1 and "找不到该答复函" in result.output
    # a draft is not exported
    browser.login("clerk")
    with app.app_context():
        p = db.session.get(Proposal, proposal)
        draft = ReplyLetter(proposal=p, unit_id=_user("clerk").unit_id, status="draft", body="")
        db.session.add(draft)
        db.session.commit()
        draft_id = draft.id
    assert browser.get(f"/letters/{draft_id}/export/docx").status_code in (403, 404)


def test_an_imported_letter_exports_from_the_command_line(runner, tmp_path):
    from pathlib import Path

    from docx import Document

    seed = Path(__file__).resolve().parent.parent / "corpus" / "000_983cdb5ab656f1f2.txt"
    assert runner.invoke(args=["import-letters", str(seed)]).exit_code == 0
    out = tmp_path / "seed.docx"
    result = runner.invoke(
        args=["export-letter", "穗教案〔2022〕119号", "--format", "docx", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    paragraphs = [p.text for p in Document(str(out)).paragraphs]
    assert "曾志伟代表：" in paragraphs
    assert any("一、目前工作推进情况" in p for p in paragraphs)
    assert any("抄送：市府办公厅" in p for p in paragraphs)
    # the heading lines are set apart, not repeated in the body
    assert sum("穗教案〔2022〕119号" in p for p in paragraphs) == 1


def test_another_unit_sees_neither_the_draft_nor_its_text(app, browser, proposal):
    browser.login("clerk")
    letter_id = _start(browser, proposal)
    letter = _letter(app, letter_id)
    browser.post(
        f"/letters/{letter_id}/edit", _form(letter, body=letter.body + "\n\n内部草稿文字。")
    )
    browser.login("clerk-health")  # the co-handling unit reads the proposal, not the draft
    page = browser.get(f"/proposals/{proposal}").get_data(as_text=True)
    assert "内部草稿文字" not in page and letter.title not in page
    # a broken editor field is refused, not a server error
    browser.login("clerk")
    response = browser.post(f"/letters/{letter_id}/edit", _form(letter, base_version="abc"))
    assert response.status_code == 409


def test_a_decided_disclosure_cannot_be_changed_from_the_letter_page(app, browser, proposal):
    letter_id = _ready(
        app, browser, proposal, disclosure="不予公开", disclosure_reason="涉及尚未公开的规划"
    )
    browser.login("clerk")
    browser.post(f"/letters/{letter_id}/disclosure", {"disclosure": "主动公开"})
    assert _letter(app, letter_id).disclosure == "不予公开"
