from services.audit.audit import models  # noqa: F401  (registers the tables)
from services.audit.db import Base
from shared.migrations import run_env

run_env(Base.metadata)
