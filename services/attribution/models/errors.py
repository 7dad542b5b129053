"""What the attribution models refuse, as `ValueError`s the API layer turns into 4xx answers.

Each carries what a client needs to fix the request or understand the refusal: the valid model
names, the parameter and why, or what data is missing. None of them is ever replaced by a
made-up figure.
"""

from __future__ import annotations


class ModelError(ValueError):
    """Base of the models' refusals."""


class UnknownModel(ModelError):
    """A model name that is not one of `valid`."""

    def __init__(self, name: object, valid: tuple[str, ...]):
        self.name = name
        self.valid = valid
        super().__init__(f"unknown attribution model {name!r}; valid models: {', '.join(valid)}")


class InvalidParams(ModelError):
    """A model parameter that is missing, unknown or out of range: `field` and `reason`."""

    def __init__(self, field: str, reason: str):
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class InsufficientData(ModelError):
    """The data cannot support an answer; `missing` says what is missing (an explicit answer or a
    422, never a figure)."""

    def __init__(self, missing: str):
        self.missing = missing
        super().__init__(f"insufficient data: {missing}")
