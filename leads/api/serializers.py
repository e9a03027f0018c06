from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

MAX_BATCH = 500


class LeadIntakeInputSerializer(serializers.Serializer):
    """One lead as a channel sends it. Only `external_id` is required: a lead with an unusable
    mobile is still stored (outcome `invalid`) so that it counts in the channel's valid rate."""

    external_id = serializers.CharField(max_length=64, help_text=_("渠道自己的线索ID，幂等键"))
    mobile = serializers.CharField(max_length=40, required=False, allow_blank=True)
    name = serializers.CharField(max_length=50, required=False, allow_blank=True)
    dealer_code = serializers.CharField(max_length=20, required=False, allow_blank=True)
    model_code = serializers.CharField(max_length=30, required=False, allow_blank=True)
    province = serializers.CharField(max_length=20, required=False, allow_blank=True)
    city = serializers.CharField(max_length=30, required=False, allow_blank=True)
    purchase_timeframe = serializers.CharField(
        max_length=20, required=False, allow_blank=True, help_text="2w / 1m / 3m / 6m / later"
    )
    consent = serializers.BooleanField(
        required=False, default=False, help_text=_("客户同意所选经销商联系")
    )
    remark = serializers.CharField(max_length=500, required=False, allow_blank=True)
    submitted_at = serializers.DateTimeField(required=False)


class IntakeResultSerializer(serializers.Serializer):
    raw_lead_id = serializers.IntegerField()
    lead_id = serializers.IntegerField(allow_null=True)
    outcome = serializers.ChoiceField(choices=["created", "merged", "invalid"])
    reasons = serializers.ListField(child=serializers.CharField())
    messages = serializers.ListField(child=serializers.CharField())


class BatchInputSerializer(serializers.Serializer):
    leads = serializers.ListField(
        child=serializers.DictField(),
        min_length=1,
        max_length=MAX_BATCH,
        help_text=_("最多 500 条"),
    )


class BatchItemSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    status = serializers.IntegerField(help_text="201 / 400 / 409")
    result = IntakeResultSerializer(required=False)
    error = serializers.DictField(required=False)


class BatchOutputSerializer(serializers.Serializer):
    results = BatchItemSerializer(many=True)
    created = serializers.IntegerField()
    merged = serializers.IntegerField()
    invalid = serializers.IntegerField()
    rejected = serializers.IntegerField()


class DispatchReasonSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class LeadStatusSerializer(serializers.Serializer):
    """What a channel may know of its own lead: no personal data."""

    external_id = serializers.CharField()
    raw_lead_id = serializers.IntegerField()
    received_at = serializers.DateTimeField()
    outcome = serializers.CharField()
    reasons = serializers.ListField(child=serializers.CharField())
    lead_id = serializers.IntegerField(allow_null=True)
    status = serializers.CharField(allow_null=True)
    status_label = serializers.CharField(allow_null=True)
    grade = serializers.CharField(allow_null=True)
    updated_at = serializers.DateTimeField(allow_null=True)
    dispatched_at = serializers.DateTimeField(allow_null=True)
    dispatch_at = serializers.DateTimeField(
        allow_null=True, help_text=_("派发时段未开放时，预计派发时间")
    )
    not_dispatched_because = DispatchReasonSerializer(many=True)
