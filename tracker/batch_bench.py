"""How long 批量导入 takes: `python -m tracker.batch_bench [ROWS]` (default 2,000).

Builds a throwaway app on SQLite in a temporary folder (60 units, an admin), writes a
交办清单 workbook of ROWS proposals (each with a lead unit, half with a co-handling unit),
then times what the 批量导入 page does: reading the file, the preview (plan) and the
confirm (plan again, save, commit), and the same file imported again (all unchanged).
Prints one line per step and a JSON line last."""

from __future__ import annotations

import io
import json
import sys
import tempfile
import time
from datetime import date
from pathlib import Path


def _workbook(rows: int, units: list[str]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    ws = book.active
    ws.append(["市十六届人大一次会议代表建议交办清单"])
    ws.append(
        ["序号", "编号", "标题", "类别", "领衔人", "附议人", "代表团", "届次", "提出日期",
         "主办单位", "会办单位", "交办日期", "是否重点", "内容"]
    )  # fmt: skip
    for n in range(rows):
        ws.append(
            [
                n + 1,
                20260000.0 + n,  # numbers stored as numbers
                f"关于加强第{n}项民生工作的建议",
                "建议",
                f"代表{n % 300}",
                "李明、王芳",
                "海珠区代表团",
                "市十六届人大一次会议",
                date(2026, 1, 20),
                units[n % len(units)],
                units[(n + 7) % len(units)] if n % 2 else None,
                date(2026, 3, 2),
                "是" if n % 10 == 0 else "否",
                "建议内容" * 50,
            ]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def main(rows: int) -> dict:
    from tracker import create_app, current
    from tracker.extensions import db
    from tracker.models import Unit
    from tracker.services import proposal_batch, users, vocab

    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {
                "SECRET_KEY": "bench",
                "DATABASE_URL": f"sqlite:///{Path(folder) / 'bench.db'}",
                "INDEX_DIR": str(Path(folder) / "index"),
                "UPLOAD_DIR": str(Path(folder) / "uploads"),
                "TODAY": "2026-06-15",
                "JOB_SPAWN": False,
            }
        )
        with app.app_context():
            db.create_all()
            vocab.ensure_defaults()
            names = []
            for n in range(60):
                names.append(f"广州市第{n}局")
                db.session.add(Unit(name=names[-1], short_names=[f"市第{n}局"]))
            db.session.flush()
            admin = users.create_user(None, username="admin", password="bench-pass-1", role="admin")
            db.session.commit()
            data = _workbook(rows, [f"市第{n}局" for n in range(60)])
            figures: dict[str, float] = {}

            def step(name, work):
                started = time.perf_counter()
                result = work()
                figures[name] = round(time.perf_counter() - started, 2)
                print(f"{name}: {figures[name]} s", file=sys.stderr)
                return result

            def plan(sheet):
                return proposal_batch.plan(
                    admin,
                    sheet.rows,
                    today=current.today(),
                    policy=current.deadline_policy(),
                )

            def confirm():
                sheet = proposal_batch.read_upload(data, "清单.xlsx", len(data))
                planned = plan(sheet)
                result = proposal_batch.apply(
                    admin, planned, policy=current.deadline_policy(), today=current.today()
                )
                db.session.commit()
                return result

            sheet = step("read_s", lambda: proposal_batch.read_upload(data, "清单.xlsx", len(data)))
            step("preview_s", lambda: plan(sheet))
            db.session.rollback()
            result = step("confirm_s", confirm)
            again = step("reimport_preview_s", lambda: plan(sheet))
            assert len(result.created) == rows, result.summary()
            assert again.counts()["unchanged"] == rows, again.summary()
        return {"rows": rows, **figures, "upload_to_saved_s": round(sum(
            figures[k] for k in ("read_s", "preview_s", "confirm_s")), 2)}  # fmt: skip


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)))
