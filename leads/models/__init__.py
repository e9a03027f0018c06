"""The leads app's models, one module per concern; everything is importable from here."""

from leads.models.cleansing import (  # noqa: F401
    CallRecord,
    CleansingPolicy,
    CleansingQueueLead,
    DefeatReason,
    InvalidReason,
    NurtureTouch,
    NurturingLead,
    SupervisionSample,
)
from leads.models.core import *  # noqa: F403
from leads.models.core import (  # noqa: F401  (names used across the project)
    HQ_STATUSES,
    OPEN_GRADES,
    OWNED_STATUSES,
    POOL_STATUSES,
    REACTIVATABLE_STATUSES,
    WORKING_STATUSES,
    Customer,
    FollowUp,
    Grade,
    GradeCycle,
    Intent,
    Lead,
    LeadEvent,
    Notification,
    PurchaseTimeframe,
    RawLead,
    ScoringRule,
    Status,
    VehicleModel,
    VehicleSeries,
)
from leads.models.dispatch import CustomerNotice, DispatchPolicy  # noqa: F401
from leads.models.imports import *  # noqa: F403
from leads.models.imports import ExportLog, ImportJob, ImportRow  # noqa: F401
from leads.models.lifecycle import LifecycleRule  # noqa: F401
from leads.models.privacy import LoginFailure, MobileReveal, PrivacyRequest  # noqa: F401
