"""The follower classifier: audience type of each sampled follower (guide: docs/guide/audit-classifier.md).

`default_model()` is the shipped model (followers-v1.json, trained on the bundled SRF data by
`limelight audit train --data data/followers/srf-2017-instagram-followers.csv`); `load_model`
reads any model file that command writes.
"""

from services.audit.engine.classifier.model import (
    FollowerClassifier,
    ModelFileError,
    UnknownModelVersion,
    default_model,
    load_model,
)

__all__ = ["FollowerClassifier", "ModelFileError", "UnknownModelVersion", "default_model", "load_model"]
