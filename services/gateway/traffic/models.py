"""The shared token buckets (gateway schema): one row per credential that called recently.

UNLOGGED: a bucket changes on every lease, and nothing in it is worth a WAL record. After a crash
PostgreSQL empties the table, which gives every caller a full bucket once; a standby never sees
it, which a failover treats the same way (docs/decisions/0014). No index besides the key: an
update that touches no indexed column stays a HOT update, in place on its page.
"""

from datetime import datetime

from sqlalchemy import DateTime, Double, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from services.gateway.db import Base


class RateBucket(Base):
    __tablename__ = "rate_buckets"
    __table_args__ = {"prefixes": ["UNLOGGED"]}

    key: Mapped[str] = mapped_column(
        String(200), primary_key=True, comment="key:<key id> or tenant:<id>:sub:<subject>."
    )
    tokens: Mapped[float] = mapped_column(Double, comment="Tokens left at refilled_at.")
    granted: Mapped[int] = mapped_column(Integer, comment="Tokens handed out by the last lease.")
    refilled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
