"""The access matrix: every URL of the project (admin, dealer pages, API), for every role and
for a user of another dealer and another region, answers exactly what the table below says,
and no page shows the sample customer's full mobile (nor, to a user who may not see that
customer at all, the customer's name or masked mobile).

The table is the specification, written out by hand from the role rules (the issue, and
leads/services/roles.py's intent where the issue is silent); it is not computed from the
groups' permissions, so a wrong grant in roles.py or a missing check in a view shows up here.

How to read a row: one code per user, in the order of the header comment above the tables
(`USERS`). Codes:

    200 401 403 404 405   that status
    lgn                   302 to the admin login, ?next= the page (not logged in / not staff)
    dlg                   302 to the dealer login (?next= the page, when there is one)
    gone                  302 to the admin index: Django's admin answers a change, history or
                          delete page of an object outside the user's queryset (a region
                          manager on another region's dealer) with "does not exist" and this
                          redirect, never a 404
    >name                 302 to TARGETS[name] (">ix" the admin index, ">wc" the cleansing
                          workbench … see TARGETS)

How to add a page: run `pytest tests/test_access_matrix.py -k every_url`; it names the URL.
- A new model in the admin: add its row to MODEL_ACCESS (what each HQ role may do with it:
  v(iew) a(dd) c(hange) d(elete), after the ModelAdmin's own has_*_permission overrides) and
  its sample object to SAMPLES (and to tests/access_fixtures.py). Its changelist, add,
  change, history, delete and export pages then follow from the row.
- Any other URL (a dealer page, an API endpoint, an admin action or `get_urls` view): add an
  `E(...)` row to URLS with the path to request and the fifteen answers. If GET on it changes
  data (an unfold list action is a link), also add it to STATE_CHANGING_GETS so it runs last.
- A download: add it to DOWNLOADS (its body is not searched for personal data).
- A new bulk action on a changelist (`actions = [...]`): add who is offered it to
  CUSTOM_ACTIONS; every changelist that answers 200 is checked for exactly those actions.
Then run the whole file on SQLite and on PostgreSQL.

A failing run prints, per user, one table of every difference (url name | variant | path |
expected | got), so one run shows the whole picture.
"""

import datetime
import json
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from tests.access_fixtures import (
    SAMPLE_MASKED,
    SAMPLE_MOBILE_FORMS,
    SAMPLE_NAME,
    access_world,
)

pytestmark = pytest.mark.django_db

USERS = (
    "anonymous",
    "hq_admin",
    "hq_ops",
    "hq_agent",
    "hq_auditor",
    "region_manager",  # region R1 (dealer D1, the sample lead's dealer)
    "other_region_manager",  # region R2
    "dealer_manager",  # D1
    "dcc",  # D1
    "advisor",  # D1, owns the sample lead
    "other_dealer_manager",  # D2
    "other_advisor",  # D2
    "api_user",  # a login in the 渠道接口 group (not staff, no Advisor row)
    "api_c1",  # no login: channel C1's API token in the Authorization header
    "api_c2",  # channel C2's token
)
STAFF = USERS[1:7]

# Users who must not see the sample customer (D1, R1) at all: not the name, not even the
# masked number.
OUTSIDERS = {
    "anonymous",
    "hq_agent",
    "other_region_manager",
    "other_dealer_manager",
    "other_advisor",
    "api_user",
    "api_c1",
    "api_c2",
}

# --- the admin's models --------------------------------------------------------------------
# What each HQ role may do with each model in the admin: v(iew) a(dd) c(hange) d(elete), as
# the ModelAdmin answers them (its has_*_permission overrides included: leads, customers and
# logs are never added or deleted by hand, tokens never edited). The region managers' column
# applies to both; "scoped" models show a region manager only their own region's rows, so
# the other region's manager gets "gone" on the sample object (which is in R1).
#
# (hq_admin, ops, agent, auditor, region managers, scoped)
MODEL_ACCESS: dict[str, tuple[str, str, str, str, str, bool]] = {
    "channels.channel": ("vac", "vac", "v", "v", "", False),
    # Tokens are made by the channel action or the command, never typed in; the auditor may
    # not read even their hashes' page.
    "channels.channeltoken": ("vd", "vd", "", "", "", False),
    "dealers.region": ("vacd", "vacd", "v", "v", "v", True),
    "dealers.dealer": ("vacd", "vac", "v", "v", "v", True),
    "dealers.dealerclosure": ("vacd", "vacd", "", "v", "v", True),
    "dealers.dispatchwindow": ("vacd", "vacd", "v", "v", "v", True),
    "dealers.advisor": ("vacd", "vac", "", "v", "v", True),
    "dealers.workcalendarday": ("vacd", "vacd", "", "v", "", False),
    "leads.customer": ("v", "", "", "v", "", False),
    "leads.rawlead": ("v", "v", "", "v", "", False),
    "leads.followup": ("v", "", "", "v", "", False),
    "leads.leadevent": ("v", "", "", "v", "", False),
    "django_fsm_log.statelog": ("v", "", "", "v", "", False),
    "leads.gradecycle": ("vac", "vc", "", "v", "", False),
    "leads.vehicleseries": ("vacd", "vacd", "v", "v", "", False),
    "leads.vehiclemodel": ("vacd", "vacd", "v", "v", "", False),
    "leads.scoringrule": ("vac", "vc", "", "v", "", False),
    "leads.notification": ("v", "", "", "v", "", False),
    # One policy row exists, so nobody may add a second.
    "leads.dispatchpolicy": ("vc", "vc", "", "v", "", False),
    "leads.cleansingpolicy": ("vc", "vc", "", "v", "", False),
    "leads.customernotice": ("v", "v", "", "v", "", False),
    "leads.lead": ("vc", "v", "", "v", "v", True),
    # The cleansing desk: the agent's two screens; the auditor reads every model.
    "leads.cleansingqueuelead": ("v", "", "v", "v", "", False),
    "leads.nurturinglead": ("v", "", "v", "v", "", False),
    # Sampling supervision (calling back defeated/dispatched customers) is call-centre work.
    "leads.supervisionsample": ("v", "", "v", "v", "", False),
    "leads.callrecord": ("v", "", "v", "v", "", False),
    "leads.nurturetouch": ("v", "", "v", "v", "", False),
    "leads.invalidreason": ("vac", "vac", "", "v", "", False),
    "leads.importjob": ("v", "v", "", "v", "", False),
    "leads.exportlog": ("v", "", "", "v", "", False),
    "leads.lifecyclerule": ("vacd", "vacd", "", "v", "", False),
    "leads.mobilereveal": ("v", "", "", "v", "", False),
    "leads.privacyrequest": ("v", "", "", "v", "", False),
    # Deleting failures is the "unlock" action.
    "leads.loginfailure": ("vd", "", "", "v", "", False),
    "reports.rolluprun": ("v", "v", "", "v", "", False),
    "reports.regionmanager": ("vacd", "vacd", "", "v", "", False),
    # Not ours: user accounts stay with superusers; HQ may read the task queue.
    # Operations link advisors and region managers to their logins.
    "auth.user": ("v", "v", "", "v", "", False),
    "auth.group": ("v", "", "", "v", "", False),
    "django_q.schedule": ("v", "", "", "v", "", False),
    "django_q.success": ("v", "", "", "v", "", False),
    "django_q.failure": ("v", "", "", "v", "", False),
    "django_q.ormq": ("v", "", "", "v", "", False),
    # DRF user tokens are credentials for any account: nobody but superusers.
    "authtoken.tokenproxy": ("", "", "", "", "", False),
}
# reports.dashboard is a page, not a table: its URLs are written out in URLS.
MODEL_URLS_IN_URLS = {"reports.dashboard"}

