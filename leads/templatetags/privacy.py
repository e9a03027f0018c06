"""Template filters for personal data: `{{ text|mask_mobiles }}` masks every mobile in a text."""

from django import template

from leads.masking import mask_mobiles as _mask_mobiles

register = template.Library()


@register.filter
def mask_mobiles(value):
    return _mask_mobiles(str(value)) if value not in (None, "") else value
