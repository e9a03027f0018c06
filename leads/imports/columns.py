"""The columns of the lead template, the Chinese headers people really type, and the mapping
of one sheet row to the `data` dict of `lead_intake`."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl.utils.datetime import WINDOWS_EPOCH, from_excel

from leads.imports.reader import FileRefused, SheetRow
from leads.imports.xlsx import FORMULA_STARTS


@dataclass(frozen=True)
class Column:
    key: str  # the key in lead_intake's `data` ("channel_code" is the import's own)
    header: str  # the header of the template
    aliases: tuple[str, ...] = ()
    required: bool = False
    hq_only: bool = False  # not in the dealer template: a dealer's rows are its own
    help: str = ""
    width: int = 14


COLUMNS: tuple[Column, ...] = (
    Column(
        "external_id",
        gettext_lazy("线索编号"),
        ("线索id", "渠道线索id", "渠道线索编号", "编号", "序号id"),
        help=gettext_lazy("可选。同一渠道内唯一；再次上传同一编号不会重复计数。"),
        width=16,
    ),
    Column(
        "mobile",
        gettext_lazy("手机号"),
        ("手机号码", "手机", "客户手机号", "客户手机", "联系电话", "电话", "联系方式", "mobile"),
        required=True,
        help=gettext_lazy("必填。11位中国大陆手机号；请把这一列设为“文本”，避免变成科学计数法。"),
        width=16,
    ),
    Column(
        "name",
        gettext_lazy("姓名"),
        ("客户姓名", "客户名称", "客户", "名字", "name"),
        required=True,
        help=gettext_lazy("必填列，可以留空。"),
        width=12,
    ),
    Column(
        "channel_code",
        gettext_lazy("渠道编码"),
        ("渠道代码", "三级渠道编码", "渠道"),
        hq_only=True,
        help=gettext_lazy("可选，下拉选择。留空时使用上传时选择的渠道。"),
        width=18,
    ),
    Column(
        "dealer_code",
        gettext_lazy("经销商代码"),
        ("经销商编码", "经销商", "门店代码", "门店编码", "dealer"),
        hq_only=True,
        help=gettext_lazy("可选，下拉选择。客户选择或确认的经销商；留空则线索留在总部。"),
        width=14,
    ),
    Column(
        "model_code",
        gettext_lazy("车型代码"),
        ("意向车型代码", "车型编码", "意向车型", "车型"),
        help=gettext_lazy("可选，下拉选择。"),
        width=16,
    ),
    Column("province", gettext_lazy("省份"), ("省",), help=gettext_lazy("可选。"), width=10),
    Column("city", gettext_lazy("城市"), ("市", "所在城市"), help=gettext_lazy("可选。"), width=10),
    Column(
        "purchase_timeframe",
        gettext_lazy("预计购车时间"),
        ("购车时间", "购车周期", "计划购车时间"),
        help=gettext_lazy("可选，下拉选择：两周内、一个月内、三个月内、六个月内、半年以上。"),
        width=14,
    ),
    Column(
        "consent",
        gettext_lazy("客户同意经销商联系"),
        ("同意经销商联系", "同意联系", "是否同意联系", "客户同意"),
        help=gettext_lazy("可选，下拉选择“是/否”。只有“是”时线索才能派发给所填经销商。"),
        width=12,
    ),
    Column(
        "submitted_at",
        gettext_lazy("留资时间"),
        ("提交时间", "留资日期", "日期", "时间"),
        help=gettext_lazy("可选。如 2024-06-01 10:30；Excel 日期格式也可以。"),
        width=18,
    ),
    Column("remark", gettext_lazy("备注"), ("说明", "留言"), help=gettext_lazy("可选。"), width=24),
)

HEADER_SEARCH_ROWS = 10
# The template's example row carries this remark; a row with it is skipped, not imported.
EXAMPLE_MARK = "示例行（导入时自动跳过）"
TIMEFRAME_CHOICES = ("两周内", "一个月内", "三个月内", "六个月内", "半年以上")
_PAREN = re.compile(r"[（(][^（）()]*[）)]")
_CODE_IN_PARENS = re.compile(r"[（(]\s*([^（）()\s]+)\s*[）)]\s*$")
_SCIENTIFIC = re.compile(r"^\s*([0-9])(?:\.([0-9]+))?[eE]\+?([0-9]+)\s*$")
_CODE_KEYS = ("channel_code", "dealer_code", "model_code")
_ISO_DATE = re.compile(
    r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$"
)
_DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%Y.%m.%d %H:%M",
    "%Y.%m.%d",
    "%Y%m%d",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日%H:%M",
    "%Y年%m月%d日",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
)

WARNINGS = {
    "formula": gettext_lazy("含公式，已按计算结果导入"),
    "formula_empty": gettext_lazy("公式没有计算结果，该单元格按空值处理"),
    "cell_error": gettext_lazy("单元格是错误值（如 #N/A），按空值处理"),
    "mobile_scientific": gettext_lazy(
        "手机号被 Excel 存成了科学计数法，位数已丢失；请把手机号列设为“文本”后重新填写"
    ),
    "mobile_number": gettext_lazy("手机号以数字格式保存，已转换为文本"),
    "date_unrecognised": gettext_lazy("留资时间无法识别，已按原文保存"),
    "date_serial": gettext_lazy("留资时间是 Excel 日期序号，已转换为日期"),
    "dealer_ignored": gettext_lazy("经销商导入：行中的经销商代码被忽略，线索归属本经销商"),
}


def template_columns(*, dealer: bool) -> list[Column]:
    return [c for c in COLUMNS if not (dealer and c.hq_only)]


def _normal_header(text) -> str:
    text = unicodedata.normalize("NFKC", str(text or ""))
    text = _PAREN.sub("", text)
    return re.sub(r"[\s*＊:：]", "", text).lower()


_BY_HEADER: dict[str, Column] = {}
for _column in COLUMNS:
    for _alias in (str(_column.header), *_column.aliases):
        _BY_HEADER.setdefault(_normal_header(_alias), _column)


@dataclass
class Layout:
    """Where each known column is in the sheet, and what the file-level notes are."""

    header_row: int
    positions: dict[str, int]  # key -> column index
    notes: list[str] = field(default_factory=list)
    header: list = field(default_factory=list)  # the header cells as written


def find_layout(rows, *, dealer: bool) -> Layout:
    """Find the header among the first rows of `rows` (an iterator, left just after the
    header); title rows above the header are allowed."""
    seen: list[SheetRow] = []
    for row in rows:
        seen.append(row)
        columns = [_BY_HEADER.get(_normal_header(v)) if v is not None else None for v in row.values]
        if any(c is not None and c.key == "mobile" for c in columns):
            return _layout(row, columns, dealer=dealer)
        if len(seen) >= HEADER_SEARCH_ROWS:
            break
    if not seen or all(not any(v not in (None, "") for v in r.values) for r in seen):
        raise FileRefused(_("文件中没有数据。"))
    best = max(seen, key=lambda r: sum(v not in (None, "") for v in r.values))
    columns = [_BY_HEADER.get(_normal_header(v)) if v is not None else None for v in best.values]
    _layout(best, columns, dealer=dealer)  # raises with the missing required columns
    raise AssertionError("unreachable")


def _layout(row: SheetRow, columns: list[Column | None], *, dealer: bool) -> Layout:
    positions: dict[str, int] = {}
    extra: list[str] = []
    ignored: list[str] = []
    duplicated: list[str] = []
    for index, (value, column) in enumerate(zip(row.values, columns, strict=False)):
        if value in (None, ""):
            continue
        if column is None:
            extra.append(str(value).strip())
        elif column.key in positions:
            duplicated.append(str(value).strip())
        elif dealer and column.hq_only:
            ignored.append(str(value).strip())
        else:
            positions[column.key] = index
    missing = [str(c.header) for c in COLUMNS if c.required and c.key not in positions]
    if missing:
        raise FileRefused(
            _("缺少必填列：%(columns)s。请使用导入模板，不要修改或删除表头。"),
            columns="、".join(missing),
        )
    notes = []
    if row.number > 1:
        notes.append(_("表头在第 %(row)s 行，前面的行已跳过。") % {"row": row.number})
    if extra:
        notes.append(_("以下列不在模板中，已忽略：%(columns)s。") % {"columns": "、".join(extra)})
    if duplicated:
        notes.append(
            _("以下列重复出现，只读取第一次出现的列：%(columns)s。")
            % {"columns": "、".join(duplicated)}
        )
    if ignored:
        notes.append(
            _("经销商导入时以下列被忽略（线索归属本经销商、渠道为经销商上传）：%(columns)s。")
            % {"columns": "、".join(ignored)}
        )
    return Layout(header_row=row.number, positions=positions, notes=notes, header=row.values)


@dataclass
class MappedRow:
    number: int
    data: dict
    channel_code: str = ""
    warnings: list[str] = field(default_factory=list)  # codes of WARNINGS
    blank: bool = False

    @property
    def warning_texts(self) -> list[str]:
        return [str(WARNINGS[code]) for code in self.warnings]


def map_row(row: SheetRow, layout: Layout) -> MappedRow:
    """One sheet row as intake `data`: plain strings, empty cells left out."""
    data: dict = {}
    warnings: list[str] = []
    values = row.values
    width = len(values)
    for key, index in layout.positions.items():
        value = values[index] if index < width else None
        if index in row.errors:
            warnings.append("cell_error")
            continue
        if index in row.formulas:
            warnings.append("formula" if value not in (None, "") else "formula_empty")
        if value is None or value == "":
            continue
        text = _as_text(key, value, warnings)
        if text:
            data[key] = text
    mapped = MappedRow(number=row.number, data=data, warnings=list(dict.fromkeys(warnings)))
    mapped.channel_code = data.pop("channel_code", "")
    mapped.blank = (not data and not mapped.channel_code) or data.get("remark") == EXAMPLE_MARK
    return mapped


def _as_text(key: str, value, warnings: list[str]) -> str:
    if key == "mobile":
        return _mobile_text(value, warnings)
    if key == "submitted_at":
        return _date_text(value, warnings)
    if key == "consent" and isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    text = str(value).strip()
    if text[:1] == "'" and text[1:2] in FORMULA_STARTS:
        text = text[1:]  # an exported or reported cell, neutralised; the value is what follows
    if key in _CODE_KEYS:
        # "凌云 1.5T 舒适版（LY-15T-CS）" as people copy it from the lists sheet.
        match = _CODE_IN_PARENS.search(text)
        if match:
            text = match.group(1)
    return text


def _mobile_text(value, warnings: list[str]) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        warnings.append("mobile_number")
        return str(value)
    if isinstance(value, float):
        warnings.append("mobile_number")
        return str(int(value)) if value.is_integer() else repr(value)
    text = str(value).strip()
    match = _SCIENTIFIC.match(text)
    if match:
        # 1.38001E+10 keeps 6 of 11 digits: the number cannot be recovered. Only a mantissa with
        # every digit (1.3800138000E+10) converts back exactly.
        digits = len(match.group(1) + (match.group(2) or ""))
        if digits >= int(match.group(3)) + 1:
            try:
                warnings.append("mobile_number")
                return str(int(Decimal(text)))
            except InvalidOperation:
                pass
        warnings.append("mobile_scientific")
    return text


def _date_text(value, warnings: list[str]) -> str:
    if isinstance(value, datetime):
        return _stamp(value)
    if isinstance(value, date):
        return _stamp(datetime.combine(value, time()))
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _serial(value, warnings, str(value))
    text = str(value).strip()
    match = _ISO_DATE.match(text)
    if match:  # the common case, without trying every format
        year, month, day, hour, minute, second = match.groups()
        try:
            stamp = datetime(
                int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0)
            )
        except ValueError:
            pass
        else:
            return stamp.strftime("%Y-%m-%d %H:%M:%S")
    text = unicodedata.normalize("NFKC", text)
    if re.fullmatch(r"\d{5}(\.\d+)?", text):
        return _serial(float(text), warnings, text)
    cleaned = re.sub(r"\s+", " ", text.replace("T", " ").rstrip("Z"))
    for fmt in _DATE_FORMATS:
        try:
            return _stamp(datetime.strptime(cleaned, fmt))
        except ValueError:
            continue
    warnings.append("date_unrecognised")
    return text


def _serial(number: float, warnings: list[str], original: str) -> str:
    if 20000 <= number <= 80000:  # 1954 … 2119: a plausible date serial
        warnings.append("date_serial")
        return _stamp(from_excel(number, WINDOWS_EPOCH))
    warnings.append("date_unrecognised")
    return original


def _stamp(value: datetime) -> str:
    if timezone.is_aware(value):
        value = timezone.localtime(value).replace(tzinfo=None)
    return value.replace(microsecond=0).strftime("%Y-%m-%d %H:%M:%S")


def content_digest(data: dict, *, scope: str) -> str:
    """The digest of a row's content (and of the dealer it is forced to, if any)."""
    canonical = "\x1e".join(f"{key}\x1f{value}" for key, value in sorted(data.items()))
    return hashlib.blake2b(f"{scope}\x1d{canonical}".encode(), digest_size=16).hexdigest()


def content_external_id(digest: str, occurrence: int) -> str:
    """A stable id for a row without its own 线索编号: the same content uploaded again (even in
    a re-saved file) gets the same id, so intake replays it instead of counting it twice.
    Identical rows within one file are told apart by their occurrence."""
    return f"XL-{digest}-{occurrence}"
