from services.audit.appeals import models as appeal_models  # noqa: F401  (registers the tables)
from services.audit.audit import models  # noqa: F401
from services.audit.brandsafety import models as brand_safety_models  # noqa: F401
from services.audit.pods import models as pod_models  # noqa: F401
from services.audit.privacy import models as privacy_models  # noqa: F401
from services.audit.projection import models as projection_models  # noqa: F401
from services.audit.samples import models as sample_models  # noqa: F401
from services.audit.sharing import models as sharing_models  # noqa: F401
from services.audit.db import Base
from shared.migrations import run_env

run_env(Base.metadata)
