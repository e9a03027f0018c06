"""Reading a sheet ahead of the import: rows parsed, mapped to intake `data`, given their
stable external id, mobiles normalised, and cut into chunks.

For big files this runs in a forked child process that streams the chunks through a pipe:
parsing and mapping (~6 s of CPU per 100k rows) then run on the second core while the parent
decides and writes the previous chunk. The pipe's buffer bounds the read-ahead, so memory
stays flat. The child never touches the database and leaves with os._exit (no atexit hooks,
no closing of the parent's connections).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from leads.imports import columns as cols
from leads.imports.engine import CHUNK_ROWS
from leads.imports.reader import FileRefused, column_index, open_table, row_of
from leads.phone import normalise_mobile

# Warnings that concern many rows at once are said once for the file, with a count.
FILE_LEVEL_WARNINGS = {"mobile_number", "date_serial"}
FORK_FROM_ROWS = 20_000


@dataclass
class SheetSpec:
    """What reading a job's file needs (picklable, no database)."""

    name: str
    dealer_kind: bool
    scope: str  # the dealer code of a dealer import, in the rows' content ids
    merged_cells: list[str]
    resume_after: int = 0
    path: str = ""


@dataclass
class ChunkInput:
    rows: list[tuple]  # (row number, data, channel code, row-level warning codes)
    blank: int = 0
    warnings: Counter = field(default_factory=Counter)  # file-level warning counts
    seen: int = 0  # data rows read so far, blank ones included
    mobiles: dict[str, str] = field(default_factory=dict)  # as given -> normalised


def read_chunks(spec: SheetSpec, fileobj) -> Iterator[ChunkInput]:
    table = open_table(fileobj, spec.name)
    rows_iter = table.rows()
    layout = cols.find_layout(rows_iter, dealer=spec.dealer_kind)
    merges = _MergeFill.of(spec.merged_cells)
    occurrences: Counter = Counter()
    mobiles: dict[str, str] = {}
    chunk = ChunkInput(rows=[])
    seen = 0
    for sheet_row in rows_iter:
        if sheet_row.number <= layout.header_row:
            continue
        seen += 1
        if merges:
            merges.apply(sheet_row)
        mapped = cols.map_row(sheet_row, layout)
        if mapped.blank:
            if seen > spec.resume_after:
                chunk.blank += 1
        else:
            data = mapped.data
            if "external_id" not in data:
                digest = cols.content_digest(data, scope=spec.scope)
                key = (mapped.channel_code, digest)
                occurrences[key] += 1
                data["external_id"] = cols.content_external_id(digest, occurrences[key])
            if seen > spec.resume_after:
                given = data.get("mobile")
                if isinstance(given, str) and given not in mobiles:
                    mobiles[given] = chunk.mobiles[given] = normalise_mobile(given)
                elif isinstance(given, str):
                    chunk.mobiles[given] = mobiles[given]
                row_warnings = []
                for code in mapped.warnings:
                    if code in FILE_LEVEL_WARNINGS:
                        chunk.warnings[f"warning:{code}"] += 1
                    else:
                        row_warnings.append(code)
                chunk.rows.append((mapped.number, data, mapped.channel_code, row_warnings))
        if len(chunk.rows) >= CHUNK_ROWS:
            chunk.seen = seen
            yield chunk
            chunk = ChunkInput(rows=[])
    if seen > spec.resume_after or chunk.rows or chunk.blank:
        chunk.seen = seen
        yield chunk


def read_ahead(spec: SheetSpec, open_file) -> Iterator[ChunkInput]:
    """The chunks of the file, read in a child process when the file is big and on disk."""
    if not (spec.path and hasattr(os, "fork") and _rows_hint(spec) >= FORK_FROM_ROWS):
        with open_file() as fileobj:
            yield from read_chunks(spec, fileobj)
        return
    yield from _forked(spec)


def _rows_hint(spec: SheetSpec) -> int:
    try:
        return os.path.getsize(spec.path) // 40  # ~40 bytes of zipped xlsx per row
    except OSError:
        return 0


def _forked(spec: SheetSpec) -> Iterator[ChunkInput]:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        code = 0
        try:
            os.close(read_end)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            with os.fdopen(write_end, "wb") as out, open(spec.path, "rb") as fileobj:
                try:
                    for chunk in read_chunks(spec, fileobj):
                        pickle.dump(("chunk", chunk), out, protocol=pickle.HIGHEST_PROTOCOL)
                except FileRefused as refusal:
                    pickle.dump(("refused", str(refusal)), out)
                except BaseException as error:  # noqa: BLE001 - reported to the parent
                    pickle.dump(("crash", f"{error.__class__.__name__}: {error}"), out)
                    code = 1
        finally:
            os._exit(code)
    os.close(write_end)
    finished = False
    try:
        with os.fdopen(read_end, "rb") as source:
            while True:
                try:
                    kind, payload = pickle.load(source)
                except EOFError:
                    break
                if kind == "refused":
                    raise FileRefused(payload)
                if kind == "crash":
                    raise RuntimeError(_("读取文件失败：%(e)s") % {"e": payload})
                yield payload
        finished = True
    finally:
        if not finished:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        os.waitpid(pid, 0)


class _MergeFill:
    """Merged cells: the value of a merged range's top-left cell, filled into every row of the
    range (what the person who merged them meant)."""

    def __init__(self, ranges: list[tuple[int, int, int, int]]):
        self.ranges = ranges
        self.values: dict[int, object] = {}

    @classmethod
    def of(cls, refs: list[str]) -> _MergeFill | None:
        ranges = []
        for ref in refs or []:
            start, _sep, end = ref.partition(":")
            end = end or start
            ranges.append((row_of(start), column_index(start), row_of(end), column_index(end)))
        return cls(ranges) if ranges else None

    def apply(self, row) -> None:
        for index, (top, left, bottom, _right) in enumerate(self.ranges):
            if top == row.number:
                self.values[index] = row.values[left] if left < len(row.values) else None
            elif top < row.number <= bottom:
                value = self.values.get(index)
                if value is None:
                    continue
                # Down the range's first column only: a value merged across columns belongs to
                # the first of them.
                if len(row.values) <= left:
                    row.values.extend([None] * (left + 1 - len(row.values)))
                if row.values[left] in (None, ""):
                    row.values[left] = value
