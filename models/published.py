"""What each Prefect API was last shown of a cohort, so unchanged pictures are not
published again (``journey.services.published``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from journey.models.base import Base


class PublishedPicture(Base):
    """The digest of a cohort's artifacts (table rows, share, summary without its moment)
    as last published to one Prefect API, and when. No names: a digest and an address."""

    __tablename__ = "published_pictures"

    cohort_id: Mapped[str] = mapped_column(
        ForeignKey("cohorts.id", ondelete="CASCADE"), primary_key=True
    )
    api: Mapped[str] = mapped_column(
        String(300), primary_key=True, doc="PREFECT_API_URL, or 'ephemeral <hash of its db>'."
    )
    digest: Mapped[str] = mapped_column(String(64), doc="SHA-256 of the picture, hex.")
    published_at: Mapped[datetime]
