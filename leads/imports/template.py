"""The lead import template (.xlsx): Chinese headers, one example row, drop-down lists filled
from the live channels, dealers and models, and an instructions sheet.

HQ gets every column; a dealer's template has no channel and dealer columns (a dealer's rows
are its own, through the dealer-upload channel).
"""

from __future__ import annotations

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from channels.models import Channel
from dealers.models import Dealer
from leads.imports.columns import EXAMPLE_MARK, TIMEFRAME_CHOICES, template_columns
from leads.imports.reader import background_rows, max_bytes, max_rows
from leads.models import VehicleModel

DATA_SHEET = "线索"
HELP_SHEET = "填写说明"
LISTS_SHEET = "选项"
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
REQUIRED_FILL = PatternFill("solid", fgColor="FCE4D6")


def template_filename(*, dealer: Dealer | None) -> str:
    return "经销商用户销售线索导入模板.xlsx" if dealer is not None else "线索导入模板.xlsx"


def lead_template_build(out, *, dealer: Dealer | None = None) -> None:
    """Write the template to `out` (a path or a binary file). Always in Chinese, whatever the
    user's language: its headers are what the importer reads back."""
    with translation.override("zh-hans"):
        _build(out, dealer=dealer)


def _build(out, *, dealer: Dealer | None) -> None:
    columns = template_columns(dealer=dealer is not None)
    channels = list(
        Channel.objects.filter(level=Channel.Level.SOURCE, is_active=True)
        .select_related("parent__parent")
        .order_by("parent__parent__sort_order", "parent__sort_order", "sort_order", "code")
    )
    dealers = list(Dealer.objects.filter(status=Dealer.Status.ACTIVE).order_by("code"))
    models = list(VehicleModel.objects.filter(is_active=True).select_related("series"))

    book = Workbook()
    sheet = book.active
    sheet.title = DATA_SHEET
    lists = book.create_sheet(LISTS_SHEET)
    ranges = _fill_lists(lists, channels, dealers, models)
    _fill_help(book.create_sheet(HELP_SHEET, 1), columns, dealer)

    for index, column in enumerate(columns, start=1):
        letter = get_column_letter(index)
        header = str(column.header) + ("*" if column.required else "")
        cell = sheet.cell(row=1, column=index, value=header)
        cell.font = Font(bold=True)
        cell.fill = REQUIRED_FILL if column.required else HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center")
        sheet.column_dimensions[letter].width = column.width
        # Text, so that Excel keeps 13800138000 as it is (not 1.38001E+10).
        sheet.column_dimensions[letter].number_format = "@"
        source = ranges.get(column.key)
        if source:
            validation = DataValidation(
                type="list",
                formula1=source[0],
                allow_blank=True,
                showDropDown=False,
                showErrorMessage=True,
                errorStyle=source[1],
                errorTitle=_("请从下拉列表选择"),
                error=_("该值不在下拉列表中，请核对“选项”工作表。"),
            )
            validation.add(f"{letter}2:{letter}{max_rows() + 1}")
            sheet.add_data_validation(validation)
    sheet.freeze_panes = "A2"
    sheet.row_dimensions[1].height = 22
    example = _example(columns, channels, dealers, models, dealer)
    for index, column in enumerate(columns, start=1):
        cell = sheet.cell(row=2, column=index, value=example.get(column.key, ""))
        cell.number_format = "@"
        cell.font = Font(color="808080", italic=True)
    book.save(out)


