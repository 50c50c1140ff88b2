"""Every model module, imported so that `Base.metadata` knows all tables (for Alembic)."""

from testament.accounts import models as accounts_models
from testament.accounts import throttle as throttle_models
from testament.actors import models as actor_models
from testament.catalog import models as catalog_models
from testament.enrich import models as enrich_models
from testament.faces import models as face_models
from testament.investigate import models as investigate_models
from testament.jobs import models as jobs_models
from testament.watch import models as watch_models
from testament.watch import page_records as page_models

Base = catalog_models.Base

__all__ = [
    "Base",
    "accounts_models",
    "actor_models",
    "catalog_models",
    "enrich_models",
    "face_models",
    "investigate_models",
    "jobs_models",
    "page_models",
    "throttle_models",
    "watch_models",
]
