"""The queries the list pages and audit tables show, as services: the proposal list, the
commitment list and an item's audit trail, read with the viewer's scope and the filters."""

from __future__ import annotations

import re
from datetime import date

import pytest

from tracker.extensions import db
from tracker.models import Assignment, Commitment, CongressSession, Proposal, Unit, User
from tracker.services import audit, proposals
from tracker.services import commitments as commitment_service

TODAY = date(2026, 6, 15)
BODY = (
    "曾志伟代表：\n\n您提出的建议收悉。现答复如下：\n\n"
    "一、目前工作推进情况\n\n我局建立了联席会议制度。\n\n"
    "二、下一步工作安排\n\n"
    "（一）今年底全市中小学专任教师持C证率达到80%。\n\n"
    "（二）力争2026年5月底前完成全市中小学心理辅导室建设。\n\n"
    "感谢您对教育工作的关心和支持。"
)


def _user(name: str) -> User:
    return db.session.execute(db.select(User).filter_by(username=name)).scalar_one()


def _numbers(query) -> list[str]:
    return [p.number for p in db.session.execute(query).scalars()]


@pytest.fixture
def three(make_proposal):
    """Education's overdue item, civil affairs' item due later, one not yet assigned."""
    make_proposal("1001", title="关于加强学生心理健康教育的建议", assigned_on=date(2026, 3, 2))
    make_proposal(
        "1002",
        title="关于养老服务设施建设的建议",
        lead="广州市民政局",
        co=(),
        assigned_on=date(2026, 6, 1),
    )
    make_proposal("1003", title="关于学生体育锻炼的建议", lead=None)


def test_the_proposal_list_keeps_each_viewer_to_their_scope(app, three):
    with app.app_context():
        everything = proposals.ListFilters()
        assert _numbers(proposals.list_query(_user("duban"), everything, TODAY)) == [
            "1003",
            "1002",
            "1001",
        ]
        assert _numbers(proposals.list_query(_user("clerk"), everything, TODAY)) == ["1001"]
        assert _numbers(proposals.list_query(_user("clerk-civil"), everything, TODAY)) == ["1002"]


def test_every_units_commitment_list_is_read_in_its_order(app, three):
    # PostgreSQL sorted the 200,000 tracked commitments of 100,000 letters for each page of
    # every unit's list (督办, the liaison: 120-300 ms); two partial indexes of the tracked
    # commitments give the list's order, and its order for one status. Each index holds the
    # statuses the list shows (else the databases could not prove a list's rows are in it).
    indexes = {ix.name: ix for ix in Commitment.__table__.indexes}
    for name in ("ix_commitment_tracked_list", "ix_commitment_tracked_status_list"):
        where = str(indexes[name].dialect_options["postgresql"]["where"])
        assert set(re.findall(r"'(\w+)'", where)) == set(commitment_service.CONFIRMED), where
    listing = commitment_service.ListFilters
    cases = [
        (listing(), "ix_commitment_tracked_list"),
        (listing(status="done"), "ix_commitment_tracked_status_list"),
    ]
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            # SQLite uses a partial index only for a filter it reads in the statement as
            # run, not bound parameters (its choice among usable indexes is its statistics',
            # which a few rows do not give): each statement the driver runs, told to use the
            # index, must have a plan (SQLite refuses an index the filter cannot use)
            for filters, _ in cases:
                query = commitment_service.list_query(_user("liaison"), filters, TODAY)
                (statement, parameters), *_ = _statements(
                    lambda query=query: db.session.execute(query.limit(25)).all()
                )
                told = statement.replace(
                    "FROM commitment",
                    "FROM commitment INDEXED BY ix_commitment_tracked_status_list",
                    1,
                )
                plan = _plan_of(told, parameters)
                assert "ix_commitment_tracked_status_list" in plan, (filters, plan)
            return
        # sorting priced out: a plan without a sort exists only if an index gives the order
        db.session.execute(db.text("SET LOCAL enable_sort = off"))
        for filters, index in cases:
            query = commitment_service.list_query(_user("liaison"), filters, TODAY).limit(25)
            plan = _plan(query)
            assert index in plan and not _sorts(plan), (filters, plan)


