"""Background jobs: long work (review runs, imports, large exports, opening large cycles) queued by a page and run
by a worker (services/jobs.py). The row says who started what and how it ended; progress while it runs lives in the
queue's own storage, so that a job's own transaction never waits on its progress reports."""
from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
STATUSES = (QUEUED, RUNNING, DONE, FAILED)


class Job(db.Model):
    __tablename__ = "job"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    # The language of the person who started it: messages and errors are written in it.
    locale: Mapped[str] = mapped_column(String(8), default="zh")
    status: Mapped[str] = mapped_column(String(10), default=QUEUED)
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    result: Mapped[dict | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    # Runs started: a job whose worker died is queued again, up to jobs.MAX_ATTEMPTS runs.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped["User | None"] = relationship()  # noqa: F821

    __table_args__ = (
        Index("ix_job_user_created", "user_id", "created_at"),
        Index("ix_job_status", "status"),
    )

    @property
    def finished(self) -> bool:
        return self.status in (DONE, FAILED)
