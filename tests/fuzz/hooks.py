"""Schemathesis hooks for the API fuzz run (loaded through SCHEMATHESIS_HOOKS).

A pagination cursor is an opaque token only the API itself mints: no schema can describe the
valid ones, so a generated cursor is always refused with a 422 naming `query.cursor`. In a case
meant to be valid the generated cursor is dropped; a case whose query is deliberately invalid
keeps it, so a malformed cursor must still be refused.
"""

import schemathesis
from schemathesis.core.parameters import ParameterLocation


@schemathesis.hook
def before_call(context, case, kwargs) -> None:
    if case.query and "cursor" in case.query and not (case.meta and case.meta.is_negative_at(ParameterLocation.QUERY)):
        del case.query["cursor"]