def test_the_proposal_lists_count_is_what_it_lists(app, three, make_proposal):
    """The list's count takes a unit's proposals from its assignments at once (asked of
    each proposal, a unit's count read all 89,000 of the loadtest: 60 ms of the clerk's
    list on SQLite, then 20), unfiltered off the index of the unit's assignments alone (a
    proposal's row holds its text: with texts of 2,260 characters the unit's 13,000 rows
    took 50-60 ms, the index 13): the same number as the list's rows, for every viewer and
    filter; the clerk's count reads no proposal row at all."""
    make_proposal("1004", title="关于学生午餐的建议", co=("广州市教育局",), lead="广州市民政局")
    cases = [
        {},
        {"q": "学生"},
        {"status": "registered"},
        {"status": "assigned"},
        {"overdue": True},
        {"kind": "suggestion"},
    ]
    with app.app_context():
        for name in ("clerk", "clerk-civil", "clerk-health", "supervisor", "duban", "admin"):
            viewer = _user(name)
            for filters in cases:
                wanted = proposals.ListFilters(**filters)
                listed = _numbers(proposals.list_query(viewer, wanted, TODAY))
                counted = db.session.execute(
                    proposals.count_query(viewer, wanted, TODAY)
                ).scalar_one()
                assert counted == len(listed), (name, filters, listed, counted)
        assert (
            len(_numbers(proposals.list_query(_user("clerk"), proposals.ListFilters(), TODAY))) == 2
        )
    # a proposal the unit has two rows for (an earlier round's, kept inactive): counted once
    bus = make_proposal("1005", title="关于校车的建议")
    with app.app_context():
        lead = db.session.execute(
            db.select(Assignment).filter_by(proposal_id=bus, role="lead")
        ).scalar_one()
        db.session.add(
            Assignment(
                proposal_id=bus,
                unit_id=lead.unit_id,
                role="lead",
                round=2,
                active=False,
                assigned_on=lead.assigned_on,
                due_on=lead.due_on,
                original_due_on=lead.original_due_on,
            )
        )
        db.session.commit()
        counted = proposals.count_query(_user("clerk"), proposals.ListFilters(), TODAY)
        assert db.session.execute(counted).scalar_one() == 3
        listed = _numbers(proposals.list_query(_user("clerk"), proposals.ListFilters(), TODAY))
        assert len(set(listed)) == len(listed) == 3  # the list shows it once too
        plan = _plan(counted)
        assert "ix_assignment_unit_proposal" in plan, plan
        assert not re.search(r"\bproposal\b(?!_)", plan.replace("ix_assignment_unit_proposal", ""))
        if db.engine.dialect.name == "sqlite":
            assert "COVERING INDEX ix_assignment_unit_proposal" in plan, plan
        # a filtered count asks its proposals, the unit's taken as a set
        plan = _plan(proposals.count_query(_user("clerk"), proposals.ListFilters(q="学生"), TODAY))
        assert not _reads_whole("proposal", plan), plan
        if db.engine.dialect.name == "sqlite":
            assert "ix_assignment_unit_proposal" in plan and "CORRELATED" not in plan, plan


def test_the_proposal_list_filters(app, three):
    with app.app_context():
        liaison = _user("liaison")
        civil = db.session.execute(db.select(Unit).filter_by(name="广州市民政局")).scalar_one()

        def numbers(**filters):
            query = proposals.list_query(liaison, proposals.ListFilters(**filters), TODAY)
            return sorted(_numbers(query))

        assert numbers(q="学生 建议") == ["1001", "1003"]
        assert numbers(q="学生 体育") == ["1003"]
        assert numbers(unit_id=civil.id) == ["1002"]
        assert numbers(overdue=True) == ["1001"]  # due 2 June; 1002 is due in September
        assert numbers(status="registered") == ["1003"]
        assert numbers(status="no-such-status") == ["1001", "1002", "1003"]


