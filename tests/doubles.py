"""Test doubles for the pluggable backends (notifier, nurture sender)."""


class RecordingSender:
    """A nurture sender that remembers what it was asked to send."""

    sent: list = []

    def send(self, **kwargs):
        self.sent.append(kwargs)
        return True
