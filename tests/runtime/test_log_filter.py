"""A flood of one warning or error is written once, then once per interval with the count."""

import logging

from shared.observability import RepeatFilter


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def filtered_handler(clock) -> Collect:
    collect = Collect()
    collect.addFilter(RepeatFilter(interval=60, clock=clock))
    return collect


def logger_into(name: str, handler: logging.Handler) -> logging.Logger:
    logger = logging.getLogger(name)
    logger.handlers[:] = [handler]
    logger.propagate = False
    return logger


def test_repeated_error_is_suppressed_and_the_next_one_after_the_interval_reports_the_count():
    now = [1000.0]
    collect = filtered_handler(lambda: now[0])
    logger = logger_into("test.flood.count", collect)

    for node in range(5000):
        logger.error("Unable connect to node with id %s", node)
    now[0] += 61
    logger.error("Unable connect to node with id %s", 1)

    assert len(collect.records) == 2
    assert not hasattr(collect.records[0], "suppressed")
    assert collect.records[1].suppressed == 4999


def test_suppression_is_per_logger_and_message():
    collect = filtered_handler(lambda: 0.0)
    logger = logger_into("test.flood.keys", collect)
    other = logger_into("test.flood.other", collect)

    for _ in range(100):
        logger.error("broker unreachable")
        logger.error("fetch failed")
        other.error("broker unreachable")

    assert [(r.name, r.msg) for r in collect.records] == [
        ("test.flood.keys", "broker unreachable"),
        ("test.flood.keys", "fetch failed"),
        ("test.flood.other", "broker unreachable"),
    ]


def test_records_of_our_own_code_are_never_suppressed():
    """A parked outbox row, a 500 whose correlation id a client quotes: each line must exist."""
    collect = filtered_handler(lambda: 0.0)
    ours = logger_into("shared.tests.flood", collect)
    library = logger_into("library.tests.flood", collect)

    for _ in range(50):
        ours.error("outbox relay: row parked")
        library.error("Unable connect to node")

    assert [r.name for r in collect.records].count("shared.tests.flood") == 50
    assert [r.name for r in collect.records].count("library.tests.flood") == 1
