from services.attribution.activations import models as activation_models  # noqa: F401
from services.attribution.campaign import models  # noqa: F401  (registers the tables)
from services.attribution.clicks import models as click_models  # noqa: F401
from services.attribution.codes import models as code_models  # noqa: F401
from services.attribution.crediting import models as credit_models  # noqa: F401
from services.attribution.enrolment import models as enrolment_models  # noqa: F401
from services.attribution.fraud import models as fraud_models  # noqa: F401
from services.attribution.fx import models as fx_models  # noqa: F401
from services.attribution.incrementality import models as holdout_models  # noqa: F401
from services.attribution.ledger import models as ledger_models  # noqa: F401
from services.attribution.links import models as link_models  # noqa: F401
from services.attribution.orders import models as order_models  # noqa: F401
from services.attribution.privacy import models as privacy_models  # noqa: F401
from services.attribution.ratecards import models as rate_card_models  # noqa: F401
from services.attribution.reports import models as report_models  # noqa: F401
from services.attribution.rules import models as rule_models  # noqa: F401
from services.attribution.db import Base
from shared.migrations import run_env

run_env(Base.metadata)
