"""The one family of business errors. Services raise these; edges render them."""

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """A business rule refused an operation. `message` is readable by the user (translated)."""

    code = "domain_error"
    default_message = _("操作无法完成。")

    def __init__(self, message=None, *, code: str | None = None, **params):
        self.message = message if message is not None else self.default_message
        if code:
            self.code = code
        self.params = params
        super().__init__(str(self))

    def __str__(self) -> str:
        text = str(self.message)
        return text % self.params if self.params else text


class NotFound(DomainError):
    code = "not_found"
    default_message = _("对象不存在。")


class InvalidTransition(DomainError):
    code = "invalid_transition"
    default_message = _("当前状态下不允许此操作。")


class ConflictError(DomainError):
    code = "conflict"
    default_message = _("与现有数据冲突。")


class ValidationFailed(DomainError):
    code = "validation_failed"
    default_message = _("输入不合法。")
