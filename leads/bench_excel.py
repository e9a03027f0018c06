"""`make bench`, group "excel": a generated 100k-row xlsx (20% repeated customers, 5% bad
mobiles) imported end to end, parse to committed, by `manage.py import_leads` in its own process
(so that its peak RSS is the import's own); and the peer baseline in the same run: the same rows
through a plain django-import-export ModelResource with default settings, timed on 10k rows and
extrapolated to 100k (at ~2 ms a row the full peer run would take minutes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.db import connection
from import_export import resources
from import_export.formats.base_formats import XLSX

from channels.models import Channel
from leads.bench import LeadRows
from leads.imports.xlsx import XlsxWriter
from leads.models import Customer

EXCEL_ROWS = 100_000
PEER_ROWS = 10_000
HEADER = [
    "手机号",
    "姓名",
    "经销商代码",
    "车型代码",
    "城市",
    "预计购车时间",
    "客户同意经销商联系",
    "留资时间",
]
# The peer reads the same sheet; a plain ModelResource matches columns by field name.
PEER_HEADER = ["mobile", "name", "dealer_code", "model_code", "city", "timeframe", "consent", "at"]


class PeerCustomerResource(resources.ModelResource):
    """django-import-export with default settings: one Customer per row."""

    class Meta:
        model = Customer


def _write_sheet(path: Path, header: list[str], rows: list[dict]) -> None:
    with path.open("wb") as out, XlsxWriter(out) as book, book.sheet("线索") as sheet:
        sheet.row(header, header=True)
        for row in rows:
            sheet.row(
                [
                    row["mobile"],
                    row["name"],
                    row["dealer_code"],
                    row["model_code"],
                    row["city"],
                    row["purchase_timeframe"],
                    "是",
                    "2024-06-01 10:30",
                ]
            )


def bench_excel() -> dict:
    channel = (
        Channel.objects.filter(code__startswith="AUTOSHOW", level=Channel.Level.SOURCE).first()
        or Channel.objects.filter(level=Channel.Level.SOURCE).first()
    )
    generator = LeadRows(seed=11)
    rows = [generator.next("X") for _ in range(EXCEL_ROWS)]
    workdir = Path(tempfile.mkdtemp(prefix="bench-excel-"))
    source = workdir / "车展线索-100k.xlsx"
    _write_sheet(source, HEADER, rows)
    # The peer first, on the same rows; its customers are removed afterwards so that both start
    # from the same database.
    peer = bench_excel_peer(rows[:PEER_ROWS], workdir)
    connection.close()
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "import_leads",
            str(source),
            "--channel",
            channel.code,
            "--report",
            str(workdir / "report.xlsx"),
            "--json",
        ],
        cwd=settings.BASE_DIR,
        env={**os.environ},
        capture_output=True,
        text=True,
        check=True,
    )
    stats = json.loads(result.stdout.strip().splitlines()[-1])
    figures = {
        "excel_100k_seconds": stats["seconds"],
        "excel_100k_rows_per_s": EXCEL_ROWS / stats["seconds"],
        "excel_peak_rss_mb": stats["peak_rss_mb"] + stats["reader_peak_rss_mb"],
        "excel_main_rss_mb": stats["peak_rss_mb"],
        "excel_reader_rss_mb": stats["reader_peak_rss_mb"],
        "excel_report_seconds": stats["report_seconds"],
        "excel_file_mb": source.stat().st_size / 1024 / 1024,
        "excel_channel": channel.code,
        "excel_outcomes": stats["counts"],
    }
    figures.update(peer)
    figures["excel_vs_peer"] = figures["excel_peer_100k_seconds"] / figures["excel_100k_seconds"]
    for path in workdir.iterdir():
        path.unlink()
    workdir.rmdir()
    return figures


def bench_excel_peer(rows: list[dict], workdir: Path) -> dict:
    source = workdir / "peer-10k.xlsx"
    _write_sheet(source, PEER_HEADER, rows)
    before = Customer.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    started = time.perf_counter()
    dataset = XLSX().create_dataset(source.read_bytes())
    result = PeerCustomerResource().import_data(dataset, dry_run=False)
    seconds = time.perf_counter() - started
    Customer.objects.filter(pk__gt=before, leads__isnull=True, raw_leads__isnull=True).delete()
    return {
        "excel_peer_10k_seconds": seconds,
        "excel_peer_100k_seconds": seconds * EXCEL_ROWS / len(rows),
        "excel_peer_extrapolated": True,
        "excel_peer_rows_ok": result.totals.get("new", 0),
        "excel_peer_rows_failed": len(result.row_errors()) + len(result.invalid_rows),
    }
