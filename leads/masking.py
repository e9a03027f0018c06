"""Masking of personal data for display, exports and logs (138****8000).

No imports from models: the models, the logging filter and the exports all use these."""

import re

# A mainland mobile inside any text: 13800138000, 138 0013 8000, 138-0013-8000, +86 138…
MOBILE_IN_TEXT = re.compile(r"(?<!\d)(1[3-9]\d)[ -]?(\d{4})[ -]?(\d{4})(?!\d)")


def mask_mobile(mobile: str) -> str:
    """138****8000 for an 11-digit mobile, **** for anything else."""
    return f"{mobile[:3]}****{mobile[-4:]}" if mobile and len(mobile) == 11 else "****"


def mask_mobiles(text: str) -> str:
    """138****8000 for every mobile in the text."""
    return MOBILE_IN_TEXT.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)


def mask_data(value):
    """The same structure (dicts, lists, strings, numbers) with every mobile inside masked."""
    if isinstance(value, str):
        return mask_mobiles(value)
    if isinstance(value, dict):
        return {key: mask_data(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [mask_data(item) for item in value]
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
        return mask_mobiles(text) if MOBILE_IN_TEXT.fullmatch(text) else value
    return value
