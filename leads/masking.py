"""Masking of personal data for display, exports and logs (138****8000).

No imports from models: the models, the logging filter and the exports all use these."""

import re
import unicodedata

_D = "[0-9０-９]"  # ASCII or full-width digit
_S = r"[\s\-.()（）+＋]?"  # at most one separator between two digits ("139+1234+5678" too)
# A mainland mobile inside any text, in every way people (and URL encoders) write one:
# 13800138000, 138 0013 8000, 138-0013-8000, +86 138…, 0086…, 86138…, full-width digits.
MOBILE_IN_TEXT = re.compile(
    rf"(?<![0-9０-９])(?:(?:[+＋]|00)?(?:86|８６)[\s\-]?)?"
    rf"([1１]{_S}[3-9３-９](?:{_S}{_D}){{9}})(?![0-9０-９])"
)


def _digits(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKC", text) if ch.isdigit())


def mask_mobile(mobile: str) -> str:
    """138****8000 for an 11-digit mobile, **** for anything else."""
    return f"{mobile[:3]}****{mobile[-4:]}" if mobile and len(mobile) == 11 else "****"


def mask_mobiles(text: str) -> str:
    """138****8000 for every mobile in the text, however it is written."""
    return MOBILE_IN_TEXT.sub(lambda m: mask_mobile(_digits(m.group(1))), text)


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
