"""Deputies and members online (issue 14, point 2): the deputy role linked to proposer
names, 我的建议, contacts confirmed or disputed, replies sent to them, the notice when a
reply goes out, the online rating and the liaison's 代填."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import PASSWORD
from test_reminders import channels, sms_sink, smtp_sink  # noqa: F401 (fixtures)

from tracker import current
from tracker.extensions import db
from tracker.models import (
    Assignment,
    ContactLog,
    Feedback,
    Notification,
    Proposal,
    ReplyLetter,
    User,
)
from tracker.services import drafting
from tracker.services import proposals as svc

TITLE = "关于进一步加强广州市中小学生心理健康管理工作的建议"


def _page(response) -> str:
    return response.get_data(as_text=True)


def _user(name) -> User:
    return db.session.execute(db.select(User).filter_by(username=name)).scalar_one()


@pytest.fixture
def scene(app, people, make_proposal, runner):
    """曾志伟 leads 20222174 (lead 教育局, co 卫健委, a contact logged, an extension asked)
    and co-signs 20262010 (领衔 李华); 王芳's 20262011 is not his. His account is made
    with the console command, as an operator would."""
    ids = {
        "mine": make_proposal("20222174", sign=True),
        "cosigned": make_proposal(
            "20262010", title="关于增加社区心理咨询点的建议", proposer="李华"
        ),
        "other": make_proposal("20262011", title="关于校园午餐配送的建议", proposer="王芳"),
    }
    result = runner.invoke(
        args=[
            "create-user",
            "zeng",
            "--role",
            "deputy",
            "--deputy-name",
            "曾志伟",
            "--phone",
            "13900139000",
            "--email",
            "zeng@rd.example.gov.cn",
            "--password-stdin",
        ],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        db.session.get(Proposal, ids["cosigned"]).co_signers = ["曾志伟", "赵敏"]
        mine = db.session.get(Proposal, ids["mine"])
        clerk = _user("clerk")
        lead = mine.lead_assignment
        contact = svc.log_contact(
            clerk,
            mine,
            contacted_on=date(2026, 4, 28),
            channel="微信",
            phase="during",
            participants="曾志伟代表",
            summary="微信沟通办理思路",
            today=date(2026, 6, 15),
        )
        svc.request_extension(
            clerk, lead, requested_due_on=date(2026, 7, 31), reason="内部：需等待财政预算批复"
        )
        co = next(a for a in mine.assignments if a.is_co)
        svc.submit_opinion(
            _user("clerk-health"),
            co,
            text="内部会办意见：建议增加心理教师编制",
            opinion_on=date(2026, 3, 20),
            today=date(2026, 6, 15),
        )
        db.session.commit()
        ids.update(contact=contact.id, lead=lead.id)
    return ids


def _reply(browser, scene, disclosure="不予公开", **extra):
    browser.login("clerk")
    response = browser.post(
        f"/assignments/{scene['lead']}/reply",
        {
            "reply-title": "广州市教育局关于市十六届人大一次会议第20222174号建议答复的函",
            "reply-classification": "A",
            "reply-doc_number": "穗教案〔2026〕119号",
            "reply-letter_on": "2026-06-10",
            "reply-disclosure": disclosure,
            "reply-disclosure_reason": "涉及学生个人信息" if disclosure == "不予公开" else "",
            "reply-body": "一、目前工作推进情况\n\n全市中小学已配备专职心理教师。",
            **extra,
        },
    )
    assert response.status_code == 302, _page(response)


# -- the role and the link to proposer names --------------------------------------------------


def test_the_console_makes_a_deputy_linked_to_a_proposer_name(app, scene, runner):
    with app.app_context():
        zeng = _user("zeng")
        assert (zeng.role, zeng.deputy_name, zeng.unit_id) == ("deputy", "曾志伟", None)
        assert zeng.phone == "13900139000"
    missing = runner.invoke(
        args=["create-user", "nobody", "--role", "deputy", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert missing.exit_code != 0
    assert "署名" in missing.output


def test_the_admin_makes_a_deputy_on_the_user_page(app, browser, people):
    browser.login("admin")
    page = _page(browser.get("/admin/users/new"))
    assert "代表/委员署名" in page and '<option value="deputy">代表/委员</option>' in page
    response = browser.post(
        "/admin/users/new",
        {
            "username": "liu",
            "display_name": "刘委员",
            "role": "deputy",
            "unit_id": "0",
            "deputy_name": "刘芳",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 302, _page(response)
    with app.app_context():
        assert (_user("liu").role, _user("liu").deputy_name) == ("deputy", "刘芳")
    assert "代表/委员（刘芳）" in _page(browser.get("/admin/users"))


# -- 我的建议 --------------------------------------------------------------------------------


def test_a_deputy_sees_the_proposals_they_lead_or_cosign_and_no_other(app, browser, scene):
    assert browser.login("zeng").status_code == 302
    home = browser.client.get("/", follow_redirects=True)
    page = _page(home)
    assert home.request.path == "/my/"
    assert TITLE in page and "关于增加社区心理咨询点的建议" in page
    assert "附议（领衔：李华）" in page
    assert "关于校园午餐配送的建议" not in page
    assert "广州市教育局" not in page or "市教育局（主办）" in page
    assert "市教育局（主办）" in page and "市卫生健康委（会办）" in page
    assert "2026年6月2日" in page  # the reply's due date

    detail = _page(browser.get(f"/my/proposals/{scene['mine']}"))
    assert "广州市教育局" in detail and "答复期限：2026年6月2日" in detail
    assert "2026年4月28日" in detail and "微信沟通办理思路" in detail
    # nothing internal: the extension's reason, the co-unit's opinion
    assert "需等待财政预算批复" not in detail and "内部会办意见" not in detail

    assert browser.get(f"/my/proposals/{scene['other']}").status_code == 404
    # and nothing of the staff's pages
    for url in ("/proposals", f"/proposals/{scene['mine']}", "/search?q=心理", "/commitments"):
        assert browser.get(url).status_code == 403, url


def test_the_deputy_reads_the_reply_sent_to_them_even_not_public_but_no_draft(app, browser, scene):
    with app.app_context():
        clerk = _user("clerk")
        draft = drafting.start_draft(
            clerk, db.session.get(Proposal, scene["mine"]), today=current.today()
        )
        draft_id = draft.id
        db.session.commit()
    browser.login("zeng")
    assert "还没有答复" in _page(browser.get(f"/my/proposals/{scene['mine']}"))
    assert browser.get(f"/my/letters/{draft_id}").status_code == 404

    _reply(browser, scene, disclosure="不予公开")
    with app.app_context():
        letter = db.session.execute(
            db.select(ReplyLetter).where(ReplyLetter.status == "issued")
        ).scalar_one()
        letter_id = letter.id
    browser.login("zeng")
    detail = _page(browser.get(f"/my/proposals/{scene['mine']}"))
    assert f"/my/letters/{letter_id}" in detail and "不予公开" in detail
    assert f"/my/letters/{draft_id}" not in detail
    letter_page = _page(browser.get(f"/my/letters/{letter_id}"))
    assert "全市中小学已配备专职心理教师" in letter_page and "穗教案〔2026〕119号" in letter_page
    # a co-signer reads it too; 王芳 would not
    with app.app_context():
        db.session.get(Proposal, scene["mine"]).co_signers = ["黄明"]
        db.session.commit()
    browser.login("admin")
    browser.post(
        "/admin/users/new",
        {
            "username": "huang",
            "role": "deputy",
            "unit_id": "0",
            "deputy_name": "黄明",
            "password": PASSWORD,
        },
    )
    browser.login("huang")
    assert browser.get(f"/my/letters/{letter_id}").status_code == 200


# -- contacts: confirmed or disputed -------------------------------------------------------


def test_a_disputed_contact_shows_to_the_unit_and_the_office_and_is_not_counted(
    app, browser, scene
):
    browser.login("zeng")
    url = f"/my/contacts/{scene['contact']}"
    prefix = f"c{scene['contact']}"
    browser.get(f"/my/proposals/{scene['mine']}")
    bare = browser.post(url, {f"{prefix}-status": "disputed", f"{prefix}-comment": ""})
    assert bare.status_code == 400 and "有异议时请写明情况" in _page(bare)
    done = browser.post(
        url, {f"{prefix}-status": "disputed", f"{prefix}-comment": "4月28日没有人联系我"}
    )
    assert done.status_code == 302
    with app.app_context():
        contact = db.session.get(ContactLog, scene["contact"])
        assert contact.deputy_status == "disputed"
        assert contact.deputy_comment == "4月28日没有人联系我"
    assert "您有异议" in _page(browser.get(f"/my/proposals/{scene['mine']}"))

    for staff in ("clerk", "duban"):
        browser.login(staff)
        page = _page(browser.get(f"/proposals/{scene['mine']}"))
        assert "代表有异议" in page and "4月28日没有人联系我" in page, staff

    # the sign-off checklist: no contact made before the reply
    with app.app_context():
        clerk = _user("clerk")
        letter = drafting.start_draft(
            clerk, db.session.get(Proposal, scene["mine"]), today=current.today()
        )
        check = next(
            c
            for c in drafting.checklist(letter, today=current.today()).checks
            if c.code == "contact"
        )
        assert not check.ok
        assert "有异议" in check.message
        db.session.rollback()


def test_a_confirmed_contact_counts_and_only_the_lead_deputy_answers(app, browser, scene):
    with app.app_context():
        zhao = User(username="zhao", role="deputy", deputy_name="赵敏", display_name="赵敏")
        zhao.set_password(PASSWORD)
        db.session.add(zhao)
        mine = db.session.get(Proposal, scene["mine"])
        mine.co_signers = ["赵敏"]
        db.session.commit()
    prefix = f"c{scene['contact']}"
    browser.login("zhao")
    page = _page(browser.get(f"/my/proposals/{scene['mine']}"))
    assert "沟通记录由领衔的曾志伟确认" in page
    refused = browser.post(f"/my/contacts/{scene['contact']}", {f"{prefix}-status": "confirmed"})
    assert refused.status_code == 403
    browser.login("zeng")
    browser.get(f"/my/proposals/{scene['mine']}")
    ok = browser.post(f"/my/contacts/{scene['contact']}", {f"{prefix}-status": "confirmed"})
    assert ok.status_code == 302
    with app.app_context():
        assert db.session.get(ContactLog, scene["contact"]).deputy_status == "confirmed"
        clerk = _user("clerk")
        letter = drafting.start_draft(
            clerk, db.session.get(Proposal, scene["mine"]), today=current.today()
        )
        checks = drafting.checklist(letter, today=current.today())
        assert next(c for c in checks.checks if c.code == "contact").ok
        db.session.rollback()


# -- the reply goes out: the deputy is told -------------------------------------------------


def test_a_reply_sent_tells_the_deputy_in_app_then_by_sms_and_email(
    app,
    browser,
    scene,
    channels,  # noqa: F811
):
    smtp, sms = channels
    _reply(browser, scene)
    with app.app_context():
        zeng = _user("zeng")
        notes = (
            db.session.execute(db.select(Notification).where(Notification.user_id == zeng.id))
            .scalars()
            .all()
        )
        assert [n.url for n in notes] == [f"/my/proposals/{scene['mine']}/rate"]
        assert "广州市教育局已答复您的" in notes[0].text and "请查看答复并在线评价" in notes[0].text
    browser.login("zeng")
    assert "请查看答复并在线评价" in _page(browser.get("/notifications"))

    result = app.test_cli_runner().invoke(args=["remind", "--user", "zeng"])
    assert result.exit_code == 0, result.output
    assert "zeng: 1项（站内0，邮件1，短信1）" in result.output.splitlines()
    assert sms.calls[0]["json"]["phone"] == "13900139000"
    assert "第20222174号建议已答复，请评价" in sms.calls[0]["json"]["text"]
    assert sms.calls[0]["json"]["items"][0]["url"].endswith(f"/my/proposals/{scene['mine']}/rate")
    ((rcpt, mail),) = smtp.parsed()
    assert rcpt == ["zeng@rd.example.gov.cn"]


# -- the rating ----------------------------------------------------------------------------


def _rate(browser, scene, **fields):
    data = {
        "rating-attitude": "满意",
        "rating-satisfaction": "满意",
        "rating-contact_method": "微信",
        "rating-comment": "",
    }
    data.update({f"rating-{k}": v for k, v in fields.items()})
    return browser.post(f"/my/proposals/{scene['mine']}/rate", data)


def test_the_deputy_rates_the_reply_online(app, browser, scene):
    browser.login("zeng")
    assert "还没有答复，暂不能评价" in _page(browser.get(f"/my/proposals/{scene['mine']}/rate"))
    _reply(browser, scene)
    browser.login("zeng")
    home = _page(browser.get("/my/"))
    assert "待您评价" in home and f"/my/proposals/{scene['mine']}/rate" in home
    form = _page(browser.get(f"/my/proposals/{scene['mine']}/rate"))
    for text in ("对办理态度", "对办理结果", "承办单位与您联系的方式", "未与我联系", "基本满意"):
        assert text in form
    response = _rate(browser, scene, attitude="满意", satisfaction="基本满意")
    assert response.status_code == 302
    with app.app_context():
        (feedback,) = db.session.execute(db.select(Feedback)).scalars().all()
        assert (feedback.attitude, feedback.satisfaction, feedback.contact_method) == (
            "满意",
            "基本满意",
            "微信",
        )
        assert feedback.source == "online" and feedback.recorded_by.username == "zeng"
        assert feedback.rated_on == date(2026, 6, 15)
        assert db.session.get(Proposal, scene["mine"]).status == "closed"
    assert "您已评价：办理结果基本满意，办理态度满意" in _page(
        browser.get(f"/my/proposals/{scene['mine']}/rate")
    )
    again = _rate(browser, scene)
    assert again.status_code == 400
    browser.login("clerk")
    staff = _page(browser.get(f"/proposals/{scene['mine']}"))
    assert "代表在线评价" in staff and "联系方式：微信" in staff


def test_unsatisfied_needs_a_comment_and_opens_rehandling(app, browser, scene):
    _reply(browser, scene)
    browser.login("zeng")
    browser.get(f"/my/proposals/{scene['mine']}/rate")
    bare = _rate(browser, scene, satisfaction="不满意", attitude="基本满意")
    assert bare.status_code == 400 and "不满意时请写明您的意见" in _page(bare)
    with app.app_context():
        assert db.session.execute(db.select(Feedback)).first() is None
    done = _rate(browser, scene, satisfaction="不满意", attitude="基本满意", comment="措施不具体")
    assert done.status_code == 302
    with app.app_context():
        proposal = db.session.get(Proposal, scene["mine"])
        assert (proposal.status, proposal.round) == ("rehandling", 2)
        rounds = (
            db.session.execute(
                db.select(Assignment.round).where(
                    Assignment.proposal_id == proposal.id, Assignment.role == "lead"
                )
            )
            .scalars()
            .all()
        )
        assert rounds == [1, 2]
    assert "承办单位将重新办理" in _page(browser.get(f"/my/proposals/{scene['mine']}"))


def test_a_cosigner_reads_but_does_not_rate(app, browser, scene):
    with app.app_context():
        zhao = User(username="zhao", role="deputy", deputy_name="赵敏", display_name="赵敏")
        zhao.set_password(PASSWORD)
        db.session.add(zhao)
        db.session.get(Proposal, scene["mine"]).co_signers = ["赵敏"]
        db.session.commit()
    _reply(browser, scene)
    browser.login("zhao")
    assert "答复由领衔的曾志伟评价" in _page(browser.get(f"/my/proposals/{scene['mine']}/rate"))
    assert _rate(browser, scene).status_code == 403
    with app.app_context():
        assert db.session.execute(db.select(Feedback)).first() is None


def test_the_liaisons_paper_form_is_marked_proxy_with_who_entered_it(app, browser, scene):
    _reply(browser, scene)
    browser.login("liaison")
    form = _page(browser.get(f"/proposals/{scene['mine']}"))
    assert "登记代表评价（代填）" in form and "办理态度" in form
    response = browser.post(
        f"/proposals/{scene['mine']}/rating",
        {
            "rating-satisfaction": "满意",
            "rating-attitude": "基本满意",
            "rating-contact_method": "电话",
            "rating-rated_on": "2026-06-14",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        (feedback,) = db.session.execute(db.select(Feedback)).scalars().all()
        assert feedback.source == "proxy" and feedback.recorded_by.username == "liaison"
        assert (feedback.attitude, feedback.contact_method) == ("基本满意", "电话")
    page = _page(browser.get(f"/proposals/{scene['mine']}"))
    assert "代填" in page and "liaison录入" in page
    browser.login("zeng")
    assert "代填" in _page(browser.get(f"/my/proposals/{scene['mine']}"))


def test_a_deputy_has_no_api_token_and_a_token_of_theirs_is_refused(app, scene):
    from tracker.models import ApiToken
    from tracker.services import api_tokens
    from tracker.services.errors import PermissionDenied

    with app.app_context():
        zeng = _user("zeng")
        with pytest.raises(PermissionDenied):
            api_tokens.create(zeng, name="代表的令牌", last_day=None, today=date(2026, 6, 15))
        # a token made for the account some other way (before it became a deputy's, say)
        bearer = "trk_deadbeef_" + "x" * 43
        db.session.add(
            ApiToken(
                user_id=zeng.id,
                name="旧令牌",
                prefix="trk_deadbeef",
                token_hash=api_tokens.hash_token(bearer),
            )
        )
        db.session.commit()
    response = app.test_client().get(
        "/api/v1/proposals", headers={"Authorization": f"Bearer {bearer}"}
    )
    assert response.status_code == 403
    assert "代表/委员账号不能使用 API" in response.get_json()["detail"]
