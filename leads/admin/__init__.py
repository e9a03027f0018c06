from leads.admin import cleansing, imports, lead, lifecycle, records, third_party  # noqa: F401
