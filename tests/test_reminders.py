"""Reminders: what `tracker remind` finds for each user, its delivery in-app, by e-mail
(to a local SMTP sink) and by SMS webhook (to a local HTTP sink), never twice a day, and
the bell and its list in the browser."""

from __future__ import annotations

import email
import email.policy
import json
import re
import socket
import socketserver
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import TODAY, build_template, proposal_maker, standard_template

from tracker import current
from tracker.extensions import db
from tracker.models import (
    Assignment,
    Commitment,
    Notification,
    ReminderDelivery,
    ReplyLetter,
    User,
)
from tracker.services import digest, notifiers, reminders
from tracker.services import proposals as svc

TITLE = "关于进一步加强广州市中小学生心理健康管理工作的建议"
P1 = f"市十六届人大一次会议第20222174号建议《{TITLE}》"
BASE_URL = "http://tracker.jyj.example.gov.cn"


# -- local sinks ------------------------------------------------------------------------------


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: greeting, EHLO/HELO, MAIL, RCPT, DATA, QUIT."""

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode("ascii") + b"\r\n")

    def handle(self):
        self.reply("220 sink.test ESMTP")
        sender, recipients = None, []
        while line := self.rfile.readline():
            command = line.decode("utf-8", "replace").strip()
            verb = command[:4].upper()
            address = re.search(r"<([^>]*)>", command)
            if verb == "EHLO":
                self.wfile.write(b"250-sink.test\r\n250 8BITMIME\r\n")
            elif verb == "HELO" or verb in ("RSET", "NOOP"):
                self.reply("250 OK")
            elif verb == "MAIL":
                sender, recipients = address.group(1), []
                self.reply("250 OK")
            elif verb == "RCPT":
                recipients.append(address.group(1))
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                data = []
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                self.server.messages.append((sender, recipients, b"".join(data)))
                self.reply("250 OK: queued")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("502 Command not implemented")


class SMTPSink(socketserver.ThreadingTCPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _SMTPHandler)
        self.messages: list[tuple[str, list[str], bytes]] = []

    def parsed(self):
        return [
            (rcpt, email.message_from_bytes(raw, policy=email.policy.default))
            for _sender, rcpt, raw in self.messages
        ]


class _WebhookHandler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.calls.append(
            {"path": self.path, "headers": dict(self.headers), "json": json.loads(body)}
        )
        answer = b'{"ok": true}'
        self.send_response(self.server.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


class WebhookSink(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _WebhookHandler)
        self.calls: list[dict] = []
        self.status = 200


def _serve(server):
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    return thread


@pytest.fixture
def smtp_sink():
    server = SMTPSink()
    thread = _serve(server)
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def sms_sink():
    server = WebhookSink()
    thread = _serve(server)
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def channels(app, smtp_sink, sms_sink):
    """E-mail and SMS configured, pointing at the local sinks."""
    app.config.update(
        BASE_URL=BASE_URL,
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=smtp_sink.server_address[1],
        MAIL_FROM="建议提案办理系统 <noreply@jyj.example.gov.cn>",
        SMS_WEBHOOK_URL=f"http://127.0.0.1:{sms_sink.server_address[1]}/sms/send",
        SMS_WEBHOOK_TOKEN="gw-token-123",
    )
    return smtp_sink, sms_sink


# -- the world --------------------------------------------------------------------------------


def _user(name) -> User:
    return db.session.execute(db.select(User).filter_by(username=name)).scalar_one()


@pytest.fixture(scope="module")
def scene_template(tmp_path_factory, database_templates):
    return build_template(tmp_path_factory, database_templates["people"], _build_scene)


@pytest.fixture
def template(request, database_templates):
    """The tests that use the scene start from it, built once for the module."""
    if "scene" in request.fixturenames:
        return request.getfixturevalue("scene_template")
    return standard_template(request, database_templates)


@pytest.fixture
def scene(app, people, scene_template):
    return scene_template.data


def _build_scene(app) -> dict[str, int]:
    """On 15 June 2026, for 广州市教育局:
    - 20222174 (lead 教育局, co 卫健委), assigned 2 March, not signed for: the reply was due
      2 June (overdue), an extension is pending, the reply letter waits for sign-off;
    - 20222180 registered, not yet assigned;
    - an imported 2022 reply (grade B) with an overdue commitment, one due on 20 June, one
      due at the end of the year, a candidate waiting, a done one not reported back and a
      done one reported back; an imported grade-A reply with a done commitment; a draft
      letter with a candidate (not a reminder: drafts are not sent)."""
    make_proposal = proposal_maker(app)
    p1 = make_proposal("20222174", title=TITLE, assigned_on=date(2026, 3, 2))
    p2 = make_proposal("20222180", title="关于加快推进社区养老服务设施建设的建议", lead=None)
    with app.app_context():
        clerk = _user("clerk")
        clerk.email, clerk.phone = "zhang.min@jyj.example.gov.cn", "13800138000"
        _user("supervisor").email = "li.hua@jyj.example.gov.cn"
        edu = clerk.unit_id
        lead = db.session.execute(
            db.select(Assignment).filter_by(proposal_id=p1, role="lead")
        ).scalar_one()
        svc.request_extension(
            clerk, lead, requested_due_on=date(2026, 7, 31), reason="需会同规划部门现场调研"
        )
        submitted = ReplyLetter(
            status="submitted",
            proposal_id=p1,
            unit_id=edu,
            issuer="广州市教育局",
            title="广州市教育局关于市十六届人大一次会议第20222174号建议答复的函",
            body="曾志伟代表：……",
        )
        grade_b = ReplyLetter(
            status="imported",
            unit_id=edu,
            issuer="广州市教育局",
            classification="B",
            doc_number="穗教案〔2022〕119号",
            title="广州市教育局关于市十五届人大六次会议第20221038号建议答复的函",
            source_file="2022-119.txt",
        )
        grade_a = ReplyLetter(
            status="imported",
            unit_id=edu,
            issuer="广州市教育局",
            classification="A",
            doc_number="穗教案〔2022〕120号",
            title="广州市教育局关于市十五届人大六次会议第20221040号建议答复的函",
            source_file="2022-120.txt",
        )
        draft = ReplyLetter(status="draft", unit_id=edu, title="草稿")
        db.session.add_all([submitted, grade_b, grade_a, draft])
        db.session.flush()

        def promise(letter, text, status, due_on=None, **kw):
            c = Commitment(
                letter_id=letter.id, unit_id=edu, text=text, status=status, due_on=due_on, **kw
            )
            db.session.add(c)
            return c

        overdue = promise(
            grade_b,
            "2026年6月1日前完成全市中小学心理健康教育教师全员培训",
            "open",
            date(2026, 6, 1),
        )
        soon = promise(
            grade_b, "6月底前出台中小学心理健康教育工作指引", "in_progress", date(2026, 6, 20)
        )
        promise(
            grade_b, "年底前实现每所中小学至少配备1名专职心理健康教师", "open", date(2026, 12, 31)
        )
        promise(grade_b, "将心理健康教育纳入教师继续教育必修内容", "candidate")
        done = promise(
            grade_b, "建立学生心理危机防控工作联席会议制度", "done", done_on=date(2026, 5, 20)
        )
        promise(
            grade_b,
            "开通24小时心理援助热线",
            "done",
            done_on=date(2026, 4, 1),
            reported_back_on=date(2026, 4, 10),
        )
        promise(grade_a, "增设校园足球场地", "done", done_on=date(2026, 5, 1))
        promise(draft, "草稿中的承诺", "candidate")
        db.session.commit()
        return {
            "p1": p1,
            "p2": p2,
            "submitted": submitted.id,
            "grade_b": grade_b.id,
            "overdue": overdue.id,
            "soon": soon.id,
            "done": done.id,
        }


def _collect(username, day):
    return reminders.collect(
        _user(username), day, soon_days=current.due_soon_days(), link=current.site_path
    )


def _texts(app, username, day=TODAY):
    with app.app_context():
        return [item.text for item in _collect(username, day)]


def _items(app, username, day=TODAY):
    with app.app_context():
        return _collect(username, day)


# -- what is due for whom ---------------------------------------------------------------------


def test_a_clerk_is_reminded_of_sign_for_replies_and_commitments_overdue_first(app, scene):
    items = _items(app, "clerk")
    assert [i.text for i in items] == [
        "【承诺逾期】承诺事项“2026年6月1日前完成全市中小学心理健康教育教师全员培训”"
        "已逾期14天（期限2026年6月1日；答复函穗教案〔2022〕119号）",
        f"【逾期】{P1}答复已逾期13天（期限2026年6月2日，延期申请待审批）",
        f"【待签收】{P1}已交办贵单位主办，请及时签收",
        "【承诺即将到期】承诺事项“6月底前出台中小学心理健康教育工作指引”"
        "还剩5天到期（期限2026年6月20日；答复函穗教案〔2022〕119号）",
        "【待确认承诺】答复函穗教案〔2022〕119号"
        "《广州市教育局关于市十五届人大六次会议第20221038号建议答复的函》中有1项承诺事项待确认",
        "【待反馈】承诺事项“建立学生心理危机防控工作联席会议制度”"
        "已完成，请向代表反馈落实情况（答复函穗教案〔2022〕119号）",
    ]
    assert [i.key for i in items] == [
        f"commitment:{scene['overdue']}:overdue",
        f"assignment:{_lead_id(app, scene['p1'])}:overdue",
        f"assignment:{_lead_id(app, scene['p1'])}:sign",
        f"commitment:{scene['soon']}:due",
        f"letter:{scene['grade_b']}:candidates",
        f"commitment:{scene['done']}:report",
    ]
    assert items[0].url == f"/commitments/{scene['overdue']}"
    assert items[1].url == f"/proposals/{scene['p1']}"
    assert items[4].url == f"/letters/{scene['grade_b']}/commitments"
    # no approvals for a clerk; nothing for the draft's candidate or the grade-A reply
    assert not any("待签发" in i.text or "草稿" in i.text or "足球" in i.text for i in items)


def test_many_letters_with_candidates_make_one_line_for_the_rest(app, scene):
    """An imported corpus leaves many letters to review: three are named, one line counts
    the rest, so the digest stays readable."""
    with app.app_context():
        edu = _user("clerk").unit_id
        for n in range(5):
            letter = ReplyLetter(
                status="imported",
                unit_id=edu,
                issuer="广州市教育局",
                classification="A",
                doc_number=f"穗教案〔2021〕{n + 1}号",
                letter_on=date(2021, 5, n + 1),
                title=f"答复函{n}",
                source_file=f"2021-{n}.txt",
            )
            db.session.add(letter)
            db.session.flush()
            for k in range(2):
                db.session.add(
                    Commitment(
                        letter_id=letter.id, unit_id=edu, text=f"承诺{n}-{k}", status="candidate"
                    )
                )
        db.session.commit()
    items = [i for i in _items(app, "clerk") if i.kind == "candidates"]
    assert len(items) == 4
    assert items[-1].text == "【待确认承诺】另有3份答复函共5项承诺事项待确认"
    assert items[-1].url == "/commitments?status=candidate"


def _lead_id(app, proposal_id):
    with app.app_context():
        return db.session.execute(
            db.select(Assignment.id).filter_by(proposal_id=proposal_id, role="lead")
        ).scalar_one()


def test_a_supervisor_also_sees_the_letter_to_sign_off_and_the_extension(app, scene):
    items = _items(app, "supervisor")
    approve = next(i for i in items if i.kind == "approve")
    assert approve.text == (
        f"【待签发】{P1}的答复函已提交，请审核签发（答复期限2026年6月2日，已逾期13天）"
    )
    assert approve.url == f"/letters/{scene['submitted']}/edit"
    assert approve.key == f"letter:{scene['submitted']}:approve"
    texts = [i.text for i in items]
    assert f"【待审批延期】广州市教育局申请将{P1}的答复期限由2026年6月2日延至2026年7月31日" in texts
    assert len(items) == 8  # the clerk's six, the letter to sign off, the extension


def test_the_coordinating_office_co_unit_and_others(app, scene):
    assert _texts(app, "duban") == [
        f"【待审批延期】广州市教育局申请将{P1}的答复期限由2026年6月2日延至2026年7月31日",
        "【待交办】市十六届人大一次会议第20222180号建议《关于加快推进社区养老服务设施建设的建议》"
        "已登记，请交办承办单位",
    ]
    assert _texts(app, "clerk-health") == [
        f"【逾期】{P1}会办意见已逾期74天（期限2026年4月2日）",
        f"【待签收】{P1}已交办贵单位会办，请及时签收",
    ]
    assert _texts(app, "admin") == [
        "【待交办】市十六届人大一次会议第20222180号建议《关于加快推进社区养老服务设施建设的建议》"
        "已登记，请交办承办单位"
    ]
    assert _texts(app, "liaison") == []
    assert _texts(app, "clerk-civil") == []


def test_due_soon_starts_seven_days_ahead(app, scene):
    # on 25 May the reply (due 2 June) is 8 days away: not yet; on 26 May it is 7 days away
    assert not any(t.startswith("【即将到期】") for t in _texts(app, "clerk", date(2026, 5, 25)))
    assert f"【即将到期】{P1}答复还剩7天到期（期限2026年6月2日，延期申请待审批）" in _texts(
        app, "clerk", date(2026, 5, 26)
    )


def test_links_follow_the_path_of_base_url(app, scene):
    app.config["BASE_URL"] = "https://rd.example.gov.cn/jianyi/"
    items = _items(app, "clerk")
    assert items[1].url == f"/jianyi/proposals/{scene['p1']}"
    assert digest.absolute(app.config["BASE_URL"], items[1].url) == (
        f"https://rd.example.gov.cn/jianyi/proposals/{scene['p1']}"
    )


def test_sms_text_stays_short(app, scene):
    items = _items(app, "supervisor") * 10
    text = digest.sms_text(items)
    assert len(text) <= 200
    assert text.startswith("【建议提案办理】您有80项待办，其中逾期30项：")
    assert text.endswith("…。请登录系统办理。")


# -- tracker remind ---------------------------------------------------------------------------


def _remind(app, *args):
    return app.test_cli_runner().invoke(args=["remind", *args])


def _counts(app):
    with app.app_context():
        return (
            db.session.execute(db.select(db.func.count(Notification.id))).scalar_one(),
            db.session.execute(db.select(db.func.count(ReminderDelivery.id))).scalar_one(),
        )


def test_remind_sends_each_channel_once_a_day(app, scene, channels):
    smtp, sms = channels
    result = _remind(app)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "clerk: 6项（站内6，邮件6，短信6）" in lines
    assert "supervisor: 8项（站内8，邮件8，短信—）" in lines
    assert "clerk-health: 2项（站内2，邮件—，短信—）" in lines
    assert "合计：5位用户，19项（站内19，邮件14，短信6）" in lines

    # one digest e-mail per user with an address, in Chinese, with absolute links
    mails = {rcpt[0]: msg for rcpt, msg in smtp.parsed()}
    assert sorted(mails) == ["li.hua@jyj.example.gov.cn", "zhang.min@jyj.example.gov.cn"]
    mail = mails["zhang.min@jyj.example.gov.cn"]
    assert mail["Subject"] == "建议提案办理提醒：6项（2026年6月15日）"
    assert mail["To"].addresses[0].display_name == "clerk"
    assert "noreply@jyj.example.gov.cn" in mail["From"]
    body = mail.get_body().get_content()
    assert "截至2026年6月15日，以下6项建议提案办理事项需要您处理（其中逾期2项）：" in body
    assert f"2. 【逾期】{P1}答复已逾期13天（期限2026年6月2日，延期申请待审批）" in body
    assert f"   {BASE_URL}/proposals/{scene['p1']}" in body
    assert f"{BASE_URL}/letters/{scene['grade_b']}/commitments" in body
    assert f"登录系统查看全部待办：{BASE_URL}/todo" in body

    # the SMS gateway gets the clerk's phone, a short text and the items
    assert len(sms.calls) == 1
    call = sms.calls[0]
    assert call["path"] == "/sms/send"
    assert call["headers"]["Authorization"] == "Bearer gw-token-123"
    payload = call["json"]
    assert payload["phone"] == "13800138000"
    assert payload["count"] == 6
    assert payload["text"].startswith(
        "【建议提案办理】您有6项待办，其中逾期2项：承诺事项逾期14天；"
    )
    assert len(payload["text"]) <= 200
    assert payload["items"][1]["url"] == f"{BASE_URL}/proposals/{scene['p1']}"
    assert payload["items"][1]["due_on"] == "2026-06-02"

    notifications, deliveries = _counts(app)
    assert (notifications, deliveries) == (19, 19 + 14 + 6)

    # the same day again: nothing new on any channel
    again = _remind(app)
    assert again.exit_code == 0, again.output
    assert "clerk: 6项（站内0，邮件0，短信0）" in again.output.splitlines()
    assert len(smtp.messages) == 2 and len(sms.calls) == 1
    assert _counts(app) == (19, 39)

    # the next day: reminded again
    next_day = _remind(app, "--date", "2026-06-16", "--user", "clerk")
    assert next_day.exit_code == 0, next_day.output
    assert next_day.output.splitlines() == [
        "clerk: 6项（站内6，邮件6，短信6）",
        "合计：1位用户，6项（站内6，邮件6，短信6）",
    ]
    assert len(smtp.messages) == 3 and len(sms.calls) == 2
    subject = smtp.parsed()[-1][1]["Subject"]
    assert subject == "建议提案办理提醒：6项（2026年6月16日）"
    with app.app_context():
        clerk = _user("clerk")
        # the bell counts what is current: yesterday's unread lines gave way to today's
        assert notifiers.count_unread(clerk.id) == 6
        texts = db.session.execute(
            db.select(Notification.text).where(
                Notification.user_id == clerk.id, Notification.read_at.is_(None)
            )
        ).scalars()
        assert f"【逾期】{P1}答复已逾期14天（期限2026年6月2日，延期申请待审批）" in set(texts)


def test_dry_run_prints_the_digest_and_writes_nothing(app, scene, channels):
    smtp, sms = channels
    result = _remind(app, "--dry-run", "--user", "clerk")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "试运行（2026-06-15）：只显示提醒内容，不发送，不记录。" in out
    assert "clerk: 6项（站内6，邮件6，短信6）" in out
    assert f"  【逾期】{P1}答复已逾期13天（期限2026年6月2日，延期申请待审批）" in out
    assert f"    {BASE_URL}/proposals/{scene['p1']}" in out
    assert "，试运行未发送" in out
    assert _counts(app) == (0, 0)
    assert smtp.messages == [] and sms.calls == []


def test_a_failing_mail_server_is_reported_and_retried(app, scene, smtp_sink):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=_closed_port(), BASE_URL=BASE_URL)
    result = _remind(app, "--user", "clerk")
    assert result.exit_code == 1
    assert "clerk: 6项（站内6，邮件0）" in result.output
    assert "错误：邮件发送失败（127.0.0.1:" in result.output
    with app.app_context():
        channels = db.session.execute(db.select(ReminderDelivery.channel)).scalars().all()
        assert channels == ["inapp"] * 6  # the e-mail is not recorded as sent
        assert notifiers.count_unread(_user("clerk").id) == 6

    # the mail server is back: the next run sends the e-mail, and only the e-mail
    app.config["SMTP_PORT"] = smtp_sink.server_address[1]
    retry = _remind(app, "--user", "clerk")
    assert retry.exit_code == 0, retry.output
    assert "clerk: 6项（站内0，邮件6）" in retry.output
    assert len(smtp_sink.messages) == 1
    assert _counts(app) == (6, 12)


def test_a_failing_sms_gateway_does_not_stop_the_email(app, scene, channels):
    smtp, sms = channels
    sms.status = 500
    result = _remind(app, "--user", "clerk")
    assert result.exit_code == 1
    assert "clerk: 6项（站内6，邮件6，短信0）" in result.output
    assert "错误：短信网关调用失败（13800138000）：HTTP 500" in result.output
    assert len(smtp.messages) == 1
    with app.app_context():
        sent = db.session.execute(db.select(ReminderDelivery.channel)).scalars().all()
        assert sorted(set(sent)) == ["email", "inapp"]


def test_remind_an_unknown_user(app, scene):
    result = _remind(app, "--user", "nobody")
    assert result.exit_code == 1
    assert "找不到用户 nobody" in result.output


# -- the bell and the list --------------------------------------------------------------------


def _page(response) -> str:
    return response.get_data(as_text=True)


def test_the_bell_counts_and_the_list_shows_the_reminders(app, browser, scene):
    assert _remind(app).exit_code == 0
    browser.login("clerk")
    todo = _page(browser.get("/todo"))
    assert 'aria-label="提醒：6条未读"' in todo
    assert '<span class="count">6</span>' in todo

    page = _page(browser.get("/notifications"))
    assert "6条未读" in page
    assert f"【逾期】{P1}答复已逾期13天（期限2026年6月2日，延期申请待审批）" in page
    assert "【待确认承诺】答复函穗教案〔2022〕119号" in page
    assert "tracker remind" in page
    assert page.count('<span class="badge warn">未读</span>') == 6
    # the digest's order: the overdue commitment first, the report-back owed last
    assert page.index("【承诺逾期】") < page.index("【逾期】") < page.index("【待反馈】")

    with app.app_context():
        n = db.session.execute(
            db.select(Notification).where(
                Notification.user_id == _user("clerk").id,
                Notification.key.like("assignment:%:overdue:%"),
            )
        ).scalar_one()
        nid, url = n.id, n.url
    assert url == f"/proposals/{scene['p1']}"
    opened = browser.get(f"/notifications/{nid}/open")
    assert opened.status_code == 302
    assert opened.location == url
    assert 'aria-label="提醒：5条未读"' in _page(browser.get("/todo"))
    page = _page(browser.get("/notifications"))
    assert page.count('<span class="badge warn">未读</span>') == 5
    assert '<span class="badge muted">已读</span>' in page
    # unread first: the line just read comes last
    assert page.rindex("已读</span>") > page.rindex("未读</span>")


def test_another_users_notification_is_not_found(app, browser, scene):
    assert _remind(app).exit_code == 0
    with app.app_context():
        theirs = (
            db.session.execute(
                db.select(Notification.id).where(Notification.user_id == _user("supervisor").id)
            )
            .scalars()
            .first()
        )
    browser.login("clerk")
    assert browser.get(f"/notifications/{theirs}/open").status_code == 404
    with app.app_context():
        assert db.session.get(Notification, theirs).read_at is None


def test_open_never_leaves_the_site(app, browser, people):
    with app.app_context():
        clerk = _user("clerk")
        rows = [
            Notification(user_id=clerk.id, key=f"test:{n}:2026-06-15", text=f"提醒{n}", url=url)
            for n, url in enumerate(
                ["//evil.example/x", "https://evil.example/", "/\\evil.example", None]
            )
        ]
        db.session.add_all(rows)
        db.session.commit()
        ids = [n.id for n in rows]
    browser.login("clerk")
    for nid in ids:
        response = browser.get(f"/notifications/{nid}/open")
        assert response.status_code == 302
        assert response.location == "/notifications"


def test_read_all_needs_the_csrf_token(app, browser, scene):
    assert _remind(app).exit_code == 0
    browser.login("clerk")
    browser.get("/notifications")
    refused = browser.post("/notifications/read-all", csrf=False)
    assert refused.status_code == 400
    assert "安全令牌" in _page(refused)
    with app.app_context():
        assert notifiers.count_unread(_user("clerk").id) == 6

    done = browser.post("/notifications/read-all")
    assert done.status_code == 302 and done.location == "/notifications"
    page = _page(browser.get("/notifications"))
    assert "已将6条提醒标为已读。" in page
    assert "未读</span>" not in page and "全部标为已读" not in page
    assert 'aria-label="提醒：0条未读"' in page
    with app.app_context():
        assert notifiers.count_unread(_user("clerk").id) == 0
        # the supervisor's reminders are untouched
        assert notifiers.count_unread(_user("supervisor").id) == 8


def test_no_reminders_yet(app, browser, people):
    browser.login("clerk-civil")
    page = _page(browser.get("/notifications"))
    assert "暂无提醒" in page
    assert 'aria-label="提醒：0条未读"' in page
    assert browser.get("/notifications?page=9").status_code == 200


def test_a_notifier_writes_its_digest_from_what_it_is_given():
    """No app, no request: the e-mail's links come from the items and the todo link the
    notifier was built with, not from the routes of whoever calls it."""
    notifier = notifiers.EmailNotifier(
        host="mail.example.gov.cn",
        base_url="https://rd.example.gov.cn/jianyi/",
        todo_path="/jianyi/todo",
    )
    user = notifiers.Recipient(1, "clerk", "张三", "clerk@example.gov.cn", None)
    item = digest.Item("assignment:1:sign", "sign", "【待签收】第1号建议", "/jianyi/proposals/1")
    body = notifier.body(user, [item], date(2026, 6, 15))
    assert body.splitlines()[:6] == [
        "张三，您好：",
        "",
        "截至2026年6月15日，以下1项建议提案办理事项需要您处理：",
        "",
        "1. 【待签收】第1号建议",
        "   https://rd.example.gov.cn/jianyi/proposals/1",
    ]
    assert "登录系统查看全部待办：https://rd.example.gov.cn/jianyi/todo" in body