# The bulk actions a changelist offers each HQ role, besides Django's "delete selected"
# (offered exactly when the role's MODEL_ACCESS letters have "d"). An action is a POST that
# changes data: a read-only role is offered none. Per role: hq_admin, ops, agent, auditor,
# region managers.
CUSTOM_ACTIONS: dict[str, tuple[set[str], ...]] = {
    "channels.channel": ({"rotate_token"}, {"rotate_token"}, set(), set(), set()),
    # Operations transfer leads (and retire dealers), but change nothing else on a lead.
    "leads.lead": ({"transfer_leads", "recall_leads"}, {"transfer_leads"}, set(), set(), set()),
    "leads.loginfailure": ({"unlock"}, set(), set(), set(), set()),
}

# The object whose change/history/delete pages are requested, per model.
SAMPLES: dict[str, Callable] = {
    "channels.channel": lambda w: w.channel.pk,
    "channels.channeltoken": lambda w: w.channel_token.pk,
    "dealers.region": lambda w: w.region.pk,
    "dealers.dealer": lambda w: w.dealer.pk,
    "dealers.dealerclosure": lambda w: w.closure.pk,
    "dealers.dispatchwindow": lambda w: w.window.pk,
    "dealers.advisor": lambda w: w.advisor.pk,
    "dealers.workcalendarday": lambda w: w.calendar_day.pk,
    "leads.customer": lambda w: w.customer.pk,
    "leads.rawlead": lambda w: w.raw_lead.pk,
    "leads.followup": lambda w: w.follow_up.pk,
    "leads.leadevent": lambda w: w.event.pk,
    "django_fsm_log.statelog": lambda w: w.state_log.pk,
    "leads.gradecycle": lambda w: w.grade_cycle.pk,
    "leads.vehicleseries": lambda w: w.vehicle_series.pk,
    "leads.vehiclemodel": lambda w: w.vehicle_model.pk,
    "leads.scoringrule": lambda w: w.scoring_rule.pk,
    "leads.notification": lambda w: w.notification.pk,
    "leads.dispatchpolicy": lambda w: w.dispatch_policy.pk,
    "leads.cleansingpolicy": lambda w: w.cleansing_policy.pk,
    "leads.customernotice": lambda w: w.notice.pk,
    "leads.lead": lambda w: w.lead.pk,
    "leads.cleansingqueuelead": lambda w: w.cleansing_lead.pk,
    "leads.nurturinglead": lambda w: w.nurturing_lead.pk,
    "leads.supervisionsample": lambda w: w.sample.pk,
    "leads.callrecord": lambda w: w.call_record.pk,
    "leads.nurturetouch": lambda w: w.nurture_touch.pk,
    "leads.invalidreason": lambda w: w.invalid_reason.pk,
    "leads.importjob": lambda w: w.import_job.pk,
    "leads.exportlog": lambda w: w.export_log.pk,
    "leads.lifecyclerule": lambda w: w.lifecycle_rule.pk,
    "leads.mobilereveal": lambda w: w.reveal.pk,
    "leads.privacyrequest": lambda w: w.privacy_request.pk,
    "leads.loginfailure": lambda w: w.login_failure.pk,
    "reports.rolluprun": lambda w: w.rollup_run.pk,
    "reports.regionmanager": lambda w: w.region_manager_row.pk,
    "auth.user": lambda w: w.some_user.pk,
    "auth.group": lambda w: w.group.pk,
    "django_q.schedule": lambda w: w.schedule.pk,
    "django_q.success": lambda w: w.task_ok.pk,
    "django_q.failure": lambda w: w.task_failed.pk,
    "django_q.ormq": lambda w: w.ormq.pk,
    "authtoken.tokenproxy": lambda w: w.drf_token.user_id,  # DRF's token admin: by user id
}
STANDARD_KINDS = ("changelist", "add", "change", "history", "delete", "export")
LOGIN_ONLY = ("lgn",) * 9  # the columns after the staff: dealer staff, API user, tokens


