from leads.admin import cleansing, lead, records, third_party  # noqa: F401
