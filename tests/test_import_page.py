"""The 导入答复函 page, through the test client with CSRF on: upload, progress, report."""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta

import pytest
from letterfiles import docx_bytes, html_bytes, letter_text, scanned_pdf_bytes, zip_bytes
from sqlalchemy import select, update

from tracker import runner as job_runner
from tracker.extensions import db
from tracker.letters import reading
from tracker.models import Job, ReplyLetter, utcnow
from tracker.services import imports


def files(**named: bytes) -> list:
    return [(io.BytesIO(data), name) for name, data in named.items()]


def upload(browser, named: dict[str, bytes]):
    browser.get("/imports")
    return browser.post("/imports", {"files": files(**named)}, content_type="multipart/form-data")


def run_jobs(app) -> int:
    with app.app_context():
        return job_runner.run_pending(app)


def job_ids(app) -> list[int]:
    with app.app_context():
        return db.session.execute(select(Job.id).order_by(Job.id)).scalars().all()


def page_text(response) -> str:
    return response.get_data(as_text=True)


def rows(html: str) -> list[list[str]]:
    """The report table's rows as the user reads them: cell texts."""
    table = html.split('<table class="table import-report">', 1)[1].split("</table>", 1)[0]
    found = []
    for row in re.findall(r"<tr class=\"outcome-\w+\">(.*?)</tr>", table, re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        found.append([" ".join(re.sub(r"<[^>]+>", "", c).split()) for c in cells])
    return found


@pytest.mark.parametrize(
    ("role", "shown"),
    [("liaison", True), ("admin", True), ("duban", True), ("supervisor", False), ("clerk", False)],
)
def test_the_page_is_in_the_navigation_of_those_who_may_import(browser, people, role, shown):
    browser.login(role)
    page = page_text(browser.get("/todo"))
    assert ('href="/imports"' in page) is shown
    assert browser.get("/imports").status_code == (200 if shown else 403)


def test_uploaded_files_are_imported_in_the_background_and_reported_per_file(app, browser, people):
    no_number = (
        letter_text("20232060", 170)
        .replace("关于市十六届人大二次会议第20232060号建议答复的函", "关于公交线网的答复函")
        .replace("（第20232060号）", "")
    )
    letter_docx = docx_bytes("20232048", 156)  # built once: a .docx records when it was saved
    browser.login("liaison")
    form = page_text(browser.get("/imports"))
    assert 'enctype="multipart/form-data"' in form and 'type="file"' in form and "multiple" in form
    assert 'accept=".txt,.text,.docx,.pdf,.html,.htm,.doc,.wps,.zip"' in form
    response = upload(
        browser,
        {
            "交通局.docx": letter_docx,
            "汇编.zip": zip_bytes(
                {
                    "2023年/答复一.txt": letter_text("20232051", 159).encode("gb18030"),
                    "2023年/答复二.htm": html_bytes("20232052", 160),
                },
                gbk_names=True,
            ),
            "扫描件.pdf": scanned_pdf_bytes(),
            "待补全.txt": no_number.encode("utf-8"),
            "损坏.docx": b"PK\x03\x04 broken",
        },
    )
    (job_id,) = job_ids(app)
    assert response.status_code == 302 and response.location.endswith(f"/imports/{job_id}")

    # before a runner has started: the progress bar, refreshed without JavaScript
    waiting = page_text(browser.get(f"/imports/{job_id}"))
    assert '<progress max="5" value="0"' in waiting and "等待开始" in waiting
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in waiting
    assert "js/import-progress.js" in waiting
    status = json.loads(browser.get(f"/imports/{job_id}/status").get_data())
    assert (status["status"], status["done"], status["total"], status["finished"]) == (
        "queued",
        0,
        5,
        False,
    )

    assert run_jobs(app) == 1
    done = browser.get(f"/imports/{job_id}")
    html = page_text(done)
    assert "已完成" in html and 'http-equiv="refresh"' not in html
    assert '<progress max="6" value="6"' in html  # the archive held two letters
    with app.app_context():
        letters = {
            le.source_file: le.id for le in db.session.execute(select(ReplyLetter)).scalars()
        }
    report = rows(html)
    assert [r[:3] for r in report] == [
        ["交通局.docx", "docx", "已导入"],
        ["汇编.zip/2023年/答复一.txt", "txt", "已导入"],
        ["汇编.zip/2023年/答复二.htm", "html", "已导入"],
        ["扫描件.pdf", "pdf", "未导入"],
        ["待补全.txt", "txt", "待审核"],
        ["损坏.docx", "docx", "未导入"],
    ]
    assert report[3][3].startswith("扫描件 PDF：没有文字层")
    assert report[4][3].startswith("会议届次：信中未写明") and report[4][4] == "查看答复函 · 补全"
    assert report[5][3] == "Word 文档（.docx）已损坏，无法读取"
    assert f'href="/letters/{letters["2023年/答复一.txt"]}"' in html
    assert f'href="/letters/{letters["待补全.txt"]}/review"' in html
    assert "去补全待审核的答复函" in html
    # the filter shows one kind of result
    failed = rows(page_text(browser.get(f"/imports/{job_id}?status=failed")))
    assert [r[0] for r in failed] == ["扫描件.pdf", "损坏.docx"]
    # the letter it links to is there to read
    assert "广州市交通运输局" in page_text(browser.get(f"/letters/{letters['交通局.docx']}"))
    # and the list of imports sums it up
    listing = page_text(browser.get("/imports"))
    assert "交通局.docx、汇编.zip、扫描件.pdf 等 5 个" in listing
    assert "已导入 3 · 待审核 1 · 未导入 2" in listing
    # the same files again: nothing changes; the letter still to complete says so
    upload(browser, {"交通局.docx": letter_docx, "待补全.txt": no_number.encode()})
    assert run_jobs(app) == 1
    again = page_text(browser.get(f"/imports/{job_ids(app)[-1]}"))
    assert rows(again) == [
        ["交通局.docx", "docx", "未变化", "", "查看答复函"],
        [
            "待补全.txt",
            "txt",
            "未变化",
            "仍待审核：" + report[4][3],
            "查看答复函 · 补全",
        ],
    ]


def test_the_page_shows_the_progress_of_a_running_import(app, browser, people, monkeypatch):
    monkeypatch.setattr(imports, "CHUNK_ITEMS", 2)
    browser.login("liaison")
    archive = zip_bytes(
        {f"答复/{n}.txt": letter_text(str(20232100 + n), 200 + n).encode() for n in range(5)}
    )
    upload(browser, {"汇编.zip": archive})
    (job_id,) = job_ids(app)
    read_and_parse = reading.read_and_parse

    class Stop(BaseException):
        pass

    def stop_at_the_third(source, *args):
        if source.label.endswith("/2.txt"):
            raise Stop()
        return read_and_parse(source, *args)

    monkeypatch.setattr(reading, "read_and_parse", stop_at_the_third)
    with pytest.raises(Stop):
        run_jobs(app)  # the runner is caught mid-job
    html = page_text(browser.get(f"/imports/{job_id}"))
    assert '<progress max="5" value="2"' in html and "正在导入" in html
    assert '已处理 <strong data-field="done">2</strong> / <span data-field="total">5</span>' in html
    assert [r[0] for r in rows(html)] == ["汇编.zip/答复/0.txt", "汇编.zip/答复/1.txt"]
    status = json.loads(browser.get(f"/imports/{job_id}/status").get_data())
    assert (status["status"], status["done"], status["total"], status["percent"]) == (
        "running",
        2,
        5,
        40,
    )
    assert status["counts"] == {"imported": 2}


def test_a_report_is_for_its_uploader_and_the_admin_only(app, browser, people):
    browser.login("duban")
    upload(browser, {"a.txt": letter_text().encode()})
    (job_id,) = job_ids(app)
    assert browser.get(f"/imports/{job_id}").status_code == 200
    browser.login("liaison")  # may import, but this is not their upload
    assert browser.get(f"/imports/{job_id}").status_code == 403
    assert browser.get(f"/imports/{job_id}/status").status_code == 403
    assert "a.txt" not in page_text(browser.get("/imports"))
    browser.login("admin")
    assert browser.get(f"/imports/{job_id}").status_code == 200
    assert "a.txt" in page_text(browser.get("/imports"))
    assert browser.get("/imports/999999").status_code == 404


def test_a_bad_upload_is_refused_with_a_message_and_creates_nothing(app, browser, people):
    browser.login("liaison")
    browser.get("/imports")
    no_token = browser.post(
        "/imports", {"files": files(a=b"x")}, csrf=False, content_type="multipart/form-data"
    )
    assert no_token.status_code == 400 and "安全令牌" in page_text(no_token)
    nothing = browser.post("/imports", {}, content_type="multipart/form-data")
    assert nothing.status_code == 400 and "请选择要导入的文件。" in page_text(nothing)
    app.config["IMPORT_MAX_FILES"] = 2
    too_many = upload(browser, {"a.txt": b"1", "b.txt": b"2", "c.txt": b"3"})
    assert too_many.status_code == 400
    assert "一次最多上传 2 个文件（本次 3 个）" in page_text(too_many)
    app.config["IMPORT_MAX_UPLOAD_MB"] = 0.01
    too_big = upload(browser, {"a.txt": b"x" * 20_000})
    assert too_big.status_code == 413 and "上传的文件合计超过 0.01 MB" in page_text(too_big)
    assert job_ids(app) == []


def test_a_job_waiting_for_a_runner_gets_one_started(app, browser, people, monkeypatch):
    started = []
    monkeypatch.setattr(job_runner, "spawn", lambda app: started.append(1) or True)
    app.config["JOB_SPAWN"] = True
    browser.login("liaison")
    upload(browser, {"a.txt": letter_text().encode()})
    (job_id,) = job_ids(app)
    assert started == [1]  # the upload started a runner
    browser.get(f"/imports/{job_id}")
    browser.get(f"/imports/{job_id}/status")
    assert started == [1]  # just started: not again on every look
    stale = app.config["JOB_STALE_SECONDS"] + 1
    with app.app_context():  # the runner died: it claimed the job and its heartbeat stopped
        long_ago = utcnow() - timedelta(seconds=stale)
        db.session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(status="running", runner="gone", heartbeat_at=long_ago, spawned_at=long_ago)
        )
        db.session.commit()
    browser.get(f"/imports/{job_id}")
    assert started == [1, 1]  # the page started another
    with app.app_context():  # a live runner: nothing to start
        db.session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(heartbeat_at=utcnow(), spawned_at=utcnow() - timedelta(seconds=stale))
        )
        db.session.commit()
    browser.get(f"/imports/{job_id}")
    assert started == [1, 1]