def _model_code(kind: str, perms: str, hidden: bool) -> str:
    """Django's admin on a GET, given what the user may do with the model: the list, the
    export form and a change page (read-only with view only) need view or change; history
    finds the object before it checks; change and delete check before they look."""
    view = "v" in perms or "c" in perms
    if kind in ("changelist", "export"):
        return "200" if view else "403"
    if kind == "add":
        return "200" if "a" in perms else "403"
    if kind == "change":
        return "403" if not view else "gone" if hidden else "200"
    if kind == "history":
        return "gone" if hidden else "200" if view else "403"
    return "403" if "d" not in perms else "gone" if hidden else "200"  # delete


# --- every other URL, written out -----------------------------------------------------------


@dataclass(frozen=True)
class E:
    key: str  # the URL name (namespace:name), or the route of an unnamed pattern
    variant: str
    path: Callable  # world -> the path (with query) to GET
    expect: str  # fifteen codes, in USERS order

    def codes(self) -> tuple[str, ...]:
        codes = tuple(self.expect.split())
        assert len(codes) == len(USERS), f"{self.key} {self.variant}: {len(codes)} codes"
        return codes


def _drill(w) -> str:
    today = timezone.localdate()
    return f"m=leads&from={today - datetime.timedelta(days=30)}&to={today}"


def _r(name, *args, query: str = "") -> Callable:
    def build(w):
        values = [a(w) if callable(a) else a for a in args]
        url = reverse(name, args=values)
        q = query(w) if callable(query) else query
        return f"{url}?{q}" if q else url

    return build


# 302 targets, by the short name a row uses after ">".
TARGETS: dict[str, Callable] = {
    "ix": lambda w: reverse("admin:index"),
    "/": lambda w: "/",
    "dh": lambda w: reverse("dealer:home"),
    "ib": lambda w: reverse("dealer:inbox"),
    "td": lambda w: reverse("dealer:today"),
    # the cleansing workbench on the queue's lead, and on the nurturing lead
    "wc": lambda w: reverse("admin:leads_cleansingqueuelead_work", args=[w.cleansing_lead.pk]),
    "wn": lambda w: reverse("admin:leads_cleansingqueuelead_work", args=[w.nurturing_lead.pk]),
    # the admin's lead page of the nurturing lead
    "nl": lambda w: reverse("admin:leads_lead_change", args=[w.nurturing_lead.pk]),
    "jb": lambda w: reverse("admin:leads_importjob_change", args=[w.import_job.pk]),
    "lc": lambda w: reverse("admin:leads_lifecyclerule_changelist"),
    "rr": lambda w: reverse("admin:reports_rolluprun_changelist"),
}


def _lead_type(w) -> int:
    return ContentType.objects.get_for_model(w.lead).pk


def _in_d1(w) -> str:
    return f"{_drill(w)}&dl={w.dealer.pk}"


