"""Mainland China mobile numbers: one normal form (11 digits) for every way people write them."""

import unicodedata

import phonenumbers
from phonenumbers import PhoneNumberType


def normalise_mobile(value) -> str:
    """Return the 11-digit mobile, or "" when the value is not a usable mainland mobile.

    Accepts spaces, dashes, dots, brackets, +86 / 0086 / 86 prefixes, full-width digits and
    numbers that came out of Excel as floats ("13800138000.0").
    """
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if text.endswith(".0"):
        text = text[:-2]
    digits = "".join(ch for ch in text if ch.isdigit() or ch == "+")
    if digits.startswith("0086"):
        digits = "+86" + digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = "+" + digits
    if not digits or len(digits.lstrip("+")) < 11:
        return ""
    try:
        number = phonenumbers.parse(digits, "CN")
    except phonenumbers.NumberParseException:
        return ""
    if number.country_code != 86 or not phonenumbers.is_valid_number(number):
        return ""
    if phonenumbers.number_type(number) not in (
        PhoneNumberType.MOBILE,
        PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        return ""
    national = str(number.national_number)
    return national if len(national) == 11 and national.startswith("1") else ""
