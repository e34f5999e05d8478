"""`tracker import-letters` and `tracker parse-letter` on real Chinese letters."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

from test_parser import KEYS

from tracker.extensions import db
from tracker.models import Commitment, ContactLog, Proposal, ReplyLetter, Unit

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "corpus" / "000_983cdb5ab656f1f2.txt"
LETTERS = ROOT / "tests" / "letters"


def _letters(app):
    with app.app_context():
        return db.session.execute(db.select(ReplyLetter).order_by(ReplyLetter.id)).scalars().all()


def test_parse_letter_prints_json_lines_and_fails_on_a_non_letter(runner, tmp_path):
    bad = tmp_path / "news.txt"
    bad.write_text("今天天气晴朗，市民出行方便。", encoding="utf-8")
    result = runner.invoke(args=["parse-letter", str(SEED), str(bad)])
    assert result.exit_code == 1
    first, second = (json.loads(line) for line in result.output.strip().splitlines())
    assert set(first) == (KEYS - {"body"}) | {"file"}  # the documented keys
    assert first["proposal_number"] == "20222174"
    assert first["doc_number"] == "穗教案〔2022〕119号"
    assert first["letter_date"] == "2022-05-07"
    assert set(second) == {"file", "error"} and second["file"] == str(bad)


def test_parse_letter_reads_files_as_the_import_does(app, runner, tmp_path):
    """parse-letter takes the import's settings (its limit; LibreOffice for .doc, which
    it refused as not installed where the import converted the same file)."""
    from letterfiles import docx_bytes

    letter = tmp_path / "答复函.docx"
    letter.write_bytes(docx_bytes("20232048", 156) + b"\0" * 600_000)
    app.config["IMPORT_MAX_FILE_MB"] = 0.5
    result = runner.invoke(args=["parse-letter", str(letter)])
    assert json.loads(result.output)["error"] == "文件过大（0.6 MB，上限 0.5 MB）"


def test_import_seed_letter_creates_every_record(app, runner, tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    shutil.copy(SEED, folder / SEED.name)
    result = runner.invoke(args=["import-letters", str(folder)])
    assert result.exit_code == 0, result.output
    assert f"imported\t{SEED.name}" in result.output
    assert "1 files: 1 imported, 0 updated, 0 unchanged, 0 flagged, 0 failed" in result.output
    with app.app_context():
        letter = db.session.execute(db.select(ReplyLetter)).scalar_one()
        assert (letter.doc_number, letter.classification, letter.letter_on, letter.disclosure) == (
            "穗教案〔2022〕119号",
            "A",
            date(2022, 5, 7),
            "主动公开",
        )
        assert letter.cc == ["市府办公厅", "市人大选联工委", "市卫生健康委"]
        assert letter.unit.name == "广州市教育局" and letter.status == "imported"
        proposal = letter.proposal
        assert (proposal.number, proposal.session.name, proposal.lead_proposer) == (
            "20222174",
            "市十六届人大一次会议",
            "曾志伟",
        )
        assert proposal.title == "关于进一步加强广州市中小学生心理健康管理工作的建议"
        contacts = (
            db.session.execute(
                db.select(ContactLog).order_by(ContactLog.contacted_on, ContactLog.channel)
            )
            .scalars()
            .all()
        )
        assert [(c.contacted_on, c.channel) for c in contacts] == [
            (date(2022, 4, 28), "微信"),
            (date(2022, 4, 28), "电话"),
            (date(2022, 4, 29), "微信"),
            (date(2022, 4, 29), "电话"),
        ]
        commitments = db.session.execute(db.select(Commitment)).scalars().all()
        c_cert = [c for c in commitments if "持C证率达到80%" in c.text]
        assert c_cert and c_cert[0].due_on == date(2022, 12, 31) and c_cert[0].target == "80%"
        assert all(c.status == "candidate" for c in commitments)
        assert {u.name for u in db.session.execute(db.select(Unit)).scalars()} >= {
            "广州市教育局",
            "市卫生健康委",
        }


def test_import_is_idempotent_and_updates_a_changed_file(app, runner, tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    target = folder / SEED.name
    shutil.copy(SEED, target)
    first = runner.invoke(args=["import-letters", str(folder)])
    assert "1 files: 1 imported" in first.output
    with app.app_context():
        counts = [
            db.session.execute(db.select(db.func.count()).select_from(m)).scalar()
            for m in (ReplyLetter, Proposal, ContactLog, Commitment, Unit)
        ]
    assert counts[:2] == [1, 1] and all(counts)  # a letter, its proposal, contacts, …
    again = runner.invoke(args=["import-letters", str(folder)])
    assert "1 files: 0 imported, 0 updated, 1 unchanged" in again.output
    with app.app_context():
        assert counts == [
            db.session.execute(db.select(db.func.count()).select_from(m)).scalar()
            for m in (ReplyLetter, Proposal, ContactLog, Commitment, Unit)
        ]
    target.write_text(
        SEED.read_text(encoding="utf-8").replace("持C证率达到80%", "持C证率达到85%"),
        encoding="utf-8",
    )
    changed = runner.invoke(args=["import-letters", str(folder)])
    assert f"updated\t{SEED.name}" in changed.output
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(ReplyLetter.id))).scalar() == 1
        letter = db.session.execute(db.select(ReplyLetter)).scalar_one()
        assert "持C证率达到85%" in letter.body
        targets = [c.target for c in letter.commitments if "持C证率" in c.text]
        assert targets == ["85%"]


def test_a_bad_file_neither_stops_the_others_nor_leaves_rows(app, runner, tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    shutil.copy(SEED, folder / "a_seed.txt")
    (folder / "b_binary.txt").write_bytes(b"\x00\x01\x02binary")
    (folder / "c_news.txt").write_text("本报讯 昨日，市民政局召开会议。", encoding="utf-8")
    gb = folder / "d_gb18030.txt"
    gb.write_bytes(
        SEED.read_text(encoding="utf-8")
        .replace("20222174", "20222175")
        .replace("119号", "120号")
        .encode("gb18030")
    )
    result = runner.invoke(args=["import-letters", str(folder)])
    assert result.exit_code == 1  # some files failed
    assert "failed\tb_binary.txt" in result.output and "failed\tc_news.txt" in result.output
    assert "4 files: 2 imported, 0 updated, 0 unchanged, 0 flagged, 2 failed" in result.output
    assert [le.source_file for le in _letters(app)] == ["a_seed.txt", "d_gb18030.txt"]


def test_a_letter_without_number_is_flagged_searchable_and_reviewable(
    app, runner, browser, people, tmp_path
):
    text = SEED.read_text(encoding="utf-8")
    text = text.replace("关于市十六届人大一次会议第20222174号建议答复的函", "答复函")
    text = text.replace("(第20222174号)", "")
    path = tmp_path / "no_number.txt"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(args=["import-letters", str(path)])
    assert (
        "flagged\tno_number.txt\t[txt]\t会议届次：信中未写明，关联建议/提案需要；"
        "建议/提案编号：信中未写明，关联建议/提案需要"
    ) in result.output
    letter = _letters(app)[0]
    assert letter.needs_review and letter.proposal_id is None
    # still searchable
    search = runner.invoke(args=["search", "心理", "--json"])
    assert [json.loads(line)["source"] for line in search.output.strip().splitlines()] == [
        "no_number.txt"
    ]
    # a liaison completes it on the review page
    browser.login("liaison")
    page = browser.get("/letters/review").get_data(as_text=True)
    assert "no_number.txt" in page and "建议/提案编号：信中未写明" in page
    response = browser.post(
        f"/letters/{letter.id}/review",
        # typed in full width, as an input method gives it: the number 20222174
        {
            "session": "市十六届人大一次会议",
            "year": "2022",
            "kind": "建议",
            "number": "２０２２２１７４",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        letter = db.session.get(ReplyLetter, letter.id)
        assert not letter.needs_review and letter.proposal.number == "20222174"
        assert letter.proposal_number == "20222174"
    assert "没有待审核的答复函" in browser.get("/letters/review").get_data(as_text=True)
    browser.login("clerk")
    assert browser.get("/letters/review").status_code == 403


def test_import_attaches_text_to_a_reply_recorded_in_the_tracker(app, runner):
    runner.invoke(args=["init-db"])
    runner.invoke(args=["demo-data"])  # records 穗教案〔2022〕119号 and imports corpus/
    with app.app_context():
        letters = (
            db.session.execute(
                db.select(ReplyLetter).where(ReplyLetter.doc_number == "穗教案〔2022〕119号")
            )
            .scalars()
            .all()
        )
        assert len(letters) == 1
        assert letters[0].source_file == SEED.name and "心理危机防控" in letters[0].body
        assert letters[0].proposal.lead_proposer == "曾志伟"
        # the web page it came from is its publication
        assert letters[0].status == "published"


def test_every_fixture_letter_imports(app, runner):
    result = runner.invoke(args=["import-letters", str(LETTERS)])
    assert "failed\t90_" in result.output  # the news article is not a letter
    lines = [line for line in result.output.splitlines() if line.startswith("failed")]
    assert len(lines) == 1, result.output


def test_an_imported_letter_without_disclosure_waits_for_a_decision(
    app, runner, browser, people, tmp_path
):
    path = tmp_path / "no_disclosure.txt"
    path.write_text(
        SEED.read_text(encoding="utf-8").replace("公开方式:主动公开", ""), encoding="utf-8"
    )
    assert runner.invoke(args=["import-letters", str(path)]).exit_code == 0
    letter_id = _letters(app)[0].id
    assert browser.get(f"/public/letters/{letter_id}").status_code == 404
    assert "共找到 0 件答复" in browser.get("/public/?q=心理").get_data(as_text=True)
    browser.login("clerk")  # the issuing unit's clerk decides
    page = browser.get(f"/letters/{letter_id}").get_data(as_text=True)
    assert "确定公开方式" in page
    assert (
        browser.post(f"/letters/{letter_id}/disclosure", {"disclosure": "主动公开"}).status_code
        == 302
    )
    browser.logout()
    assert browser.get(f"/public/letters/{letter_id}").status_code == 200
    assert "共找到 1 件答复" in browser.get("/public/?q=心理").get_data(as_text=True)


def test_the_review_page_says_which_field_and_takes_the_correction(
    app, runner, browser, people, tmp_path
):
    """A letter whose session is printed but damaged, and whose date lost its separators
    so that it reads two ways, is flagged for exactly those; the reviewer supplies them."""
    path = tmp_path / "damaged.txt"
    path.write_text(
        "对县届人大次会议第17号建议的答复\n"
        "周华代表：\n"
        "您提出的《关于修缮青石桥的建议》收悉，现答复如下：\n"
        "青石桥维修已列入今年农村公路养护计划，我局将于汛期前完成桥面修补。\n"
        "桃源县交通运输局\n"
        "2021111\n"
        "联系人：李平，联系电话：6531809\n",
        encoding="utf-8",
    )
    result = runner.invoke(args=["import-letters", str(path)])
    assert (
        "flagged\tdamaged.txt\t[txt]\t成文日期：信中印有，未能识别；会议届次：信中印有，未能识别"
        in (result.output)
    )
    (letter,) = _letters(app)
    assert letter.letter_on is None and letter.proposal_number == "17"
    browser.login("liaison")
    page = browser.get(f"/letters/{letter.id}/review").get_data(as_text=True)
    assert "<li>成文日期：信中印有，未能识别</li>" in page
    assert "<li>会议届次：信中印有，未能识别</li>" in page
    assert 'value="李平"' in page  # what was read is prefilled
    # a date in the future is refused with a message; nothing is saved
    response = browser.post(
        f"/letters/{letter.id}/review",
        {"session": "县十八届人大三次会议", "year": "2021", "kind": "建议", "number": "17",
         "letter_on": "2099-01-01", "classification": "", "disclosure": ""},
    )  # fmt: skip
    assert response.status_code == 400
    assert "晚于今天" in response.get_data(as_text=True)
    response = browser.post(
        f"/letters/{letter.id}/review",
        {"session": "县十八届人大三次会议", "year": "2021", "kind": "建议", "number": "17",
         "letter_on": "2021-11-01", "classification": "B", "disclosure": "主动公开",
         "contact_person": "", "contact_phone": ""},
    )  # fmt: skip
    assert response.status_code == 302
    with app.app_context():
        letter = db.session.get(ReplyLetter, letter.id)
        assert letter.letter_on == date(2021, 11, 1)
        assert (letter.classification, letter.disclosure) == ("B", "主动公开")
        assert letter.contact_person == "李平"  # left empty: kept
        assert not letter.needs_review and letter.proposal.session.name == "县十八届人大三次会议"


def test_two_members_of_one_name_in_two_folders_are_two_letters(app, runner, tmp_path):
    """An archive of a province's replies names each unit's letter 答复函.docx in the unit's
    folder: each is a letter of its own (the second replaced the first, and each import
    after swapped them back), and importing the archive again changes nothing."""
    from letterfiles import docx_bytes, zip_bytes

    archive = tmp_path / "汇编.zip"
    archive.write_bytes(
        zip_bytes(
            {
                "教育局/答复函.docx": docx_bytes("20232048", 156),
                "交通局/答复函.docx": docx_bytes("20232049", 157),
            }
        )
    )
    first = runner.invoke(args=["import-letters", str(archive)])
    assert "2 files: 2 imported, 0 updated, 0 unchanged, 0 flagged, 0 failed" in first.output
    again = runner.invoke(args=["import-letters", str(archive)])
    assert "2 files: 0 imported, 0 updated, 2 unchanged, 0 flagged, 0 failed" in again.output
    assert {(le.source_file, le.proposal_number) for le in _letters(app)} == {
        ("教育局/答复函.docx", "20232048"),
        ("交通局/答复函.docx", "20232049"),
    }


def test_a_member_imported_under_its_own_name_keeps_its_letter(app, runner, tmp_path):
    """A letter known by the member's own name (members were, before their paths; or the
    file imported by itself) is the member's when it holds the same bytes; other bytes
    under that name are another letter, left as they are."""
    from letterfiles import docx_bytes, zip_bytes

    education, transport = docx_bytes("20232048", 156), docx_bytes("20232049", 157)
    alone = tmp_path / "单独" / "答复函.docx"
    alone.parent.mkdir()
    alone.write_bytes(transport)
    runner.invoke(args=["import-letters", str(alone)])
    (kept,) = _letters(app)
    archive = tmp_path / "汇编.zip"
    archive.write_bytes(
        zip_bytes({"教育局/答复函.docx": education, "交通局/答复函.docx": transport})
    )
    for _ in range(2):
        result = runner.invoke(args=["import-letters", str(archive)])
        assert "unchanged\t汇编.zip/交通局/答复函.docx\t[docx]" in result.output.splitlines()
    assert "2 files: 0 imported, 0 updated, 2 unchanged" in result.output
    assert [(le.source_file, le.proposal_number) for le in _letters(app)] == [
        ("答复函.docx", "20232049"),
        ("教育局/答复函.docx", "20232048"),
    ]
    assert _letters(app)[0].id == kept.id


def test_import_reads_every_format_and_names_it_in_the_report(app, runner, tmp_path):
    from letterfiles import (
        docx_bytes,
        html_bytes,
        letter_text,
        pdf_bytes,
        scanned_pdf_bytes,
        zip_bytes,
    )

    app.config["SOFFICE"] = ""  # as on a server without LibreOffice
    folder = tmp_path / "答复函"
    folder.mkdir()
    (folder / "交通局.docx").write_bytes(docx_bytes("20232048", 156))
    (folder / "交通局.pdf").write_bytes(pdf_bytes("20232049", 157))
    (folder / "网页.html").write_bytes(html_bytes("20232050", 158))
    (folder / "扫描件.pdf").write_bytes(scanned_pdf_bytes())
    (folder / "旧格式.doc").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)
    (folder / "汇编.zip").write_bytes(
        zip_bytes(
            {
                "2023年/答复一.txt": letter_text("20232051", 159).encode("gb18030"),
                "2023年/答复二.htm": html_bytes("20232052", 160, encoding="utf-8"),
            },
            gbk_names=True,
        )
    )
    sheet = tmp_path / "统计表.xlsx"
    sheet.write_bytes(b"PK\x03\x04")
    result = runner.invoke(args=["import-letters", str(folder), str(sheet)])
    assert result.exit_code == 1, result.output  # some files failed
    lines = result.output.splitlines()
    for expected in (
        "imported\t交通局.docx\t[docx]",
        "imported\t交通局.pdf\t[pdf]",
        "imported\t网页.html\t[html]",
        "imported\t汇编.zip/2023年/答复一.txt\t[txt]",
        "imported\t汇编.zip/2023年/答复二.htm\t[html]",
    ):
        assert expected in lines, result.output
    failed = {
        line.split("\t")[1]: line.split("\t")[2:] for line in lines if line.startswith("failed")
    }
    assert failed["扫描件.pdf"][0] == "[pdf]" and failed["扫描件.pdf"][1].startswith("扫描件 PDF")
    assert failed["旧格式.doc"][1].startswith("需要安装 LibreOffice 才能读取 .doc 文件")
    assert failed["统计表.xlsx"][1].startswith("不支持的文件类型（.xlsx）：")
    assert "8 files: 5 imported, 0 updated, 0 unchanged, 0 flagged, 3 failed" in result.output
    with app.app_context():
        letters = {le.source_file: le for le in _letters(app)}
        assert sorted(letters) == [
            "2023年/答复一.txt",  # an archive's member: its path inside the archive
            "2023年/答复二.htm",
            "交通局.docx",
            "交通局.pdf",
            "网页.html",
        ]
        assert {le.proposal_number for le in letters.values()} == {
            "20232048",
            "20232049",
            "20232050",
            "20232051",
            "20232052",
        }
        assert letters["交通局.docx"].doc_number == "穗交运函〔2023〕156号"
        assert letters["2023年/答复一.txt"].classification == "B"
        assert "脚本里的菜单" not in letters["网页.html"].body
    # the same files again: nothing changes, archive members included
    again = runner.invoke(args=["import-letters", str(folder), str(sheet)])
    assert "8 files: 0 imported, 0 updated, 5 unchanged, 0 flagged, 3 failed" in again.output
    assert "unchanged\t汇编.zip/2023年/答复一.txt\t[txt]" in again.output.splitlines()
    assert len(_letters(app)) == 5
