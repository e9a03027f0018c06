"""The customer's rights under PIPL (个人信息保护法 arts. 45 and 47): a copy of everything held
about them (access) and the erasure of their personal data (anonymisation).

Erasure anonymises instead of deleting: every row stays with its status, timestamps, dealer,
channel, grade and score, so every count and KPI stays exactly the same, but nothing in them
identifies the person any more. What is scrubbed:

- the customer: name blanked, mobile replaced by "X<id>" (the old number is free again, so the
  same person submitting again becomes a new customer), `anonymised_at` set;
- raw leads: the normalised mobile blanked; in the payload every value replaced except the keys
  of `PAYLOAD_KEPT_KEYS` (codes, ids, timestamps, intent — no personal data, needed for
  statistics), and in those any copy of the name or a mobile;
- free text typed by people (follow-up notes, call notes, nurture contents, sample notes,
  notices, notifications, event reasons, the lead's consent note and HQ reason, the reveal
  note, the fsm log description): replaced by "（已匿名）";
- defeat and invalid reasons, which the reason KPIs group by: a reason from HQ's lists is kept,
  only what was typed beside it (or instead of it) is replaced;
- system texts and JSON details (event data, assignment reason, raw lead outcome detail,
  import row messages): every copy of the customer's names and of any mobile number replaced,
  and under keys that hold typed text (`FREE_TEXT_KEYS`) the whole value;
- import rows: the name and the mobile shown blanked; the uploaded import files (which the
  import report re-reads) rewritten as .xlsx with every cell of the customer's rows replaced,
  every other row kept at its row number; the old file deleted once the erasure commits;
- the admin log's title of the customer; the customer's names and numbers inside the filters
  of logged exports, also where percent-encoded in a query string ("q=139+1234+5678").

The request itself (PrivacyRequest, who handled it, its reference) is kept as the legal record.
"""

from leads.services.customer_rights.common import (
    FREE_TEXT_KEYS,
    PAYLOAD_KEPT_KEYS,
    PERMISSION,
    SUMMARY_LABELS,
    XLSX_CONTENT_TYPE,
    PrivacyRequestRefused,
    erased_text,
)
from leads.services.customer_rights.erasure import customer_anonymise
from leads.services.customer_rights.export import EXPORT_COLUMNS, customer_data_export

__all__ = [
    "EXPORT_COLUMNS",
    "FREE_TEXT_KEYS",
    "PAYLOAD_KEPT_KEYS",
    "PERMISSION",
    "SUMMARY_LABELS",
    "XLSX_CONTENT_TYPE",
    "PrivacyRequestRefused",
    "customer_anonymise",
    "customer_data_export",
    "erased_text",
]
