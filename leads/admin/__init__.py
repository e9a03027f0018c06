from leads.admin import cleansing, lead, lifecycle, records, third_party  # noqa: F401
