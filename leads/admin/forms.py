"""Forms of the admin transition buttons that need input (django-fsm admin `form`)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from dealers.models import Advisor
from leads.models import Grade, Lead


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("原因"), max_length=255, widget=forms.Textarea(attrs={"rows": 3})
    )


class GradeForm(forms.Form):
    grade = forms.ChoiceField(
        label=_("意向级别"),
        choices=[(g.value, g.label) for g in (Grade.H, Grade.A, Grade.B, Grade.C, Grade.N)],
    )
    reason = forms.CharField(label=_("原因"), max_length=255, required=False)


class AssignForm(forms.ModelForm):
    """Pick an active advisor of the lead's own dealer."""

    advisor_choice = forms.ModelChoiceField(label=_("销售顾问"), queryset=Advisor.objects.none())
    reason = forms.CharField(label=_("备注"), max_length=255, required=False)

    class Meta:
        model = Lead
        fields: list[str] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["advisor_choice"].queryset = Advisor.objects.filter(
            dealer_id=self.instance.dealer_id, is_active=True
        ).order_by("role", "name")

    def save(self, commit=True):  # the service saves; the form only validates
        return self.instance
