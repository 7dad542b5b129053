"""A tenant's dated exchange rates: what lets a report add amounts of different currencies."""

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, DateTime, Numeric, String, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.attribution.db import Base
from shared.tenancy import TenantOwned


class FxRate(TenantOwned, Base):
    __tablename__ = "fx_rates"
    __table_args__ = (
        UniqueConstraint("tenant_id", "base", "quote", "on_date"),
        CheckConstraint("rate > 0", name="rate_positive"),
        CheckConstraint("base <> quote", name="two_currencies"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    base: Mapped[str] = mapped_column(String(3), comment="ISO 4217: one unit of it...")
    quote: Mapped[str] = mapped_column(String(3), comment="...is `rate` units of this one (ISO 4217).")
    on_date: Mapped[date] = mapped_column(Date, comment="The day the rate is for; it holds until a later one.")
    rate: Mapped[Decimal] = mapped_column(Numeric(30, 12))
    source: Mapped[str] = mapped_column(String(200), comment="Where the tenant took it from (\"ECB reference rate\").")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), onupdate=func.now())
