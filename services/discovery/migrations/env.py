from services.discovery.creator import models  # noqa: F401  (registers the tables)
from services.discovery.shortlist import models as shortlist_models  # noqa: F401
from services.discovery.brandfit import models as brandfit_models  # noqa: F401
from services.discovery.privacy import models as privacy_models  # noqa: F401
from services.discovery.db import Base
from shared.migrations import run_env

run_env(Base.metadata)
