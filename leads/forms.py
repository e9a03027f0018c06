"""Forms shared by the admin and the dealer pages."""

from django import forms
from django.utils.translation import gettext_lazy as _

from leads.models import MobileReveal


class RevealForm(forms.Form):
    """ "查看号码": the reason is required (and a note when the reason is "other")."""

    reason = forms.ChoiceField(
        label=_("查看原因"),
        choices=[("", _("选择查看原因…")), *MobileReveal.Reason.choices],
    )
    note = forms.CharField(label=_("说明"), max_length=200, required=False)
    next = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        if data.get("reason") == MobileReveal.Reason.OTHER and not data.get("note", "").strip():
            self.add_error("note", _("原因选择“其他”时，请填写说明。"))
        return data


def reveal_panel(request, lead, *, action_url: str, next_url: str) -> dict:
    """What a page needs to show a lead's number: masked, or in full after a logged reveal
    (the `reveal` query parameter names the user's reveal row), and the reveal form."""
    from leads.services.reveal import may_reveal, revealed_mobile

    revealed = revealed_mobile(user=request.user, lead=lead, reveal_id=request.GET.get("reveal"))
    return {
        "masked": lead.customer.masked_mobile,
        "revealed": revealed,
        "can_reveal": not revealed and may_reveal(request.user, lead),
        "form": RevealForm(initial={"next": next_url}),
        "action": action_url,
    }