def test_an_items_audit_trail_newest_first_with_who_did_it(app, three):
    with app.app_context():
        proposal = db.session.execute(db.select(Proposal).filter_by(number="1001")).scalar_one()
        events = audit.events(proposal_id=proposal.id)
        assert [e.action for e in events][-1] == "register"
        assert events[-1].actor.username == "liaison"
        assert events[0].actor.username == "duban"  # the assignment came after
        assert all(e.proposal_id == proposal.id for e in events)


def test_the_commitment_list_and_a_commitments_own_trail(app, make_proposal):
    pid = make_proposal("20262174", sign=True)
    with app.app_context():
        lead = next(a for a in db.session.get(Proposal, pid).assignments if a.role == "lead")
        letter = proposals.record_reply(
            _user("clerk"),
            lead,
            title="广州市教育局关于第20262174号建议答复的函",
            classification="B",
            doc_number="穗教案〔2026〕7号",
            letter_on=date(2026, 5, 7),
            issued_on=date(2026, 5, 8),
            disclosure="主动公开",
            body=BODY,
            today=TODAY,
        )
        db.session.flush()
        candidates = list(
            db.session.execute(
                db.select(Commitment).where(Commitment.letter_id == letter.id)
            ).scalars()
        )
        for c in candidates:
            commitment_service.confirm(_user("clerk"), c, keep_inferred=True)
        db.session.commit()

        def texts(user: str, **filters) -> list[str]:
            query = commitment_service.list_query(
                _user(user), commitment_service.ListFilters(**filters), TODAY
            )
            return [c.text for c in db.session.execute(query).unique().scalars()]

        # the soonest due first
        assert texts("clerk") == [
            "力争2026年5月底前完成全市中小学心理辅导室建设",
            "今年底全市中小学专任教师持C证率达到80%",
        ]
        assert texts("clerk-civil") == []
        assert texts("clerk", status="overdue") == ["力争2026年5月底前完成全市中小学心理辅导室建设"]
        assert texts("clerk", status="open") == ["今年底全市中小学专任教师持C证率达到80%"]
        assert texts("liaison", q="C证") == ["今年底全市中小学专任教师持C证率达到80%"]
        assert texts("liaison", due_from=date(2026, 6, 1)) == [
            "今年底全市中小学专任教师持C证率达到80%"
        ]
        assert texts("liaison", grade="A") == []
        # the grade of the letter: every unit's commitments take the grade's letters at
        # once, a unit's look each one's letter up (SQLite looked up the letters of the
        # 200,000 tracked commitments of the loadtest one by one: 1.2 s for 督办's page)
        for viewer in ("liaison", "clerk"):
            assert texts(viewer, grade="B") == texts("clerk"), viewer
            assert texts(viewer, grade="B", unit_id=lead.unit_id) == texts("clerk"), viewer
            assert texts(viewer, grade="A", unit_id=lead.unit_id) == [], viewer
        every = commitment_service.ListFilters(grade="B")
        plan = _plan(commitment_service.list_query(_user("liaison"), every, TODAY).limit(25))
        if db.engine.dialect.name == "sqlite":
            assert "LIST SUBQUERY" in plan and "reply_letter USING INTEGER" not in plan, plan

        first = candidates[0]
        trail = audit.events(entity="commitment", entity_id=first.id)
        assert [e.actor.username for e in trail] == ["clerk"]
        assert all(e.entity_id == first.id for e in trail)


def _plan(query) -> str:
    """The database's plan for a query. PostgreSQL would read the test's few rows whole
    whatever the indexes, so there sequential scans are priced out, as they are by the
    size of a real table; SQLite's planner picks by the indexes alone."""
    compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
    if db.engine.dialect.name == "postgresql":
        db.session.execute(db.text("SET LOCAL enable_seqscan = off"))
        rows = db.session.execute(db.text(f"EXPLAIN {compiled}")).all()
        return "\n".join(row[0] for row in rows)
    rows = db.session.execute(db.text(f"EXPLAIN QUERY PLAN {compiled}")).all()
    return "\n".join(row[-1] for row in rows)


def _sorts(plan: str) -> bool:
    return "TEMP B-TREE" in plan or "Sort" in plan


