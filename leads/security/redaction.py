"""No personal data in logs or error reports: every mainland mobile becomes 138****8000.

- `MaskPersonalDataFilter` sits on every handler of LOGGING: the message (formatted with its
  arguments first), the traceback text and the stack are masked before any handler writes them;
- `MaskingExceptionReporterFilter` (DEFAULT_EXCEPTION_REPORTER_FILTER) masks the POST data and
  the request headers (query string, referer) shown in error reports;
- `MaskingExceptionReporter` (DEFAULT_EXCEPTION_REPORTER) masks what the filter cannot reach,
  the GET parameters, the URL, the exception text and the local variables: it masks the whole
  report, text and HTML, the form the admins' error e-mails are sent in.

Imported while LOGGING is set up, before the apps are loaded: no models here.
"""

import logging

from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

from leads.masking import mask_mobiles

_traceback_formatter = logging.Formatter()


class MaskPersonalDataFilter(logging.Filter):
    """Mask the mobiles of a record; never drops a record, never raises."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: keep its text, lose its arguments
            message = str(record.msg)
        record.msg = mask_mobiles(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = _traceback_formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_mobiles(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_mobiles(record.stack_info)
        return True


class MaskingExceptionReporterFilter(SafeExceptionReporterFilter):
    """Django's filter (passwords and secrets hidden) plus every mobile masked."""

    def get_post_parameters(self, request):
        parameters = super().get_post_parameters(request)
        if not parameters:
            return parameters
        masked = parameters.copy()
        for key, values in parameters.lists():
            masked.setlist(key, [_mask(value) for value in values])
        return masked

    def get_safe_request_meta(self, request):
        return {key: _mask(value) for key, value in super().get_safe_request_meta(request).items()}


class MaskingExceptionReporter(ExceptionReporter):
    """The error report (technical 500 page, admins' e-mail) with every mobile masked."""

    def get_traceback_data(self):
        data = super().get_traceback_data()
        if "request_GET_items" in data:
            data["request_GET_items"] = [
                (key, _mask(value)) for key, value in self.request.GET.items()
            ]
        return data

    def get_traceback_html(self):
        return mask_mobiles(super().get_traceback_html())

    def get_traceback_text(self):
        return mask_mobiles(super().get_traceback_text())


def _mask(value):
    if isinstance(value, str):
        return mask_mobiles(value)
    if isinstance(value, list):
        return [_mask(item) for item in value]
    return value