# fmt: off
URLS: list[E] = [
    # --- the site and the admin site
       # anon adm  ops  agt  aud  rm   rm2  mgr  dcc  adv  omgr oadv apiu c1   c2
    E("", "root", lambda w: "/",
        ">ix  >ix  >ix  >ix  >ix  >ix  >ix  >ix  >ix  >ix  >ix  >ix  >ix  >ix  >ix"),
    E("admin:index", "", _r("admin:index"),
        "lgn  200  200  200  200  200  200  lgn  lgn  lgn  lgn  lgn  lgn  lgn  lgn"),
    # Staff already in go to the index; a logged-in non-staff user sees the form (to switch).
    E("admin:login", "", _r("admin:login"),
        "200  >ix  >ix  >ix  >ix  >ix  >ix  200  200  200  200  200  200  200  200"),
    # POST only; Django's admin sends whoever is not staff to the index (not the login).
    E("admin:logout", "GET", _r("admin:logout"),
        ">ix  405  405  405  405  405  405  >ix  >ix  >ix  >ix  >ix  >ix  >ix  >ix"),
    E("admin:password_change", "", _r("admin:password_change"),
        "lgn  200  200  200  200  200  200  lgn  lgn  lgn  lgn  lgn  lgn  lgn  lgn"),
    E("admin:password_change_done", "", _r("admin:password_change_done"),
        "lgn  200  200  200  200  200  200  lgn  lgn  lgn  lgn  lgn  lgn  lgn  lgn"),
    E("admin:jsi18n", "", _r("admin:jsi18n"),
        "lgn  200  200  200  200  200  200  lgn  lgn  lgn  lgn  lgn  lgn  lgn  lgn"),
    E("admin:search", "", _r("admin:search", query="s=139"),
        "lgn  200  200  200  200  200  200  lgn  lgn  lgn  lgn  lgn  lgn  lgn  lgn"),
    # Autocomplete answers with the remote model admin's view permission.
    E("admin:autocomplete", "dealers",
        _r("admin:autocomplete", query="app_label=dealers&model_name=advisor&field_name=dealer"),
        "lgn  200  200  200  200  200  200  lgn  lgn  lgn  lgn  lgn  lgn  lgn  lgn"),
    E("admin:autocomplete", "users",
        _r("admin:autocomplete",
           query="app_label=reports&model_name=regionmanager&field_name=user"),
        "lgn  200  200  403  200  403  403  lgn  lgn  lgn  lgn  lgn  lgn  lgn  lgn"),
    # Leads have no public URL: "view on site" finds nothing.
    E("admin:view_on_site", "lead", _r("admin:view_on_site", _lead_type, lambda w: w.lead.pk),
        "lgn  404  404  404  404  404  404  lgn  lgn  lgn  lgn  lgn  lgn  lgn  lgn"),
    E("admin:app_list", "leads", _r("admin:app_list", "leads"),
        "lgn  200  200  200  200  200  200  lgn  lgn  lgn  lgn  lgn  lgn  lgn  lgn"),
    E("admin:app_list", "auth", _r("admin:app_list", "auth"),
        "lgn  200  200  404  200  404  404  lgn  lgn  lgn  lgn  lgn  lgn  lgn  lgn"),
    E("admin/(?P<url>.*)$", "no such page", lambda w: "/admin/no-such-page/",
        "lgn  404  404  404  404  404  404  lgn  lgn  lgn  lgn  lgn  lgn  lgn  lgn"),

    # --- admin: customers' rights (they write a PrivacyRequest: HQ admin only)
       # anon adm  ops  agt  aud  rm   rm2  mgr  dcc  adv  omgr oadv apiu c1   c2
    E("admin:leads_customer_export_personal_data", "",
        _r("admin:leads_customer_export_personal_data", lambda w: w.customer.pk),
        "lgn  200  403  403  403  403  403  lgn  lgn  lgn  lgn  lgn  lgn  lgn  lgn"),
    E("admin:leads_customer_anonymise", "",
        _r("admin:leads_customer_anonymise", lambda w: w.customer.pk),
        "lgn  200  403  403  403  403  403  lgn  lgn  lgn  lgn  lgn  lgn  lgn  lgn"),
    # --- admin: leads
    E("admin:leads_rawlead_enter_lead", "", _r("admin:leads_rawlead_enter_lead"),
        "lgn  200  403  403  403  403  403  lgn  lgn  lgn  lgn  lgn  lgn  lgn  lgn"),
    # The assign form of a lead in D1's pool: only who may change leads (refused before the
    # lead is looked up).
    E("admin:leads_lead_transition", "assign",
        _r("admin:leads_lead_transition", lambda w: w.pool_lead.pk, "assign"),
        "lgn  200  403  403  403  403  403  lgn  lgn  lgn  lgn  lgn  lgn  lgn  lgn"),
    E("admin:leads_mobilereveal_reveal", "GET",
        _r("admin:leads_mobilereveal_reveal", lambda w: w.lead.pk),
        "lgn  405  405  405  405  405  405  lgn  lgn  lgn  lgn  lgn  lgn  lgn  lgn"),
    E("admin:leads_mobilereveal_daily", "", _r("admin:leads_mobilereveal_daily"),
        "lgn  200  403  403  200  403  403  lgn  lgn  lgn  lgn  lgn  lgn  lgn  lgn"),
    # --- admin: the cleansing desk (the auditor reads, never works a lead)
       # anon adm  ops  agt  aud  rm   rm2  mgr  dcc  adv  omgr oadv apiu c1   c2
    E("admin:leads_cleansingqueuelead_change", "",
        _r("admin:leads_cleansingqueuelead_change", lambda w: w.cleansing_lead.pk),
        "lgn  >wc  403  >wc  403  403  403  lgn  lgn  lgn  lgn  lgn  lgn  lgn  lgn"),
    E("admin:leads_cleansingqueuelead_work", "",
        _r("admin:leads_cleansingqueuelead_work", lambda w: w.cleansing_lead.pk),
        "lgn  200  403  200  403  403  403  lgn  lgn  lgn  lgn  lgn  lgn  lgn  lgn"),
    E("admin:leads_cleansingqueuelead_claim_next", "",
        _r("admin:leads_cleansingqueuelead_claim_next"),
        "lgn  >wc  403  >wc  403  403  403  lgn  lgn  lgn  lgn  lgn  lgn  lgn  lgn"),
    E("admin:leads_cleansingqueuelead_workload", "",
        _r("admin:leads_cleansingqueuelead_workload"),
        "lgn  200  403  200  200  403  403  lgn  lgn  lgn  lgn  lgn  lgn  lgn  lgn"),
    E("admin:leads_nurturinglead_change", "",
        _r("admin:leads_nurturinglead_change", lambda w: w.nurturing_lead.pk),
        "lgn  >nl  403  >wn  >nl  403  403  lgn  lgn  lgn  lgn  lgn  lgn  lgn  lgn"),
    E("admin:leads_nurturinglead_touch", "",
        _r("admin:leads_nurturinglead_touch", lambda w: w.nurturing_lead.pk),
        "lgn  200  403  200  403  403  403  lgn  lgn  lgn  lgn  lgn  lgn  lgn  lgn"),
    E("admin:leads_nurturinglead_recall_call", "",
        _r("admin:leads_nurturinglead_recall_call", lambda w: w.nurturing_lead.pk),
        "lgn  >wn  403  >wn  403  403  403  lgn  lgn  lgn  lgn  lgn  lgn  lgn  lgn"),
    E("admin:leads_nurturinglead_archive_lead", "",
        _r("admin:leads_nurturinglead_archive_lead", lambda w: w.nurturing_lead.pk),
        "lgn  200  403  200  403  403  403  lgn  lgn  lgn  lgn  lgn  lgn  lgn  lgn"),
    # Sampling supervision is call-centre work: the agents call the sampled customers back.
    E("admin:leads_supervisionsample_draw", "", _r("admin:leads_supervisionsample_draw"),
        "lgn  200  403  200  403  403  403  lgn  lgn  lgn  lgn  lgn  lgn  lgn  lgn"),
    E("admin:leads_supervisionsample_record", "",
        _r("admin:leads_supervisionsample_record", lambda w: w.sample.pk),
        "lgn  200  403  200  403  403  403  lgn  lgn  lgn  lgn  lgn  lgn  lgn  lgn"),
    # --- admin: Excel imports (operations upload; confirm/discard/retry are POST, a GET goes
    # back to the job's page for whoever may upload, 403 for anyone else)
       # anon adm  ops  agt  aud  rm   rm2  mgr  dcc  adv  omgr oadv apiu c1   c2
    E("admin:leads_importjob_change", "",
        _r("admin:leads_importjob_change", lambda w: w.import_job.pk),
        "lgn  200  200  403  200  403  403  lgn  lgn  lgn  lgn  lgn  lgn  lgn  lgn"),
    E("admin:leads_importjob_upload", "", _r("admin:leads_importjob_upload"),
        "lgn  200  200  403  403  403  403  lgn  lgn  lgn  lgn  lgn  lgn  lgn  lgn"),
    E("admin:leads_importjob_download_template", "",
        _r("admin:leads_importjob_download_template"),
        "lgn  200  200  403  200  403  403  lgn  lgn  lgn  lgn  lgn  lgn  lgn  lgn"),
    E("admin:leads_importjob_report", "",
        _r("admin:leads_importjob_report", lambda w: w.import_job.pk),
        "lgn  200  200  403  200  403  403  lgn  lgn  lgn  lgn  lgn  lgn  lgn  lgn"),
    E("admin:leads_importjob_confirm", "GET",
        _r("admin:leads_importjob_confirm", lambda w: w.import_job.pk),
        "lgn  >jb  >jb  403  403  403  403  lgn  lgn  lgn  lgn  lgn  lgn  lgn  lgn"),
    E("admin:leads_importjob_discard", "GET",
        _r("admin:leads_importjob_discard", lambda w: w.import_job.pk),
        "lgn  >jb  >jb  403  403  403  403  lgn  lgn  lgn  lgn  lgn  lgn  lgn  lgn"),
    E("admin:leads_importjob_retry", "GET",
        _r("admin:leads_importjob_retry", lambda w: w.import_job.pk),
        "lgn  >jb  >jb  403  403  403  403  lgn  lgn  lgn  lgn  lgn  lgn  lgn  lgn"),
    # --- admin: rules, the network, accounts
    E("admin:leads_lifecyclerule_run_now", "", _r("admin:leads_lifecyclerule_run_now"),
        "lgn  >lc  >lc  403  403  403  403  lgn  lgn  lgn  lgn  lgn  lgn  lgn  lgn"),
    E("admin:dealers_dealer_exit_network", "",
        _r("admin:dealers_dealer_exit_network", lambda w: w.dealer.pk),
        "lgn  200  200  403  403  403  403  lgn  lgn  lgn  lgn  lgn  lgn  lgn  lgn"),
    E("admin:dealers_advisor_leaves", "",
        _r("admin:dealers_advisor_leaves", lambda w: w.advisor.pk),
        "lgn  200  200  403  403  403  403  lgn  lgn  lgn  lgn  lgn  lgn  lgn  lgn"),
    E("admin:auth_user_password_change", "",
        _r("admin:auth_user_password_change", lambda w: w.some_user.pk),
        "lgn  403  403  403  403  403  403  lgn  lgn  lgn  lgn  lgn  lgn  lgn  lgn"),
    # --- admin: reports (each region manager sees their own region's figures)
       # anon adm  ops  agt  aud  rm   rm2  mgr  dcc  adv  omgr oadv apiu c1   c2
    E("admin:reports_dashboard_changelist", "", _r("admin:reports_dashboard_changelist"),
        "lgn  200  200  403  200  200  200  lgn  lgn  lgn  lgn  lgn  lgn  lgn  lgn"),
    E("admin:reports_dashboard_leads", "drill", _r("admin:reports_dashboard_leads", query=_drill),
        "lgn  200  200  403  200  200  200  lgn  lgn  lgn  lgn  lgn  lgn  lgn  lgn"),
    E("admin:reports_dashboard_leads", "drill into D1",
        _r("admin:reports_dashboard_leads", query=_in_d1),
        "lgn  200  200  403  200  200  403  lgn  lgn  lgn  lgn  lgn  lgn  lgn  lgn"),
    # POST only; the view refuses a GET with 403.
    E("admin:reports_dashboard_refresh", "GET", _r("admin:reports_dashboard_refresh"),
        "lgn  403  403  403  403  403  403  lgn  lgn  lgn  lgn  lgn  lgn  lgn  lgn"),
    # The dashboard has no rows: no add, change or delete page; history finds no object.
    E("admin:reports_dashboard_add", "", _r("admin:reports_dashboard_add"),
        "lgn  403  403  403  403  403  403  lgn  lgn  lgn  lgn  lgn  lgn  lgn  lgn"),
    E("admin:reports_dashboard_change", "", _r("admin:reports_dashboard_change", 1),
        "lgn  gone gone 403  gone gone gone lgn  lgn  lgn  lgn  lgn  lgn  lgn  lgn"),
    E("admin:reports_dashboard_history", "", _r("admin:reports_dashboard_history", 1),
        "lgn  gone gone gone gone gone gone lgn  lgn  lgn  lgn  lgn  lgn  lgn  lgn"),
    E("admin:reports_dashboard_delete", "", _r("admin:reports_dashboard_delete", 1),
        "lgn  403  403  403  403  403  403  lgn  lgn  lgn  lgn  lgn  lgn  lgn  lgn"),
    E("admin:reports_rolluprun_refresh_now", "", _r("admin:reports_rolluprun_refresh_now"),
        "lgn  >rr  >rr  403  403  403  403  lgn  lgn  lgn  lgn  lgn  lgn  lgn  lgn"),

    # --- the dealer pages: dealer staff only, HQ users 404 (never a hint the page exists)
       # anon adm  ops  agt  aud  rm   rm2  mgr  dcc  adv  omgr oadv apiu c1   c2
    E("dealer:home", "", _r("dealer:home"),
        "dlg  404  404  404  404  404  404  >ib  >ib  >td  >ib  >td  404  dlg  dlg"),
    # Public; signed-in dealer staff go to their home, anyone else sees the form.
    E("dealer:login", "", _r("dealer:login"),
        "200  200  200  200  200  200  200  >dh  >dh  >dh  >dh  >dh  200  200  200"),
    E("dealer:logout", "GET", _r("dealer:logout"),
        "405  405  405  405  405  405  405  405  405  405  405  405  405  405  405"),
    E("dealer:inbox", "", _r("dealer:inbox"),
        "dlg  404  404  404  404  404  404  200  200  404  200  404  404  dlg  dlg"),
    E("dealer:team", "", _r("dealer:team"),
        "dlg  404  404  404  404  404  404  200  200  404  200  404  404  dlg  dlg"),
    E("dealer:defeats", "", _r("dealer:defeats"),
        "dlg  404  404  404  404  404  404  200  200  404  200  404  404  dlg  dlg"),
    E("dealer:leads", "", _r("dealer:leads"),
        "dlg  404  404  404  404  404  404  200  200  404  200  404  404  dlg  dlg"),
    E("dealer:settings", "", _r("dealer:settings"),
        "dlg  404  404  404  404  404  404  200  200  404  200  404  404  dlg  dlg"),
    E("dealer:today", "", _r("dealer:today"),
        "dlg  404  404  404  404  404  404  200  200  200  200  200  404  dlg  dlg"),
    E("dealer:pool", "", _r("dealer:pool"),
        "dlg  404  404  404  404  404  404  200  200  200  200  200  404  dlg  dlg"),
    E("dealer:lead", "own", _r("dealer:lead", lambda w: w.lead.pk),
        "dlg  404  404  404  404  404  404  200  200  200  404  404  404  dlg  dlg"),
    E("dealer:lead", "colleague's", _r("dealer:lead", lambda w: w.colleague_lead.pk),
        "dlg  404  404  404  404  404  404  200  200  404  404  404  404  dlg  dlg"),
    E("dealer:lead", "pool", _r("dealer:lead", lambda w: w.pool_lead.pk),
        "dlg  404  404  404  404  404  404  200  200  200  404  404  404  dlg  dlg"),
    # POST only: 405 before the lead is looked up (so nothing is learnt about it).
    E("dealer:lead_reveal", "GET", _r("dealer:lead_reveal", lambda w: w.lead.pk),
        "dlg  404  404  404  404  404  404  405  405  405  405  405  404  dlg  dlg"),
       # anon adm  ops  agt  aud  rm   rm2  mgr  dcc  adv  omgr oadv apiu c1   c2
    E("dealer:import", "", _r("dealer:import"),
        "dlg  404  404  404  404  404  404  200  200  404  200  404  404  dlg  dlg"),
    E("dealer:import_template", "", _r("dealer:import_template"),
        "dlg  404  404  404  404  404  404  200  200  404  200  404  404  dlg  dlg"),
    E("dealer:import_job", "", _r("dealer:import_job", lambda w: w.dealer_import_job.pk),
        "dlg  404  404  404  404  404  404  200  200  404  404  404  404  dlg  dlg"),
    E("dealer:import_confirm", "GET",
        _r("dealer:import_confirm", lambda w: w.dealer_import_job.pk),
        "dlg  404  404  404  404  404  404  405  405  404  405  404  404  dlg  dlg"),
    E("dealer:import_discard", "GET",
        _r("dealer:import_discard", lambda w: w.dealer_import_job.pk),
        "dlg  404  404  404  404  404  404  405  405  404  405  404  404  dlg  dlg"),
    E("dealer:import_retry", "GET",
        _r("dealer:import_retry", lambda w: w.dealer_import_job.pk),
        "dlg  404  404  404  404  404  404  405  405  404  405  404  404  dlg  dlg"),
    E("dealer:import_report", "",
        _r("dealer:import_report", lambda w: w.dealer_import_job.pk),
        "dlg  404  404  404  404  404  404  200  200  404  404  404  404  dlg  dlg"),
    E("reports:dealer_dashboard", "", _r("reports:dealer_dashboard"),
        "dlg  404  404  404  404  404  404  200  200  404  200  404  404  dlg  dlg"),
    E("reports:dealer_leads", "drill", _r("reports:dealer_leads", query=_drill),
        "dlg  404  404  404  404  404  404  200  200  404  200  404  404  dlg  dlg"),
    E("reports:dealer_leads", "drill into D1", _r("reports:dealer_leads", query=_in_d1),
        "dlg  404  404  404  404  404  404  200  200  404  404  404  404  dlg  dlg"),

    # --- the channel API: a channel token or 401; POST-only endpoints answer GET with 405
       # anon adm  ops  agt  aud  rm   rm2  mgr  dcc  adv  omgr oadv apiu c1   c2
    E("leads-api:intake", "GET", _r("leads-api:intake"),
        "401  401  401  401  401  401  401  401  401  401  401  401  401  405  405"),
    E("leads-api:intake-batch", "GET", _r("leads-api:intake-batch"),
        "401  401  401  401  401  401  401  401  401  401  401  401  401  405  405"),
    E("leads-api:status", "C1's lead", _r("leads-api:status", lambda w: w.raw_lead.external_id),
        "401  401  401  401  401  401  401  401  401  401  401  401  401  200  404"),
    E("leads-api:status", "C2's lead",
        _r("leads-api:status", lambda w: w.other_raw_lead.external_id),
        "401  401  401  401  401  401  401  401  401  401  401  401  401  404  200"),
    # The API's documentation is public (it describes the API, holds no data).
    E("api-schema", "", _r("api-schema"),
        "200  200  200  200  200  200  200  200  200  200  200  200  200  200  200"),
    E("api-docs", "", _r("api-docs"),
        "200  200  200  200  200  200  200  200  200  200  200  200  200  200  200"),
    # Django's language switch: a GET changes nothing and goes back to the site's root.
    E("set_language", "GET", _r("set_language"),
        ">/   >/   >/   >/   >/   >/   >/   >/   >/   >/   >/   >/   >/   >/   >/"),
]
# fmt: on

