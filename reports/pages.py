"""What the HQ admin page and the dealer page share: reading the filter, the freshness note,
exporting one table, and the list of leads behind a figure."""

from datetime import timedelta
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from dealers.models import Dealer, Region
from leads.models import Lead, RawLead
from reports.dashboard import build_table, definitions
from reports.definitions import MEASURE_BY_KEY, Cell, cell_filter
from reports.exports import table_response
from reports.selectors import ReportQuery
from reports.services import NIGHTLY_DAYS, last_finished_run

STALE_AFTER = timedelta(minutes=15)
PAGE_SIZE = 50


def freshness() -> dict:
    """When the rollups were last refreshed, and how fresh they are kept."""
    run = last_finished_run()
    now = timezone.now()
    return {
        "run": run,
        "stale": run is None or now - run.started_at > STALE_AFTER,
        "policy": _(
            "每5分钟增量刷新（今天、昨天及有线索变动的日期，延迟不超过5分钟）；"
            "每晚02:30全量重算最近%(days)s天。"
        )
        % {"days": NIGHTLY_DAYS},
    }


def scope_label(q: ReportQuery) -> str:
    """Whose figures these are: the dealer or region picked, else the viewer's scope."""
    if q.dealer_id:
        dealer = Dealer.objects.filter(pk=q.dealer_id).values_list("name", "code").first()
        return f"{dealer[0]}（{dealer[1]}）" if dealer else str(q.dealer_id)
    if q.region_id:
        return Region.objects.filter(pk=q.region_id).values_list("name", flat=True).first() or ""
    return q.scope.label or q.scope.kind


def filter_text(q: ReportQuery) -> str:
    """The report's filter in words (ExportLog, the export's notes)."""
    parts = [
        f"{_('期间')} {q.start:%Y-%m-%d} ~ {q.end:%Y-%m-%d}",
        f"{_('范围')} {scope_label(q)}",
    ]
    parts.append(f"{_('周期')} {q.grain}")
    parts.append(f"{_('渠道级别')} {q.channel_level}")
    return "；".join(parts)


def export(request, q: ReportQuery, links, key: str):
    table = build_table(q, links, key)
    if table is None:
        raise Http404(_("没有这张报表。"))
    text = filter_text(q)
    notes = [
        (_("报表"), str(table.title)),
        (_("筛选条件"), text),
        (_("导出时间"), timezone.localtime().strftime("%Y-%m-%d %H:%M")),
        (_("导出人"), request.user.get_username()),
        *definitions(),
    ]
    return table_response(table=table, user=request.user, notes=notes, filters=f"{key}：{text}")


def export_url(request, key: str) -> str:
    params = request.GET.copy()
    params["export"] = key
    return f"?{params.urlencode()}"


def drill_page(request, cell: Cell) -> dict:
    """The rows behind a figure, a page at a time, with the phone numbers masked."""
    measure = MEASURE_BY_KEY[cell.measure]
    if cell.source == "raw":
        qs = (
            RawLead.objects.filter(cell_filter(cell))
            .select_related("channel", "lead__dealer", "lead__advisor")
            .order_by("-received_at", "-id")
        )
    else:
        qs = (
            Lead.objects.filter(cell_filter(cell))
            .select_related("customer", "channel", "dealer", "advisor", "intended_model")
            .order_by("-created_at", "-id")
        )
    paginator = Paginator(qs, PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return {
        "measure": measure,
        "cell": cell,
        "page": page,
        "count": paginator.count,
        "raw": cell.source == "raw",
        "base_query": urlencode(list(params.lists()), doseq=True),
    }