def _fill_lists(lists, channels, dealers, models) -> dict[str, tuple[str, str]]:
    """The lists sheet; returns key -> (validation formula, error style)."""
    heads = [
        _("渠道编码"),
        _("渠道（一级 › 二级 › 三级）"),
        _("经销商代码"),
        _("经销商"),
        _("车型代码"),
        _("车型"),
        _("预计购车时间"),
        _("客户同意经销商联系"),
    ]
    for index, head in enumerate(heads, start=1):
        cell = lists.cell(row=1, column=index, value=head)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
    widths = [20, 36, 12, 40, 18, 30, 14, 18]
    for index, width in enumerate(widths, start=1):
        lists.column_dimensions[get_column_letter(index)].width = width
    for row, channel in enumerate(channels, start=2):
        lists.cell(row=row, column=1, value=channel.code)
        lists.cell(row=row, column=2, value=" › ".join(channel.path_names()))
    for row, dealer in enumerate(dealers, start=2):
        lists.cell(row=row, column=3, value=dealer.code)
        lists.cell(row=row, column=4, value=f"{dealer.name}（{dealer.city}）")
    for row, model in enumerate(models, start=2):
        lists.cell(row=row, column=5, value=model.code)
        lists.cell(row=row, column=6, value=model.name)
    for row, word in enumerate(TIMEFRAME_CHOICES, start=2):
        lists.cell(row=row, column=7, value=word)
    for row, word in enumerate(("是", "否"), start=2):
        lists.cell(row=row, column=8, value=word)
    lists.freeze_panes = "A2"

    def span(column: str, count: int) -> str:
        return f"'{LISTS_SHEET}'!${column}$2:${column}${max(2, count + 1)}"

    return {
        "channel_code": (span("A", len(channels)), "warning"),
        "dealer_code": (span("C", len(dealers)), "warning"),
        "model_code": (span("E", len(models)), "warning"),
        "purchase_timeframe": (span("G", len(TIMEFRAME_CHOICES)), "stop"),
        "consent": (span("H", 2), "stop"),
    }


def _example(columns, channels, dealers, models, dealer) -> dict:
    now = timezone.localtime().replace(second=0, microsecond=0)
    example = {
        "external_id": "CZ-0001",
        "mobile": "13800138000",
        "name": "张先生",
        "channel_code": channels[0].code if channels else "",
        "dealer_code": dealers[0].code if dealers else "",
        "model_code": models[0].code if models else "",
        "province": (dealer or (dealers[0] if dealers else None)).province if dealers else "",
        "city": (dealer or (dealers[0] if dealers else None)).city if dealers else "",
        "purchase_timeframe": TIMEFRAME_CHOICES[1],
        "consent": "是",
        "submitted_at": now.strftime("%Y-%m-%d %H:%M"),
        "remark": EXAMPLE_MARK,
    }
    return example


def _fill_help(sheet, columns, dealer) -> None:
    sheet.column_dimensions["A"].width = 22
    sheet.column_dimensions["B"].width = 90
    title = (
        _("经销商用户销售线索导入模板 · 填写说明")
        if dealer is not None
        else _("线索导入模板 · 填写说明")
    )
    sheet.cell(row=1, column=1, value=title).font = Font(bold=True, size=14)
    rules = [
        _("在“线索”工作表填写，一行一条线索，表头（第一行）不要修改、不要删除。"),
        _("带 * 的列必须保留；手机号必须填写，其余列可以留空。"),
        _("第二行是示例（备注为“%(mark)s”），导入时会自动跳过，可以直接覆盖。")
        % {"mark": EXAMPLE_MARK},
        _("不要合并单元格、不要使用公式；手机号列请保持“文本”格式。"),
        _("渠道、经销商、车型的代码请从下拉列表选择；全部代码和名称见“选项”工作表。"),
        _(
            "单个文件最多 %(rows)s 行、%(mb)s MB；"
            "超过 %(bg)s 行的文件在后台导入，可以离开页面稍后查看进度。"
        )
        % {
            "rows": f"{max_rows():,}",
            "mb": max_bytes() // 1024 // 1024,
            "bg": f"{background_rows():,}",
        },
        _("上传后先预览每一行的结果（新建 / 合并到已有线索 / 无效及原因），确认后才导入。"),
        _("同一文件重复上传不会重复导入；同一行（线索编号相同或内容相同）再次上传不会重复计数。"),
    ]
    if dealer is not None:
        rules.insert(
            1,
            _("上传的线索全部归属本经销商（%(dealer)s），渠道为“经销商Excel上传”。")
            % {"dealer": dealer.name},
        )
    row = 3
    for number, rule in enumerate(rules, start=1):
        sheet.cell(row=row, column=1, value=_("规则 %(n)s") % {"n": number})
        sheet.cell(row=row, column=2, value=rule).alignment = Alignment(wrap_text=True)
        row += 1
    row += 1
    for index, head in enumerate((_("列"), _("说明")), start=1):
        cell = sheet.cell(row=row, column=index, value=head)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
    for column in columns:
        row += 1
        sheet.cell(row=row, column=1, value=str(column.header) + ("*" if column.required else ""))
        sheet.cell(row=row, column=2, value=str(column.help)).alignment = Alignment(wrap_text=True)