def _reads_whole(table: str, plan: str) -> bool:
    return f"SCAN {table}" in plan or f"Seq Scan on {table}" in plan


def test_list_pages_and_dashboard_counts_read_indexes_not_whole_tables(app, three):
    # at 100,000 letters a page sorted every proposal, 督办统计 read every commitment, and
    # the commitment list's count looked up each one's letter and proposal
    from tracker.services import dashboard

    with app.app_context():
        plan = _plan(proposals.list_query(_user("duban"), proposals.ListFilters(), TODAY).limit(25))
        assert "ix_proposal_list_order" in plan and not _sorts(plan), plan
        # filtered by status and grade, with words of the title: the page in the list's
        # order and the count off one index (each replied proposal's row was read)
        filtered = proposals.list_query(
            _user("duban"),
            proposals.ListFilters(status="replied", classification="A", q="建设"),
            TODAY,
        )
        page = _plan(filtered.limit(25))
        assert "ix_proposal_status_grade" in page and not _sorts(page), page
        count = _plan(filtered.with_only_columns(db.func.count()).order_by(None))
        assert "ix_proposal_status_grade" in count, count
        if db.engine.dialect.name == "sqlite":  # PostgreSQL picks by its statistics
            assert "COVERING INDEX ix_proposal_status_grade" in count, count
        period = dashboard.Period(date(2026, 1, 1), TODAY)
        letters = _plan(
            db.select(Commitment.unit_id, db.func.count())
            .where(dashboard._commitment_base(period))
            .group_by(Commitment.unit_id)
        )
        # (PostgreSQL picks by its statistics: on a few rows the list's partial index, at
        # 100,000 letters this one, index-only)
        if db.engine.dialect.name == "sqlite":
            assert "ix_commitment_status_due_on" in letters, letters
        assert not _reads_whole("commitment", letters), letters
        listed = _plan(
            commitment_service.list_query(
                _user("supervisor"), commitment_service.ListFilters(), TODAY
            )
            .with_only_columns(db.func.count())
            .order_by(None)
        )
        assert "reply_letter" not in listed and "proposal" not in listed
        # a unit's first page in the list's order off the index (it sorted the unit's
        # 25,000 commitments, those without a date last, for 25)
        first = _plan(
            commitment_service.list_query(
                _user("supervisor"), commitment_service.ListFilters(), TODAY
            ).limit(25)
        )
        assert "ix_commitment_unit_list" in first and not _sorts(first), first


BIG_TABLES = ("assignment", "commitment", "reply_letter", "proposal", "contact_log", "feedback")


def _statements(call) -> list[tuple[str, object]]:
    """The SQL statements (with their parameters) that `call()` runs."""
    from sqlalchemy import event

    seen: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        call()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return [(s, p) for s, p in seen if s.lstrip().upper().startswith("SELECT")]


def _plan_of(statement: str, parameters) -> str:
    """_plan for a statement as the driver ran it."""
    connection = db.session.connection()
    if db.engine.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        rows = connection.exec_driver_sql(f"EXPLAIN {statement}", parameters).all()
        return "\n".join(row[0] for row in rows)
    rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
    return "\n".join(row[-1] for row in rows)


def _whole_reads(call) -> list[str]:
    """The plans of the statements `call()` runs that read a large table whole."""
    plans = [_plan_of(s, p) for s, p in _statements(call)]
    return [p for p in plans if any(_reads_whole(t, p) for t in BIG_TABLES)]


def test_dashboard_and_todo_read_indexes_not_whole_tables(app, three):
    # 督办统计's re-handled count read every assignment in unit order (to skip a sort)
    # instead of the few of round 2 or later: 1.3 s at 100,000 letters
    from tracker.services import dashboard, todo

    with app.app_context():
        period = dashboard.Period(date(2026, 1, 1), TODAY)
        whole = _whole_reads(lambda: dashboard.build(period, TODAY, unit=None, visible_units=None))
        assert not whole, whole
        for name in ("clerk", "supervisor", "liaison", "duban"):
            user = _user(name)
            whole = _whole_reads(
                lambda user=user: todo.for_user(
                    user, TODAY, 7, shown=20, letters_shown=8, open_shown=50
                )
            )
            assert not whole, (name, whole)


