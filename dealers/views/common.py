"""Small helpers shared by the dealer page views."""

from django.contrib import messages

from config.errors import DomainError


def run_service(request, call, *, success: str = "") -> bool:
    """Call a service; its refusal becomes a message for the user (never a 500)."""
    try:
        call()
    except DomainError as error:
        messages.error(request, str(error))
        return False
    if success:
        messages.success(request, success)
    return True


def report_outcomes(request, outcomes) -> None:
    """Batch actions say what happened to each lead."""
    for outcome in outcomes:
        level = messages.SUCCESS if outcome.ok else messages.ERROR
        messages.add_message(request, level, f"#{outcome.lead_id}：{outcome.message}")


def selected_ids(request) -> list[int]:
    ids = []
    for value in request.POST.getlist("lead"):
        if value.isdigit():
            ids.append(int(value))
    return ids
