"""The channel API: one view per operation, explicit input and output serializers."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from channels.auth import ChannelRateThrottle, ChannelTokenAuthentication, IsActiveChannel
from config.api import ErrorSerializer, api_exception_handler, error_body
from config.errors import DomainError, NotFound
from leads.api.serializers import (
    BatchInputSerializer,
    BatchOutputSerializer,
    IntakeResultSerializer,
    LeadIntakeInputSerializer,
    LeadStatusSerializer,
)
from leads.models import RawLead
from leads.selectors import raw_lead_status_for_channel
from leads.services.intake import IntakeLookups, IntakeResult, lead_intake

ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description=_("请求数据不合法（字段错误）")),
    401: OpenApiResponse(ErrorSerializer, description=_("缺少或无效的渠道令牌")),
    403: OpenApiResponse(ErrorSerializer, description=_("渠道已停用")),
    429: OpenApiResponse(ErrorSerializer, description=_("请求过于频繁")),
}


def _result_data(result: IntakeResult) -> dict:
    return {
        "raw_lead_id": result.raw_lead_id,
        "lead_id": result.lead_id,
        "outcome": result.outcome,
        "reasons": result.reasons,
        "messages": result.messages,
    }


class ChannelApi(APIView):
    authentication_classes = [ChannelTokenAuthentication]
    permission_classes = [IsActiveChannel]
    throttle_classes = [ChannelRateThrottle]

    def get_exception_handler(self):
        return api_exception_handler


class LeadIntakeApi(ChannelApi):
    @extend_schema(
        operation_id="lead_intake",
        summary=_("提交一条线索"),
        request=LeadIntakeInputSerializer,
        responses={
            201: IntakeResultSerializer,
            409: OpenApiResponse(ErrorSerializer, description=_("同一 external_id 内容不同")),
            **ERRORS,
        },
    )
    def post(self, request):
        if not isinstance(request.data, dict):
            return Response(error_body("invalid", str(_("请求体必须是 JSON 对象。"))), status=400)
        LeadIntakeInputSerializer(data=request.data).is_valid(raise_exception=True)
        result = lead_intake(
            channel=request.user.channel, data=dict(request.data), source=RawLead.Source.API
        )
        response = Response(_result_data(result), status=status.HTTP_201_CREATED)
        if result.replayed:
            response["Idempotent-Replayed"] = "true"
        return response


class LeadIntakeBatchApi(ChannelApi):
    @extend_schema(
        operation_id="lead_intake_batch",
        summary=_("批量提交线索（最多 500 条）"),
        request=BatchInputSerializer,
        responses={200: BatchOutputSerializer, **ERRORS},
    )
    def post(self, request):
        batch = BatchInputSerializer(data=request.data)
        batch.is_valid(raise_exception=True)
        channel, lookups = request.user.channel, IntakeLookups()
        results, counts = [], {"created": 0, "merged": 0, "invalid": 0, "rejected": 0}
        for index, item in enumerate(batch.validated_data["leads"]):
            one = LeadIntakeInputSerializer(data=item)
            if not one.is_valid():
                results.append({"index": index, "status": 400, **_invalid(one.errors)})
                counts["rejected"] += 1
                continue
            try:
                result = lead_intake(
                    channel=channel, data=dict(item), source=RawLead.Source.API, lookups=lookups
                )
            except DomainError as error:
                response = api_exception_handler(error, {})
                results.append({"index": index, "status": response.status_code, **response.data})
                counts["rejected"] += 1
                continue
            results.append({"index": index, "status": 201, "result": _result_data(result)})
            counts[result.outcome] += 1
        return Response({"results": results, **counts})


def _invalid(errors) -> dict:
    from rest_framework.exceptions import ValidationError

    return api_exception_handler(ValidationError(errors), {}).data


class LeadStatusApi(ChannelApi):
    @extend_schema(
        operation_id="lead_status",
        summary=_("查询本渠道线索的处理状态（不含个人信息）"),
        responses={200: LeadStatusSerializer, 404: OpenApiResponse(ErrorSerializer), **ERRORS},
    )
    def get(self, request, external_id: str):
        data = raw_lead_status_for_channel(channel=request.user.channel, external_id=external_id)
        if data is None:
            raise NotFound(_("本渠道没有该线索：%(id)s"), id=external_id)
        return Response(LeadStatusSerializer(data).data)
