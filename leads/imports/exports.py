"""What every export of personal data obeys: mobiles masked unless the user may see them, cells
that a spreadsheet would run as formulas neutralised, and an audit row (who, when, what, which
filter, how many rows)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from leads.imports.xlsx import safe_text
from leads.masking import MOBILE_IN_TEXT as _MOBILE_IN_TEXT
from leads.masking import mask_mobiles
from leads.models import ExportLog

FULL_MOBILE_PERMISSION = "leads.view_full_mobile"


def may_see_full_mobiles(user) -> bool:
    return bool(user is not None and user.has_perm(FULL_MOBILE_PERMISSION))


def safe_cell(value, *, mask: bool):
    """An exported cell: formulas neutralised, mobiles masked when asked; numbers, dates and
    empty cells are returned unchanged."""
    if isinstance(value, str):
        if mask:
            value = mask_mobiles(value)
        return safe_text(value)
    if mask and isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
        if _MOBILE_IN_TEXT.fullmatch(text):
            return mask_mobiles(text)
    return value


def export_log_record(
    *,
    user,
    model: str,
    model_label: str = "",
    filters: str = "",
    row_count: int = 0,
    file_format: str = "xlsx",
    personal_data: bool = True,
    mobiles_masked: bool = True,
    purpose: str = "",
) -> ExportLog:
    """Write the audit row of one export (every export of personal data is logged)."""
    return ExportLog.objects.create(
        user=user if getattr(user, "pk", None) else None,
        username=getattr(user, "get_username", lambda: "")() or str(_("系统")),
        model=model[:100],
        model_label=str(model_label)[:100],
        filters=filters[:5000],
        row_count=row_count,
        file_format=file_format[:10],
        personal_data=personal_data,
        mobiles_masked=mobiles_masked,
        purpose=str(purpose)[:200],
    )
