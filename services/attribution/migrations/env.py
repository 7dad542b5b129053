from services.attribution.db import Base
from shared.migrations import run_env

run_env(Base.metadata)