def test_the_public_pages_latest_replies_are_read_in_the_date_indexs_order(app, three):
    # SQLite read the 70,000 published letters of the loadtest through the status index and
    # sorted them for 20 (650 ms of the public page; PostgreSQL sorted them, 57 ms)
    from tracker.services import search

    with app.app_context():
        statements = _statements(lambda: search.recent_public(20))
        plans = [_plan_of(s, p) for s, p in statements if "FROM reply_letter" in s]
        on_sqlite = db.engine.dialect.name == "sqlite"
    for plan in plans:
        assert not _reads_whole("reply_letter", plan), plan
        if on_sqlite:  # PostgreSQL picks by its statistics (at 100,000 letters: this index)
            assert "ix_reply_letter_day" in plan and not _sorts(plan), plan
    assert len(plans) == 2  # no letters: the dated ones are read, then the undated ones


def test_the_review_queue_and_its_count_are_read_off_an_index(app, three):
    # 待审核 counted its letters by reading the whole letter table (100,000 letters with
    # their texts: 90-250 ms on SQLite, 70 ms on PostgreSQL at every visit)
    from tracker.services import corpus

    with app.app_context():
        queue = corpus.review_queue()
        page = _plan(queue.limit(50))
        count = _plan(db.select(db.func.count()).select_from(queue.order_by(None).subquery()))
        on_sqlite = db.engine.dialect.name == "sqlite"
    for plan in (page, count):
        assert not _reads_whole("reply_letter", plan), plan
        if on_sqlite:  # PostgreSQL picks by its statistics
            assert "ix_reply_letter_review" in plan and not _sorts(plan), plan


def test_the_dashboards_answered_replies_are_counted_without_their_proposals(app, three):
    # counted in one pass with the overdue unanswered ones (which need their proposals'
    # round), every reply of the period was joined to its proposal: PostgreSQL read all
    # 89,000 proposals for it, a year's 9,600 replies 40 ms of the page (now 15)
    from tracker.services import dashboard

    with app.app_context():
        period = dashboard.Period(date(2026, 1, 1), TODAY)
        statements = [
            s
            for s, _ in _statements(
                lambda: dashboard.build(period, TODAY, unit=None, visible_units=None)
            )
            if "FROM assignment" in s
        ]
        answered = [s for s in statements if "replied_on IS NOT NULL" in s]
        unanswered = [s for s in statements if "replied_on IS NULL" in s]
        assert answered and unanswered, statements
        assert not any(re.search(r"\bproposal\b", s) for s in answered), answered
        assert all("JOIN proposal" in s for s in unanswered), unanswered


def test_the_dashboards_overdue_unreplied_are_counted_off_one_index(app, three):
    # the unreplied assignments due in the period are mostly co-units' (they send opinions,
    # never replies): each was read from the table for its role, 1,200 rows and 3-5 ms of
    # 督办统计 at 100,000 letters on SQLite
    from tracker.services import dashboard

    with app.app_context():
        period = dashboard.Period(date(2026, 1, 1), TODAY)
        overdue = [
            (s, p)
            for s, p in _statements(
                lambda: dashboard.build(period, TODAY, unit=None, visible_units=None)
            )
            if "FROM assignment" in s and "replied_on IS NULL" in s
        ]
        assert len(overdue) == 1, overdue
        plan = _plan_of(*overdue[0])
        if db.engine.dialect.name == "sqlite":
            assert "COVERING INDEX ix_assignment_replied_due" in plan, plan
        else:  # PostgreSQL picks the index by its statistics; either holds what is tested
            assert re.search(r"Index Only Scan using \w+ on assignment", plan), plan


