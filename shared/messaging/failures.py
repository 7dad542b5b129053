"""Why a record failed, and what the consumer does about it (ADR 0002, ADR 0005).

- *unavailable*: the database cannot serve anyone right now (no connection, shutting down,
  out of resources, read-only during a failover). Waiting is the only cure, so the consumer
  retries with capped backoff until it is back or the consumer is stopped.
- *transient*: this transaction lost a race or ran out of time (serialization failure,
  deadlock, lock not available, statement timeout) or the handler raised `TransientError`.
  A later attempt may succeed, but it may also keep failing, so retries are bounded.
- *permanent*: anything else. Bad data or a bug in the handler (an `OSError` or `TimeoutError`
  raised by handler code included) never heals by retrying; the record is dead-lettered.

Database errors are classified by SQLSTATE (PostgreSQL appendix A), by class where the whole
class means one thing. An error raised while merely obtaining a connection is unavailable
whatever its type: that is where a down database surfaces as a bare `OSError`.
"""

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

UNAVAILABLE = "unavailable"
TRANSIENT = "transient"
PERMANENT = "permanent"

_UNAVAILABLE_CLASSES = {"08", "53"}  # connection exception; insufficient resources
_UNAVAILABLE_STATES = {
    "25006",  # read-only SQL transaction: a demoted primary or a standby mid-failover
    "57P01",  # admin shutdown
    "57P02",  # crash shutdown
    "57P03",  # cannot connect now (starting up)
}
_TRANSIENT_CLASSES = {"40"}  # transaction rollback: serialization failure, deadlock
_TRANSIENT_STATES = {
    "55P03",  # lock not available (NOWAIT, lock_timeout)
    "57014",  # query canceled (statement_timeout)
}


class TransientError(Exception):
    """Raise from a handler when a later attempt may succeed (e.g. a dependency is down)."""


class PoisonMessage(Exception):
    """A record that can never be processed: not JSON, not an envelope, or off-contract."""


class DatabaseUnavailable(Exception):
    """No connection could be obtained for the record's transaction."""


class Abandoned(Exception):
    """Stop was requested while a record was unfinished; its offset must not move."""


def sqlstate_of(exc: BaseException) -> str | None:
    return getattr(getattr(exc, "orig", None), "sqlstate", None) or getattr(exc, "sqlstate", None)


def failure_kind(exc: BaseException) -> str:
    """UNAVAILABLE, TRANSIENT or PERMANENT (see the module docstring)."""
    if isinstance(exc, DatabaseUnavailable):
        return UNAVAILABLE
    if isinstance(exc, TransientError):
        return TRANSIENT
    sqlstate = sqlstate_of(exc)
    if sqlstate:
        if sqlstate[:2] in _UNAVAILABLE_CLASSES or sqlstate in _UNAVAILABLE_STATES:
            return UNAVAILABLE
        if sqlstate[:2] in _TRANSIENT_CLASSES or sqlstate in _TRANSIENT_STATES:
            return TRANSIENT
        return PERMANENT
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return UNAVAILABLE
    if isinstance(exc, PoolTimeoutError):  # every pooled connection busy: the database side
        return UNAVAILABLE
    # The driver's own failures without a server SQLSTATE on a connection that is still good
    # ("another operation is in progress": a handler misusing its session) may pass or may be a
    # bug: bounded retries, never a partition held for good.
    if isinstance(exc, (OperationalError, InterfaceError)):
        return TRANSIENT
    return PERMANENT
