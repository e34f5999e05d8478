"""`make bench`: import and index a corpus, run a fixed query set, print one JSON line.

Environment:
- BENCH_LETTERS (default 20000): how many synthetic letters to generate;
- BENCH_CORPUS=DIR: benchmark an existing folder of letters instead of generating one;
- BENCH_QUERIES=FILE: one query a line, as a user types it, instead of the built-in set;
- BENCH_SEED (default 1), BENCH_DIR (default: a temporary folder, removed afterwards);
- BENCH_ENGINE (default whoosh): the search engine, whoosh or postgres;
- BENCH_DATABASE (default: sqlite for whoosh, postgresql for postgres): the database;
- BENCH_POSTGRES_URL: on PostgreSQL, a server the bench may create (and then drop) a
  database on; without it, a throwaway cluster is started from the installed PostgreSQL
  binaries in BENCH_DIR (PG_SETTINGS below: durable, as a server is).

The last line printed is
{"letters", "engine", "database", "import_letters_per_s", "index_mb", "search_p50_ms",
 "search_p95_ms", "search_max_ms"}; lines before it go to standard error.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

# Words a liaison types: very common, common, rare; and the filters they add.
COMMON = ["工作", "建设", "教育", "学校", "管理", "服务", "推进", "加强", "城市", "社区"]
TOPICAL = [
    "心理健康",
    "公厕",
    "电梯",
    "学位",
    "养老",
    "垃圾分类",
    "停车",
    "地铁",
    "医联体",
    "近视",
    "食品安全",
    "河涌",
    "校外培训",
    "幼儿园",
    "家庭医生",
    "老旧小区",
    "消防",
    "充电桩",
    "交通",
    "绿道",
    "菜市场",
    "托育",
    "口腔",
    "体育",
    "图书馆",
    "文物",
    "旅游",
    "就业",
    "社保",
    "住房",
    "公交",
    "噪音",
    "污水",
    "物业",
    "餐饮",
    "课后服务",
    "营养",
    "安全",
    "医保",
    "疫苗",
]
RARE = ["非遗", "骑楼", "龙舟", "古树", "岭南", "粤剧", "茶楼", "碉楼", "盲道", "母婴室"]
PHRASES = [
    '"心理健康教育"',
    '"专职心理教师"',
    '"老旧小区加装电梯"',
    '"公共厕所"',
    '"垃圾分类"',
    '"家庭医生签约"',
    '"校外培训机构"',
    '"停车泊位"',
    '"学位供给"',
    '"社区养老服务"',
    '"下一步工作安排"',
    '"食品安全监管"',
    '"充电基础设施"',
    '"课后服务"',
    '"近视防控"',
]

# Strings the letters' segmentation cuts otherwise, found by their text: parts of unit names
# and cc lines (市城市管理和综合执法局 → 综合 / 执法局; 市人大选联工委 → 人大 / 选联 / 工委;
# 市府办公厅 → 市府 / 办公厅), and a place name no letter has.
SPLIT = [
    "综合执法",
    "人大选联",
    "市府办",
    "卫生健康委",
    "住房城乡建设",
    "人力资源社会保障",
    "沙锅屯",
]
# Pathological: a string in nearly every letter, a long one without spaces, one character.
HARD = ["的工作", "加快推进老旧小区加装电梯工作", "屯"]


def builtin_queries() -> list[tuple[str, dict]]:
    queries: list[tuple[str, dict]] = []
    queries += [(w, {}) for w in COMMON]
    queries += [(w, {}) for w in TOPICAL]
    queries += [(w, {}) for w in RARE]
    queries += [(p, {}) for p in PHRASES]
    queries += [(f"{a} {b}", {}) for a, b in zip(TOPICAL, TOPICAL[7:] + TOPICAL[:7], strict=True)]
    queries += [(f"{a} {b}", {}) for a, b in zip(COMMON, TOPICAL, strict=False)]
    queries += [(w, {"classification": "B"}) for w in TOPICAL[:15]]
    queries += [(w, {"kind": "提案"}) for w in TOPICAL[15:30]]
    queries += [(w, {"year": str(2016 + i % 8)}) for i, w in enumerate(TOPICAL[:20])]
    queries += [(f"{w} 教育", {"year": "2020"}) for w in TOPICAL[20:30]]
    queries += [
        (w, {})
        for w in (
            "工作 推进 落实",
            "学校 教师 学生",
            "社区 服务 居民",
            "医院 床位",
            '"加装电梯" 老旧小区',
        )
    ]
    queries += [(f"{a}{b}", {}) for a, b in zip(TOPICAL[:10], COMMON, strict=True)]
    queries += [(w, {}) for w in SPLIT + HARD]
    queries += [(f"{w} {t}", {}) for w, t in zip(SPLIT[:5], TOPICAL, strict=False)]
    return queries


def load_queries(path: str | None) -> list[tuple[str, dict]]:
    if not path:
        return builtin_queries()
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [(line.strip(), {}) for line in lines if line.strip()]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def folder_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


# the throwaway cluster's settings: PostgreSQL's defaults (durable), with the memory a
# small server would be given
PG_SETTINGS = "-c shared_buffers=1GB -c max_wal_size=4GB -c maintenance_work_mem=256MB"


def main() -> int:
    engine = os.environ.get("BENCH_ENGINE", "whoosh").strip().lower()
    if engine not in ("whoosh", "postgres"):
        log(f"BENCH_ENGINE must be whoosh or postgres, not {engine!r}")
        return 2
    from tracker.pgcluster import Cluster, binaries

    kind = os.environ.get("BENCH_DATABASE") or ("sqlite" if engine == "whoosh" else "postgresql")
    if kind not in ("sqlite", "postgresql") or (engine, kind) == ("postgres", "sqlite"):
        log(f"BENCH_DATABASE must be sqlite or postgresql (postgresql for postgres): {kind!r}")
        return 2
    url = os.environ.get("BENCH_POSTGRES_URL")
    if kind == "postgresql" and not url and binaries() is None:
        log("PostgreSQL needs BENCH_POSTGRES_URL or the PostgreSQL binaries")
        return 2
    work = Path(os.environ.get("BENCH_DIR") or tempfile.mkdtemp(prefix="tracker-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    work.chmod(0o755)  # the cluster's own user reaches its folder inside
    try:
        if kind == "sqlite":
            return run(engine, work, None)
        cluster = Cluster(url, options=PG_SETTINGS, parent=str(work))
        try:
            database = cluster.create_database("tracker_bench")
            try:
                return run(engine, work, database)
            finally:
                cluster.drop_database(database)
        finally:
            cluster.stop()
    finally:
        if not os.environ.get("BENCH_DIR"):
            shutil.rmtree(work, ignore_errors=True)


def run(engine: str, work: Path, database: str | None) -> int:
    """Import and search with `engine`, on `database` (a URL) or a SQLite file in `work`."""
    from tracker import create_app, search_hooks
    from tracker.extensions import db
    from tracker.services import search, vocab
    from tracker.services.corpus import Importer, iter_files, read_options

    letters = int(os.environ.get("BENCH_LETTERS", "20000"))
    seed = int(os.environ.get("BENCH_SEED", "1"))
    corpus = os.environ.get("BENCH_CORPUS")
    if corpus:
        folder = Path(corpus)
    else:
        from tracker.letters.synth import write_corpus

        folder = work / "corpus"
        if not folder.is_dir() or len(list(folder.glob("*.txt"))) != letters:
            shutil.rmtree(folder, ignore_errors=True)
            started = time.perf_counter()
            write_corpus(folder, letters, seed)
            log(f"generated {letters} letters in {time.perf_counter() - started:.1f} s")
    db_path, index_dir = work / "bench.db", work / "index"
    db_path.unlink(missing_ok=True)
    shutil.rmtree(index_dir, ignore_errors=True)
    app = create_app(
        {
            "SECRET_KEY": "bench",
            "DATABASE_URL": database or f"sqlite:///{db_path}",
            "INDEX_DIR": str(index_dir),
            "SEARCH_ENGINE": engine,
        }
    )
    with app.app_context():
        db.create_all()
        vocab.ensure_defaults()
        db.session.commit()
        files = list(iter_files([folder]))
        importer = Importer(options=read_options(app.config), search=search_hooks.engine(app))
        started = time.perf_counter()
        counts: dict[str, int] = {}
        with search_hooks.deferred(db.session()):
            for number, outcome in enumerate(importer.import_many(files), 1):
                status = outcome.status
                counts[status] = counts.get(status, 0) + 1
                if number % 500 == 0:
                    db.session.commit()
                if number % 5000 == 0:
                    log(f"  {number} letters, {number / (time.perf_counter() - started):.0f}/s")
            db.session.commit()
            committed = time.perf_counter()
        elapsed = time.perf_counter() - started
        log(
            f"imported {len(files)} files in {elapsed:.1f} s: {counts} "
            f"(the index finished in the last {time.perf_counter() - committed:.1f} s)"
        )

        queries = load_queries(os.environ.get("BENCH_QUERIES"))
        for text, filters in queries[:5]:  # warm up the searcher and caches
            search.run(text, filters=filters, engine=search_hooks.engine(app))
        timings = []
        slowest: list[tuple[float, str]] = []
        for text, filters in queries:
            started_q = time.perf_counter()
            result = search.run(text, filters=filters, per_page=20, engine=search_hooks.engine(app))
            ms = (time.perf_counter() - started_q) * 1000
            timings.append(ms)
            slowest.append((ms, f"{text} {filters or ''} -> {result.total}"))
        slowest.sort(reverse=True)
        log(
            f"{len(queries)} queries; slowest: "
            + "; ".join(f"{ms:.0f} ms {q}" for ms, q in slowest[:5])
        )
        index_mb = index_size_mb(engine, index_dir)
    timings.sort()
    figures = {
        "letters": counts.get("imported", 0) + counts.get("flagged", 0) + counts.get("updated", 0),
        "engine": engine,
        "import_letters_per_s": round(len(files) / elapsed, 1),
        "index_mb": index_mb,
        "search_p50_ms": round(statistics.median(timings), 1),
        "search_p95_ms": round(timings[max(0, int(len(timings) * 0.95) - 1)], 1),
        "search_max_ms": round(timings[-1], 1),
    }
    print(json.dumps(figures), flush=True)
    return 0


def index_size_mb(engine: str, index_dir: Path) -> float:
    """The index's size: its folder (Whoosh), or its table with the table's indexes and
    TOAST (PostgreSQL; call in the app's context)."""
    if engine == "whoosh":
        return round(folder_mb(index_dir), 1)
    from sqlalchemy import text

    from tracker.extensions import db
    from tracker.services.pgsearch import schema

    size = db.session.execute(
        text("SELECT pg_total_relation_size(:t)"), {"t": schema.TABLE}
    ).scalar_one()
    return round(size / 1e6, 1)


if __name__ == "__main__":
    sys.exit(main())