# GETs that change data (unfold's list and row actions are links; the workbench claims the
# lead it opens): requested after every other URL so they cannot change what the others see.
STATE_CHANGING_GETS = (
    "admin:leads_cleansingqueuelead_work",
    "admin:leads_cleansingqueuelead_claim_next",
    "admin:leads_lifecyclerule_run_now",
    "admin:reports_rolluprun_refresh_now",
)

# File downloads: the status is checked, the body is not searched.
DOWNLOADS = {
    "admin:leads_importjob_download_template",
    "admin:leads_importjob_report",
    "dealer:import_template",
    "dealer:import_report",
}

# Pages that may show the full mobile on a GET, with the reason. There should be none: a
# number is revealed only by the logged reveal (a POST).
FULL_MOBILE_ALLOWED: dict[str, str] = {}

# URL patterns not in the matrix, with the reason (django.views.static.serve, which serves
# static and media files in DEBUG, is always skipped).
SKIPPED = {
    r"admin/<app>/<model>/<path:object_id>/": (
        "the admin's bare object URL: a RedirectView to the change page (in the matrix), "
        "it looks at nothing"
    ),
}


# --- enumerating the URLs --------------------------------------------------------------------


def _walk(patterns, prefix="", namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            ns = namespace
            if pattern.namespace:
                ns = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), ns)
        elif isinstance(pattern, URLPattern):
            route = prefix + str(pattern.pattern)
            if pattern.name:
                yield (f"{namespace}:{pattern.name}" if namespace else pattern.name), pattern
            else:
                yield route, pattern


