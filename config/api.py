"""One error body for the whole REST API:

    {"error": {"code": "...", "message": "...", "fields": {"field": ["..."]}}}

DomainError → 400 (validation) / 404 (not found) / 409 (conflict, invalid transition)."""

from django.utils.translation import gettext as _
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from config.errors import ConflictError, DomainError, InvalidTransition, NotFound, ValidationFailed

DOMAIN_STATUS = {
    ValidationFailed: status.HTTP_400_BAD_REQUEST,
    NotFound: status.HTTP_404_NOT_FOUND,
    ConflictError: status.HTTP_409_CONFLICT,
    InvalidTransition: status.HTTP_409_CONFLICT,
}


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    body: dict = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return {"error": body}


class ErrorSerializer(serializers.Serializer):
    """Documented error body."""

    class _Error(serializers.Serializer):
        code = serializers.CharField()
        message = serializers.CharField()
        fields = serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()), required=False
        )

    error = _Error()


def domain_error_response(error: DomainError) -> Response:
    code = next((s for cls, s in DOMAIN_STATUS.items() if isinstance(error, cls)), 400)
    return Response(error_body(error.code, str(error)), status=code)


def api_exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return domain_error_response(exc)
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = error_body("invalid", _("请求数据不合法。"), _flatten(detail))
    elif isinstance(exc, exceptions.Throttled):
        wait = int(exc.wait or 1)
        response.data = error_body(
            "throttled", _("请求过于频繁，请在 %(s)s 秒后重试。") % {"s": wait}
        )
    elif isinstance(exc, exceptions.ParseError):
        response.data = error_body("malformed", _("请求体不是合法的 JSON。"))
    else:
        response.data = error_body(
            getattr(exc, "default_code", "error"), str(getattr(exc, "detail", exc))
        )
    return response


def _flatten(detail) -> dict:
    result = {}
    for key, value in detail.items():
        if isinstance(value, dict):
            for sub, messages in _flatten(value).items():
                result[f"{key}.{sub}"] = messages
        elif isinstance(value, list):
            result[key] = [str(v) for v in value]
        else:
            result[key] = [str(value)]
    return result
