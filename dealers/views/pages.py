"""The dealer pages: the manager's inbox, team, defeat approvals, leads and settings; the
advisor's day and the pool; the lead page. Views parse, call one service, render."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from config.errors import DomainError
from dealers.access import dealer_page, is_manager, leads_visible_to, member_of
from dealers.forms import (
    CustomerCorrectionForm,
    DefeatDecisionForm,
    DefeatRequestForm,
    FollowUpForm,
    PolicyForm,
    ReassignForm,
    RecallForm,
)
from dealers.selectors import (
    advisor_today,
    dealer_leads,
    dealer_timeliness,
    defeat_queue,
    followed_within_24h,
    inbox,
    pool,
)
from dealers.views.common import report_outcomes, run_service, selected_ids
from leads import services
from leads.forms import RevealForm, reveal_panel
from leads.models import OWNED_STATUSES, POOL_STATUSES, MobileReveal, Status
from leads.security.lockout import LoginForm, client_ip
from leads.selectors import lead_timeline
from leads.services.assignment import (
    advisor_stats,
    assignment_policy_update,
    grab_allowance,
    lead_grab,
    lead_reassign,
    leads_assign_batch,
    leads_recall_batch,
    policy_for,
)
from leads.services.reveal import mobile_reveal

PAGE = 30


class DealerLoginView(auth_views.LoginView):
    """Dealer staff already signed in go to their start page; anyone else (an HQ user) sees
    the form, to sign in as dealer staff."""

    template_name = "dealer/login.html"
    authentication_form = LoginForm

    def get(self, request, *args, **kwargs):
        if member_of(request.user) is not None:
            return redirect("dealer:home")
        return super().get(request, *args, **kwargs)

    def get_success_url(self):
        return self.get_redirect_url() or reverse("dealer:home")


class DealerLogoutView(auth_views.LogoutView):
    next_page = reverse_lazy("dealer:login")


def home(request):
    if not request.user.is_authenticated:
        return redirect("dealer:login")
    member = member_of(request.user)
    if member is None:
        raise Http404
    return redirect("dealer:inbox" if is_manager(member) else "dealer:today")


def _page(request, queryset):
    return Paginator(queryset, PAGE).get_page(request.GET.get("page"))


# --- manager ---


@dealer_page(managers_only=True)
def inbox_view(request):
    member = request.member
    if request.method == "POST":
        ids = selected_ids(request)
        advisor = request.POST.get("advisor", "")
        if not ids:
            messages.error(request, _("请先勾选线索。"))
        elif not advisor.isdigit():
            messages.error(request, _("请选择销售顾问。"))
        else:
            report_outcomes(
                request,
                leads_assign_batch(lead_ids=ids, advisor_id=int(advisor), actor=request.user),
            )
        return redirect(request.get_full_path())
    params = {k: request.GET.get(k, "") for k in ("sort", "grade", "channel", "q")}
    leads = inbox(member, **params)
    page = _page(request, leads)
    return render(
        request,
        "dealer/inbox.html",
        {
            "page": page,
            "params": params,
            "advisors": advisor_stats(member.dealer_id),
            "channels": sorted({(lead.channel_id, lead.channel.name) for lead in page}),
            "policy": policy_for(member.dealer_id),
        },
    )


@dealer_page(managers_only=True)
def team_view(request):
    member = request.member
    return render(
        request,
        "dealer/team.html",
        {
            "advisors": advisor_stats(member.dealer_id),
            "timeliness": dealer_timeliness(member.dealer_id),
        },
    )


@dealer_page(managers_only=True)
def defeats_view(request):
    member = request.member
    if request.method == "POST":
        lead = get_object_or_404(leads_visible_to(member), pk=request.POST.get("lead_id", 0))
        form = DefeatDecisionForm(request.POST)
        note = form.data.get("note", "").strip()
        if request.POST.get("decision") == "approve":
            run_service(
                request,
                lambda: services.lead_approve_defeat(
                    lead_id=lead.pk, actor=request.user, reason=note
                ),
                success=_("已批准线索 #%(id)s 战败。") % {"id": lead.pk},
            )
        else:
            run_service(
                request,
                lambda: services.lead_reject_defeat(
                    lead_id=lead.pk, actor=request.user, reason=note or _("请继续跟进")
                ),
                success=_("已驳回线索 #%(id)s 的战败申请。") % {"id": lead.pk},
            )
        return redirect("dealer:defeats")
    return render(request, "dealer/defeats.html", {"leads": defeat_queue(member)})


@dealer_page(managers_only=True)
def leads_view(request):
    member = request.member
    if request.method == "POST":
        ids = selected_ids(request)
        action = request.POST.get("do")
        if not ids:
            messages.error(request, _("请先勾选线索。"))
        elif action == "recall":
            form = RecallForm(request.POST)
            if form.is_valid():
                report_outcomes(
                    request,
                    leads_recall_batch(
                        lead_ids=ids, actor=request.user, reason=form.cleaned_data["reason"]
                    ),
                )
            else:
                messages.error(request, _("召回需要填写原因。"))
        elif action == "reassign":
            form = ReassignForm(request.POST, dealer_id=member.dealer_id)
            if form.is_valid():
                for lead_id in ids:
                    run_service(
                        request,
                        lambda lead_id=lead_id: lead_reassign(
                            lead_id=lead_id,
                            advisor_id=form.cleaned_data["advisor"].pk,
                            actor=request.user,
                            reason=form.cleaned_data["reason"],
                        ),
                        success=_("#%(id)s：已重新分配") % {"id": lead_id},
                    )
            else:
                messages.error(request, _("重新分配需要选择顾问并填写原因。"))
        return redirect(request.get_full_path())
    params = {k: request.GET.get(k, "") for k in ("status", "advisor", "grade", "q")}
    return render(
        request,
        "dealer/leads.html",
        {
            "page": _page(request, dealer_leads(member, **params)),
            "params": params,
            "statuses": [(s.value, s.label) for s in Status if s not in ()],
            "advisors": advisor_stats(member.dealer_id),
            "reassign_form": ReassignForm(dealer_id=member.dealer_id),
        },
    )


@dealer_page(managers_only=True)
def settings_view(request):
    member = request.member
    policy = policy_for(member.dealer_id)
    form = PolicyForm(request.POST or None, instance=policy)
    if (
        request.method == "POST"
        and form.is_valid()
        and run_service(
            request,
            lambda: assignment_policy_update(
                dealer_id=member.dealer_id, actor=request.user, **form.cleaned_data
            ),
            success=_("分配策略已保存。"),
        )
    ):
        return redirect("dealer:settings")
    return render(request, "dealer/settings.html", {"form": form})


# --- advisor ---


@dealer_page()
def today_view(request):
    return render(request, "dealer/today.html", {"today": advisor_today(request.member)})


@dealer_page()
def pool_view(request):
    member = request.member
    if request.method == "POST":
        lead_id = request.POST.get("lead_id", "")
        if lead_id.isdigit() and run_service(
            request,
            lambda: lead_grab(lead_id=int(lead_id), advisor=member),
            success=_("抢单成功：线索 #%(id)s，请尽快跟进。") % {"id": lead_id},
        ):
            return redirect("dealer:lead", lead_id=int(lead_id))
        return redirect("dealer:pool")
    return render(
        request,
        "dealer/pool.html",
        {
            "page": _page(request, pool(member)),
            "allowance": grab_allowance(member),
        },
    )


# --- the lead page ---


@never_cache  # the page may show a revealed number: never kept by the browser or a proxy
@dealer_page()
def lead_view(request, lead_id: int):
    member = request.member
    lead = get_object_or_404(
        leads_visible_to(member).select_related(
            "customer", "channel__parent__parent", "advisor", "intended_model", "dealer"
        ),
        pk=lead_id,
    )
    owner = lead.advisor_id == member.pk
    manager = is_manager(member)
    follow_form = FollowUpForm(prefix="f")
    defeat_form = DefeatRequestForm(prefix="d")
    correction_form = CustomerCorrectionForm(prefix="c", initial={"name": lead.customer.name})
    reassign_form = ReassignForm(prefix="r", dealer_id=member.dealer_id)
    if request.method == "POST":
        action = request.POST.get("do")
        done = False
        if action == "follow_up" and (owner or manager):
            follow_form = FollowUpForm(request.POST, prefix="f")
            if follow_form.is_valid():
                data = follow_form.cleaned_data
                done = run_service(
                    request,
                    lambda: services.lead_follow_up_record(
                        lead_id=lead.pk,
                        actor=request.user,
                        method=data["method"],
                        result=data["result"],
                        grade=data["grade"],
                        next_follow_up_at=data["next_follow_up_at"],
                        notes=data["notes"],
                    ),
                    success=_("跟进已记录。"),
                )
        elif action == "defeat" and owner:
            defeat_form = DefeatRequestForm(request.POST, prefix="d")
            if defeat_form.is_valid():
                reason = defeat_form.cleaned_data["reason"].name
                note = defeat_form.cleaned_data["note"]
                done = run_service(
                    request,
                    lambda: services.lead_request_defeat(
                        lead_id=lead.pk,
                        actor=request.user,
                        reason=f"{reason}：{note}" if note else reason,
                    ),
                    success=_("已提交战败申请，等待经理审批。"),
                )
        elif action == "correct" and (owner or manager):
            correction_form = CustomerCorrectionForm(request.POST, prefix="c")
            if correction_form.is_valid():
                changes = {}
                if correction_form.cleaned_data["name"] != lead.customer.name:
                    changes["customer_name"] = correction_form.cleaned_data["name"]
                new_mobile = correction_form.cleaned_data["mobile"].strip()
                if new_mobile and new_mobile != lead.customer.mobile:
                    changes["customer_mobile"] = new_mobile
                done = not changes or run_service(
                    request,
                    lambda: services.lead_update(
                        lead_id=lead.pk, changes=changes, actor=request.user, reason=_("顾问更正")
                    ),
                    success=_("客户信息已更正。"),
                )
        elif action == "assign" and manager and lead.status in POOL_STATUSES:
            reassign_form = ReassignForm(request.POST, prefix="r", dealer_id=member.dealer_id)
            if reassign_form.is_valid():
                done = run_service(
                    request,
                    lambda: services.lead_assign(
                        lead_id=lead.pk,
                        advisor_id=reassign_form.cleaned_data["advisor"].pk,
                        actor=request.user,
                        why=_("经理手动分配：%(r)s") % {"r": reassign_form.cleaned_data["reason"]},
                    ),
                    success=_("已分配。"),
                )
        elif action == "reassign" and manager and lead.status in OWNED_STATUSES:
            reassign_form = ReassignForm(request.POST, prefix="r", dealer_id=member.dealer_id)
            if reassign_form.is_valid():
                done = run_service(
                    request,
                    lambda: lead_reassign(
                        lead_id=lead.pk,
                        advisor_id=reassign_form.cleaned_data["advisor"].pk,
                        actor=request.user,
                        reason=reassign_form.cleaned_data["reason"],
                    ),
                    success=_("已重新分配。"),
                )
        elif action == "recall" and manager:
            reason = request.POST.get("reason", "").strip() or _("经理召回")
            done = run_service(
                request,
                lambda: services.lead_recall(lead_id=lead.pk, actor=request.user, reason=reason),
                success=_("已召回到公共池。"),
            )
        else:
            messages.error(request, _("您不能对这条线索执行此操作。"))
        if done:
            if not leads_visible_to(member).filter(pk=lead.pk).exists():
                return redirect("dealer:home")
            return redirect("dealer:lead", lead_id=lead.pk)
    return render(
        request,
        "dealer/lead.html",
        {
            "lead": lead,
            "owner": owner,
            "manager": manager,
            "reveal": reveal_panel(
                request,
                lead,
                action_url=reverse("dealer:lead_reveal", args=[lead.pk]),
                next_url=reverse("dealer:lead", args=[lead.pk]),
            ),
            "in_pool": lead.status in POOL_STATUSES and lead.advisor_id is None,
            "workable": lead.status
            in (
                Status.ASSIGNED,
                Status.FOLLOWING,
                Status.INVITED,
                Status.ARRIVED,
                Status.TEST_DRIVE,
            ),
            "within_24h": followed_within_24h(lead),
            "timeline": lead_timeline(lead),
            "follow_form": follow_form,
            "defeat_form": defeat_form,
            "correction_form": correction_form,
            "reassign_form": reassign_form,
        },
    )


@dealer_page()
def lead_reveal_view(request, lead_id: int):
    """ "查看号码" on the lead page (POST): logged, then the page shows the number a while."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    lead = get_object_or_404(leads_visible_to(request.member), pk=lead_id)
    form = RevealForm(request.POST)
    target = reverse("dealer:lead", args=[lead.pk])
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(target)
    try:
        reveal = mobile_reveal(
            actor=request.user,
            lead_id=lead.pk,
            reason=form.cleaned_data["reason"],
            note=form.cleaned_data["note"],
            source=MobileReveal.Source.DEALER,
            ip=client_ip(request),
        )
    except DomainError as error:
        messages.error(request, str(error))
        return redirect(target)
    return redirect(f"{target}?reveal={reveal.pk}")