def _is_skipped(key: str, pattern: URLPattern) -> bool:
    from django.views.static import serve

    if getattr(pattern.callback, "__wrapped__", pattern.callback) is serve:
        return True
    # SKIPPED's bare object URL: admin/<app>/<model>/<path:object_id>/ (unnamed)
    parts = key.split("/")
    return len(parts) == 5 and parts[0] == "admin" and parts[3:] == ["<path:object_id>", ""]


def _registered_models() -> dict[str, type]:
    return {model._meta.label_lower: model for model in admin.site._registry}


def _standard_key(label: str, kind: str) -> str:
    app_label, model_name = label.split(".")
    return f"admin:{app_label}_{model_name}_{kind}"


def _url_keys() -> set[str]:
    return {
        key for key, pattern in _walk(get_resolver().url_patterns) if not _is_skipped(key, pattern)
    }


@dataclass(frozen=True)
class Check:
    key: str
    variant: str
    path: Callable
    codes: tuple[str, ...]
    actions: tuple[frozenset[str], ...] | None = None  # per user, on a changelist


def _checks() -> list[Check]:
    """The matrix: the written-out rows, then each model's standard pages from MODEL_ACCESS."""
    checks = [Check(e.key, e.variant, e.path, e.codes()) for e in URLS]
    written = {e.key for e in URLS}
    present = _url_keys()
    for label, (hq_admin, ops, agent, auditor, region, scoped) in MODEL_ACCESS.items():
        perms = (hq_admin, ops, agent, auditor, region, region)
        for kind in STANDARD_KINDS:
            key = _standard_key(label, kind)
            if key not in present or key in written:
                continue
            staff = tuple(
                _model_code(kind, p, hidden=scoped and user == "other_region_manager")
                for user, p in zip(STAFF, perms, strict=True)
            )
            by_object = kind in ("change", "history", "delete")
            path = _r(key, SAMPLES[label]) if by_object else _r(key)
            actions = None
            if kind == "changelist":
                custom = CUSTOM_ACTIONS.get(label, (set(),) * 5)
                custom = (*custom, custom[-1])  # both region managers
                actions = tuple(
                    frozenset(extra | ({"delete_selected"} if "d" in p else set()))
                    for p, extra in zip(perms, custom, strict=True)
                )
                actions = (frozenset(), *actions, *(frozenset(),) * len(LOGIN_ONLY))
            checks.append(Check(key, "", path, ("lgn", *staff, *LOGIN_ONLY), actions))
    order = {key: i for i, key in enumerate(STATE_CHANGING_GETS)}
    return sorted(checks, key=lambda c: order.get(c.key, -1))