def test_the_closure_rate_is_counted_off_one_index(app, three):
    # 办结率 counts the first round's items assigned in the period and those answered: each
    # one's row was read for its role and reply date (10 ms of 督办统计 at 100,000 letters)
    from tracker.services import assessment, dashboard

    with app.app_context():
        period = dashboard.Period(date(2026, 1, 1), TODAY)
        statements = _statements(lambda: assessment.platform_rates(period, None))
        counted = [(s, p) for s, p in statements if "assigned_on" in s]
        assert len(counted) == 1, statements
        plan = _plan_of(*counted[0])
        assert "ix_assignment_round_assigned_on" in plan, plan
        if db.engine.dialect.name == "sqlite":  # PostgreSQL picks by its statistics
            assert "COVERING INDEX ix_assignment_round_assigned_on" in plan, plan


def test_reports_owed_read_one_index_not_the_units_commitments(app, three):
    # a unit's 20,000 finished commitments were each read from the table (to check that it
    # was not reported yet, and to sort them) for the first 20 on 我的待办
    with app.app_context():
        unit_id = _user("clerk").unit_id
        for call in (
            lambda: commitment_service.reports_owed(unit_id, limit=20),
            lambda: commitment_service.count_reports_owed(unit_id),
        ):
            by_unit = [(s, p) for s, p in _statements(call) if "commitment.unit_id = " in s]
            plans = [_plan_of(s, p) for s, p in by_unit]
            assert plans and not any(_reads_whole("commitment", p) for p in plans), plans
            if db.engine.dialect.name == "sqlite":  # PostgreSQL picks by its statistics
                assert all("COVERING INDEX ix_commitment_unit_report" in p for p in plans), plans


def test_a_units_open_work_is_read_off_the_index_of_the_unanswered(app, three):
    # a unit's 13,000 assignments were read (PostgreSQL: with every proposal) to find the
    # few hundred still open for 我的待办; the partial index holds only those
    from tracker.services import todo

    with app.app_context():
        unit_id = _user("clerk").unit_id
        for call in (
            lambda: todo.open_work(unit_id, limit=50),
            lambda: todo.for_user(_user("clerk"), TODAY, 7, shown=20, open_shown=1),
        ):
            plans = [_plan_of(s, p) for s, p in _statements(call) if "FROM assignment" in s]
            # the unit's open ones off the index, or the rows chosen so by their ids
            assert any("ix_assignment_open" in p for p in plans), plans
            assert all(
                "ix_assignment_open" in p
                or "assignment USING INTEGER PRIMARY KEY" in p
                or "pk_assignment" in p
                for p in plans
            ), plans


def test_a_request_reads_the_vocabularies_once_and_sees_its_own_changes(app, three):
    # a list's labels and forms read the same vocabulary rows for each row and field
    from sqlalchemy import event

    from tracker.models import VocabularyTerm
    from tracker.services import vocab

    with app.app_context():
        reads = []

        def count(conn, cursor, statement, *args):
            if "FROM vocabulary_term" in statement:
                reads.append(statement)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            labels = [vocab.label("classification", code) for code in ("A", "B", "列入计划") * 20]
            assert labels[:3] == ["A类", "B类", "列入计划"] and len(reads) == 1
            # another vocabulary: read with the first (a page reads several)
            choices = [vocab.choices("contact_channel") for _ in range(20)]
            assert choices[0] and choices.count(choices[0]) == 20 and len(reads) == 1
            # a change of this session is read again (after its flush), not the kept rows
            row = vocab.term("classification", "A")
            row.label = "A类（已解决）"
            db.session.add(VocabularyTerm(vocabulary="contact_channel", code="x", label="新方式"))
            db.session.flush()
            assert vocab.label("classification", "A") == "A类（已解决）"
            assert ("x", "新方式") in vocab.choices("contact_channel")
            db.session.rollback()
            assert vocab.label("classification", "A") == "A类"
            assert ("x", "新方式") not in vocab.choices("contact_channel")
        finally:
            event.remove(db.engine, "before_cursor_execute", count)


