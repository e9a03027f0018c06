from leads.admin import lead, records, third_party  # noqa: F401