def _covered_keys() -> set[str]:
    keys = {e.key for e in URLS}
    for label in MODEL_ACCESS:
        keys |= {_standard_key(label, kind) for kind in STANDARD_KINDS}
    return keys


# --- the tests -------------------------------------------------------------------------------


def test_every_url_is_in_the_matrix():
    missing = sorted(_url_keys() - _covered_keys())

    assert missing == [], "URLs missing from the access matrix:\n" + "\n".join(missing)


def test_every_matrix_entry_is_still_a_url():
    present = _url_keys()
    registered = _registered_models()

    stale = sorted({e.key for e in URLS} - present)
    stale += [f"MODEL_ACCESS {label}" for label in MODEL_ACCESS if label not in registered]
    stale += [
        f"registered model without a MODEL_ACCESS row: {label}"
        for label in registered
        if label not in MODEL_ACCESS and label not in MODEL_URLS_IN_URLS
    ]
    stale += [f"SAMPLES {label}" for label in SAMPLES if label not in MODEL_ACCESS]
    stale += [f"no SAMPLES for {label}" for label in MODEL_ACCESS if label not in SAMPLES]

    assert stale == [], "Matrix entries that are no longer URLs:\n" + "\n".join(stale)


def _client_for(user_key: str, w) -> tuple[Client, dict]:
    client = Client(raise_request_exception=False)
    headers = {}
    user = w.users[user_key]
    if user is not None:
        client.force_login(user)
    if user_key == "api_c1":
        headers["HTTP_AUTHORIZATION"] = f"Token {w.c1_key}"
    if user_key == "api_c2":
        headers["HTTP_AUTHORIZATION"] = f"Token {w.c2_key}"
    return client, headers


