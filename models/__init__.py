"""The database: SQLAlchemy 2 typed ORM. Alembic (``journey db upgrade``) owns the schema."""

from journey.models.base import Base
from journey.models.cohort import (
    Cohort,
    CohortEvent,
    Enrolment,
    EnrolmentStatus,
    EventKind,
    Institution,
    LearningSet,
    Mentor,
    Person,
    Place,
)
from journey.models.erasure import Erasure, ErasureSalt
from journey.models.history import HistoryEntry
from journey.models.outbox import Notice, NoticeStatus, RecipientRole, RuleAdoption
from journey.models.progress import (
    Completion,
    EvaluationAnswer,
    EvaluationComment,
    EvaluationImport,
    EvaluationResponse,
    MentoringMeeting,
)
from journey.models.published import PublishedPicture

__all__ = [
    "Base",
    "Cohort",
    "CohortEvent",
    "Completion",
    "Enrolment",
    "EnrolmentStatus",
    "Erasure",
    "ErasureSalt",
    "EvaluationAnswer",
    "EvaluationComment",
    "EvaluationImport",
    "EvaluationResponse",
    "EventKind",
    "HistoryEntry",
    "Institution",
    "LearningSet",
    "Mentor",
    "MentoringMeeting",
    "Notice",
    "NoticeStatus",
    "Person",
    "Place",
    "PublishedPicture",
    "RecipientRole",
    "RuleAdoption",
]
