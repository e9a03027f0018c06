from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeadsConfig(AppConfig):
    name = "leads"
    verbose_name = _("线索")

    def ready(self):
        from django.contrib.auth.signals import user_logged_in, user_login_failed

        from leads.security import lockout

        user_login_failed.connect(lockout.on_user_login_failed, dispatch_uid="lockout_failure")
        user_logged_in.connect(lockout.on_user_logged_in, dispatch_uid="lockout_success")
