"""Spreadsheets built byte by byte (formulas with cached values, merged cells, date styles,
encrypted and legacy files), and the fixtures of the import tests."""

import io
import zipfile
from xml.sax.saxutils import escape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from tests.factories import ChannelFactory, DealerFactory, UserFactory, VehicleModelFactory

HEADER = ["手机号", "姓名", "经销商代码", "车型代码", "预计购车时间", "客户同意经销商联系"]


def _col(index: int) -> str:
    name, index = "", index + 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def xlsx_bytes(rows, *, merged=(), sheet="线索", extra_sheets=()) -> bytes:
    """A minimal .xlsx. A cell is a value, or ("f", formula, cached or None), or
    ("date", serial) for a date-styled number, or ("cjkdate", serial)."""
    cells_xml = []
    for r, row in enumerate(rows, start=1):
        cells = []
        for c, value in enumerate(row):
            ref = f"{_col(c)}{r}"
            if value is None:
                continue
            if isinstance(value, tuple) and value[0] == "f":
                cached = value[2]
                inner = f"<f>{escape(value[1])}</f>"
                if cached is None:
                    cells.append(f'<c r="{ref}">{inner}</c>')
                elif isinstance(cached, str):
                    cells.append(f'<c r="{ref}" t="str">{inner}<v>{escape(cached)}</v></c>')
                else:
                    cells.append(f'<c r="{ref}">{inner}<v>{cached}</v></c>')
            elif isinstance(value, tuple) and value[0] in ("date", "cjkdate"):
                style = 1 if value[0] == "date" else 2
                cells.append(f'<c r="{ref}" s="{style}"><v>{value[1]}</v></c>')
            elif isinstance(value, int | float):
                cells.append(f'<c r="{ref}"><v>{value}</v></c>')
            else:
                cells.append(f'<c r="{ref}" t="inlineStr"><is><t>{escape(value)}</t></is></c>')
        cells_xml.append(f'<row r="{r}">{"".join(cells)}</row>')
    merge_xml = ""
    if merged:
        refs = "".join(f'<mergeCell ref="{ref}"/>' for ref in merged)
        merge_xml = f'<mergeCells count="{len(merged)}">{refs}</mergeCells>'
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    sheet_xml = (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet {ns}><sheetData>'
        f"{''.join(cells_xml)}</sheetData>{merge_xml}</worksheet>"
    )
    names = [sheet, *extra_sheets]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="xml" ContentType="application/xml"/></Types>',
        )
        sheets = "".join(
            f'<sheet name="{n}" sheetId="{i}" r:id="rId{i}"/>' for i, n in enumerate(names, 1)
        )
        z.writestr(
            "xl/workbook.xml",
            f'<?xml version="1.0"?><workbook {ns} xmlns:r="http://schemas.openxmlformats.org/'
            f'officeDocument/2006/relationships"><sheets>{sheets}</sheets></workbook>',
        )
        rels = "".join(
            f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/'
            f'2006/relationships/worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, len(names) + 1)
        )
        rels += (
            '<Relationship Id="rIdS" Type="http://schemas.openxmlformats.org/officeDocument/'
            '2006/relationships/styles" Target="styles.xml"/>'
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            f'package/2006/relationships">{rels}</Relationships>',
        )
        z.writestr(
            "xl/styles.xml",
            f'<?xml version="1.0"?><styleSheet {ns}><cellXfs count="3">'
            '<xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="31"/></cellXfs></styleSheet>',
        )
        z.writestr("xl/worksheets/sheet1.xml", sheet_xml)
        for i in range(2, len(names) + 1):
            z.writestr(
                f"xl/worksheets/sheet{i}.xml",
                f'<?xml version="1.0"?><worksheet {ns}><sheetData/></worksheet>',
            )
    return buffer.getvalue()


def openpyxl_bytes(rows) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "线索"
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def uploaded(content: bytes, name: str = "leads.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


@pytest.fixture
def channel(db):
    return ChannelFactory(code="AUTOSHOW_T", name="测试车展", needs_cleansing=True)


@pytest.fixture
def dealer_a(db):
    return DealerFactory(code="DA01", name="甲店")


@pytest.fixture
def model_m1(db):
    return VehicleModelFactory(code="M1")


@pytest.fixture
def uploader(db):
    return UserFactory(username="importer", is_staff=True, is_superuser=True)
