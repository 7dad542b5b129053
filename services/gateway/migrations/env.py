from services.gateway.identity import models  # noqa: F401  (registers the tables)
from services.gateway.webhooks import models as webhook_models  # noqa: F401
from services.gateway.privacy import models as privacy_models  # noqa: F401
from services.gateway.traffic import models as traffic_models  # noqa: F401  (registers the tables)
from services.gateway.db import Base
from shared.migrations import run_env

run_env(Base.metadata)