def test_the_list_filters_offer_handling_units_by_name_and_sessions_latest_first(
    app, browser, people, make_unit
):
    """The filters' choices come as (id, name) pairs read in two columns: the active
    handling units by name (not the coordinating office, not a unit made inactive), every
    session with the latest year first."""
    make_unit("广州市交通运输局", short=("市交通局",), prefix="穗交函")
    gone = make_unit("广州市撤销局", short=("撤销局",), prefix="穗撤函")
    with app.app_context():
        db.session.get(Unit, gone).active = False
        db.session.add_all(
            [
                CongressSession(name="市十五届人大五次会议", body="人大", level="市", year=2021),
                CongressSession(name="市十六届政协一次会议", body="政协", level="市", year=2022),
            ]
        )
        db.session.commit()
        expected_units = [
            u.name
            for u in db.session.execute(db.select(Unit).order_by(Unit.name)).scalars()
            if u.active and not u.is_coordinating
        ]
        years = {s.name: s.year for s in db.session.execute(db.select(CongressSession)).scalars()}
    browser.login("duban")
    for page in ("/proposals", "/commitments"):
        html = browser.get(page).get_data(as_text=True)
        units = re.search(r'<select[^>]*name="unit"[^>]*>(.*?)</select>', html, re.S).group(1)
        names = re.findall(r'<option [^>]*value="\d+">([^<]+)</option>', units)
        assert names == expected_units and "广州市撤销局" not in names, page
        sessions = re.search(r'<select[^>]*name="session"[^>]*>(.*?)</select>', html, re.S)
        listed = re.findall(r'<option [^>]*value="\d+">([^<]+)</option>', sessions.group(1))
        assert sorted(listed) == sorted(years) and len(listed) >= 2, page
        assert [years[n] for n in listed] == sorted((years[n] for n in listed), reverse=True)


def test_the_count_of_a_units_due_commitments_is_read_off_one_index(app, three):
    # counting commitment.id, which the (unit, status, due) index lacks, PostgreSQL read the
    # commitment list's index (which has the id) past a unit's 122,000 other commitments:
    # 13.5 ms of each 我的待办 at 100,000 letters, against 0.3 ms for count(*) off this one.
    # (Which index a planner takes for the test's few rows says little: the statement must
    # name no column that index lacks, and SQLite must take it.)
    from tracker.models import Commitment

    with app.app_context():
        unit_id = _user("clerk").unit_id
        call = lambda: commitment_service.count_due_for_unit(unit_id, TODAY, 7)  # noqa: E731
        [(statement, parameters)] = _statements(call)
        index = next(i for i in Commitment.__table__.indexes if i.name == DUE_INDEX)
        named = set(re.findall(r"\bcommitment\.(\w+)", statement))
        assert named and named <= {c.name for c in index.columns}, statement
        if db.engine.dialect.name == "sqlite":
            assert f"COVERING INDEX {DUE_INDEX}" in _plan_of(statement, parameters)


DUE_INDEX = "ix_commitment_unit_status_due_on"


def test_a_proposals_text_is_read_only_where_it_is_shown(app, three):
    """A proposal's row holds its text (内容摘要, up to 20,000 characters): the lists and
    我的待办 load their proposals without it; it is read when asked for (the proposal's
    page) and with the proposals a batch import compares."""
    from tracker.services import todo

    text = "建议内容" * 500
    with app.app_context():
        db.session.execute(db.update(Proposal).values(content=text))
        db.session.commit()
        db.session.expunge_all()
        clerk = _user("clerk")
        loaded: list = []
        statements = _statements(
            lambda: loaded.extend(
                [
                    *db.session.execute(
                        proposals.list_query(clerk, proposals.ListFilters(), TODAY)
                    ).scalars(),
                    *(a.proposal for a in todo.open_work(clerk.unit_id)),
                ]
            )
        )
        assert loaded and statements
        assert not [s for s, _ in statements if "proposal.content" in s], statements
        assert loaded[0].content == text  # read when asked for
        from tracker.services.proposal_batch import _existing

        db.session.expunge_all()
        session_id = db.session.execute(db.select(CongressSession.id)).scalars().first()
        found = _statements(lambda: loaded.append(_existing([(session_id, "1001")])))
        assert any("proposal.content" in s for s, _ in found)
        assert [p.content for p in loaded[-1].values()] == [text]