def _answer(response) -> str:
    if response.status_code in (301, 302):
        return f"{response.status_code} → {response['Location']}"
    return str(response.status_code)


def _matches(code: str, response, path: str, w) -> bool:
    status = response.status_code
    if code.isdigit():
        return status == int(code)
    if status != 302:
        return False
    location = urlsplit(response["Location"])
    nexts = parse_qs(location.query).get("next")
    if code == "lgn":
        return location.path == reverse("admin:login") and nexts == [path]
    if code == "dlg":
        return location.path == reverse("dealer:login") and nexts in (None, [path])
    if code == "gone":
        return response["Location"] == reverse("admin:index")
    if code.startswith(">"):
        return response["Location"] == TARGETS[code[1:]](w)
    raise AssertionError(f"unknown code {code}")


# Pages where an otherwise outside user legitimately sees the sample customer, with the reason.
SEES_THE_CUSTOMER: dict[str, tuple[str, str]] = {
    "hq_agent": (
        "admin:leads_supervisionsample_",
        "sampling supervision: the agent calls the sampled (dispatched) customer back",
    ),
}


def _personal_data_found(user_key: str, check: Check, response) -> list[str]:
    if response.status_code != 200 or check.key in DOWNLOADS:
        return []
    if response.streaming or "attachment" in response.get("Content-Disposition", ""):
        return ["an unlisted download (add it to DOWNLOADS)"]
    body = response.content.decode("utf-8", errors="replace")
    found = []
    if check.key not in FULL_MOBILE_ALLOWED:
        found += [f"full mobile {form!r}" for form in SAMPLE_MOBILE_FORMS if form in body]
    allowed_prefix = SEES_THE_CUSTOMER.get(user_key, ("\0", ""))[0]
    if user_key in OUTSIDERS and not check.key.startswith(allowed_prefix):
        escaped = json.dumps(SAMPLE_NAME)[1:-1]
        if SAMPLE_NAME in body or escaped in body:
            found.append(f"the customer's name {SAMPLE_NAME!r}")
        if SAMPLE_MASKED in body:
            found.append(f"the customer's masked mobile {SAMPLE_MASKED!r}")
    return found


def _offered_actions(response) -> frozenset[str]:
    form = (getattr(response, "context_data", None) or {}).get("action_form")
    if form is None:
        return frozenset()
    return frozenset(name for name, _label in form.fields["action"].choices if name)


def _table(rows) -> str:
    header = ("url name", "variant", "path", "expected", "got")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = [" | ".join(str(v).ljust(widths[i]) for i, v in enumerate(r)) for r in [header, *rows]]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


@pytest.mark.parametrize("user_key", USERS)
def test_each_user_gets_exactly_the_matrix_answers_and_no_personal_data(user_key):
    """Given the small world, when the user GETs every URL of the matrix, then each answer is
    the table's (status, and where a 302 goes) and no 200 shows the sample customer's full
    mobile, nor anything of that customer to a user who may not see them."""
    w = access_world()
    client, headers = _client_for(user_key, w)
    column = USERS.index(user_key)
    mismatches = []

    for check in _checks():
        path = check.path(w)
        expected = check.codes[column]
        response = client.get(path, **headers)
        if not _matches(expected, response, path, w):
            mismatches.append((check.key, check.variant, path, expected, _answer(response)))
        for leak in _personal_data_found(user_key, check, response):
            mismatches.append((check.key, check.variant, path, "no personal data", leak))
        if check.actions is not None and response.status_code == 200:
            offered = _offered_actions(response)
            if offered != check.actions[column]:
                wanted = ", ".join(sorted(check.actions[column])) or "none"
                got = ", ".join(sorted(offered)) or "none"
                mismatches.append((check.key, "actions", path, wanted, got))

    assert not mismatches, (
        f"{len(mismatches)} answers differ from the access matrix for {user_key}:\n"
        + _table(mismatches)
    )
