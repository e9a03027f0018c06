"""Erasure in the files of Excel/CSV imports: the upload is kept (the import's result report
re-reads it), so the customer's rows are blanked in the stored file itself.

The file is written again as an .xlsx (whatever it was uploaded as) with every row where it was
(the report matches each sheet row to its ImportRow by its number) and every non-empty cell of
the customer's rows replaced by the erased marker. The new file is stored inside the erasure's
transaction; the old one is deleted only once that transaction commits. If the erasure fails,
the caller removes the new files again (`stored`), and the job keeps pointing at its old file.
(Called inside a caller's own transaction that later rolls back, a new file stays behind
unused; it holds nothing of the customer, and the old file is still there and still used.)
"""

from __future__ import annotations

import logging
import tempfile
from collections import defaultdict
from functools import partial

from django.core.files import File
from django.db import transaction

from leads.imports.reader import FileRefused, open_table
from leads.imports.xlsx import XlsxWriter
from leads.models import ImportJob, ImportRow
from leads.services.customer_rights.common import _Scope, _Scrubber, erased_text

logger = logging.getLogger(__name__)

# The sheet of a rewritten CSV (one of the names the reader prefers).
SHEET_NAME = "线索"


def import_files_rewrite(scope: _Scope, scrub: _Scrubber, stored: list) -> int:
    """Rewrite the stored file of every import holding a row of the customer; the number of
    files rewritten (or removed, when unreadable). Each new file is appended to `stored` as
    (storage, name), for the caller to remove if the transaction does not commit."""
    numbers: dict[int, set[int]] = defaultdict(set)
    for job_id, number in ImportRow.objects.filter(scope.import_rows_q).values_list(
        "job_id", "row_number"
    ):
        numbers[job_id].add(number)
    if not numbers:
        return 0
    # Locked: two erasures in the same file must not both start from its old version.
    jobs = ImportJob.objects.select_for_update().filter(pk__in=numbers).order_by("pk")
    return sum(_rewrite(job, numbers[job.pk], scrub, stored) for job in jobs)


def _rewrite(job: ImportJob, numbers: set[int], scrub: _Scrubber, stored: list) -> bool:
    storage, old = job.file.storage, job.file.name
    if not old or not storage.exists(old):
        return False  # the file is no longer held: nothing to erase
    erased = erased_text()
    with tempfile.TemporaryFile() as out:
        try:
            _write(job, old, numbers, erased, out)
        except FileRefused:
            # Unreadable (so no report can be made from it either): it cannot be cleaned, so
            # it goes.
            logger.warning("import #%s: stored file unreadable, removed on erasure", job.pk)
            ImportJob.objects.filter(pk=job.pk).update(file="")
            transaction.on_commit(partial(_delete, storage, old))
            return True
        out.seek(0)
        job.file.save(f"{job.file_hash[:16]}.xlsx", File(out), save=False)
    new = job.file.name
    stored.append((storage, new))
    stem = job.original_name.rsplit(".", 1)[0] if "." in job.original_name else job.original_name
    # file_hash (and file_size) are left as they were: they describe the original upload, and
    # the hash is how the same file uploaded again is recognised as already imported.
    ImportJob.objects.filter(pk=job.pk).update(
        file=new,
        original_name=f"{scrub.own(stem)[:195]}.xlsx",
        file_format="xlsx",
    )
    if new != old:
        transaction.on_commit(partial(_delete, storage, old))
    return True


def _write(job: ImportJob, name: str, numbers: set[int], erased: str, out) -> None:
    """The sheet the reader reads from the file, row by row at the same numbers (a gap the
    reader skips is written as an empty row), the customer's rows erased."""
    with job.file.storage.open(name, "rb") as source, XlsxWriter(out) as book:
        table = open_table(source, job.original_name)
        with book.sheet(job.sheet_name or SHEET_NAME, freeze_header=False) as sheet:
            written = 0
            for row in table.rows():
                while written < row.number - 1:
                    sheet.row([])
                    written += 1
                values = row.values
                if row.number in numbers:
                    values = [None if value in (None, "") else erased for value in values]
                # The writer keeps numbers as numbers and writes everything else as text, never
                # as a formula (text starting like one gets a leading apostrophe).
                sheet.row(values)
                written += 1


def _delete(storage, name: str) -> None:
    try:
        storage.delete(name)
    except Exception:
        logger.exception("erasure: the old import file %s could not be deleted", name)
