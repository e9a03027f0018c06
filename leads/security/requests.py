"""Admin actions that change data on a GET: unfold's list and row actions are links, so
"领取下一条", "立即运行全部规则", "立即增量刷新" and opening the workbench (which claims the
lead) run on GET. CSRF tokens do not protect a GET; the browser's Sec-Fetch-Site header does:
a request another site's page made the browser send is refused."""

from functools import wraps

from django.core.exceptions import PermissionDenied


def refuse_cross_site(action):
    """For a ModelAdmin method `(self, request, *args)`: 403 when the request came from
    another site (`Sec-Fetch-Site: cross-site`, sent by every current browser)."""

    @wraps(action)
    def wrapped(model_admin, request, *args, **kwargs):
        if request.META.get("HTTP_SEC_FETCH_SITE") == "cross-site":
            raise PermissionDenied
        return action(model_admin, request, *args, **kwargs)

    return wrapped
