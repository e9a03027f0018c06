from leads.admin import (  # noqa: F401
    cleansing,
    imports,
    lead,
    lifecycle,
    privacy,
    records,
    reveals,
    security,
    third_party,
)
