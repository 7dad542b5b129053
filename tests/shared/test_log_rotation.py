"""The services' log file handler (shared/observability.py `SizeRotatingFileHandler`): rotated by
size as the standard RotatingFileHandler rotates, from the size it counts as it writes."""

import logging
from pathlib import Path

from shared.observability import SizeRotatingFileHandler


def _logger(handler: logging.Handler, name: str) -> logging.Logger:
    logger = logging.getLogger(f"test.rotation.{name}")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def test_the_log_rotates_by_size_and_keeps_every_recent_line_once(tmp_path):
    path = tmp_path / "service.log"
    handler = SizeRotatingFileHandler(path, maxBytes=1000, backupCount=3, encoding="utf-8")
    logger = _logger(handler, "size")
    for i in range(40):
        logger.info("record %03d %s", i, "é" * 40)  # 52 characters, 92 bytes a line
    handler.close()
    files = [path, *(Path(f"{path}.{n}") for n in (1, 2, 3))]
    assert all(f.exists() for f in files)
    kept = [line for f in reversed(files) for line in _lines(f)]  # oldest backup first
    numbers = [int(line.split()[1]) for line in kept]
    assert numbers == list(range(numbers[0], 40))  # the newest lines, in order, none twice or lost
    # Rotated as the standard handler would have (it counts characters as this one does).
    reference = tmp_path / "reference.log"
    standard = logging.handlers.RotatingFileHandler(reference, maxBytes=1000, backupCount=3, encoding="utf-8")
    logger = _logger(standard, "reference")
    for i in range(40):
        logger.info("record %03d %s", i, "é" * 40)
    standard.close()
    assert [_lines(f) for f in files] == [_lines(Path(str(f).replace("service", "reference"))) for f in files]


def test_a_log_reopened_counts_what_the_file_holds_already(tmp_path):
    path = tmp_path / "service.log"
    path.write_text("x" * 950 + "\n", encoding="utf-8")
    handler = SizeRotatingFileHandler(path, maxBytes=1000, backupCount=1, encoding="utf-8")
    logger = _logger(handler, "reopened")
    logger.info("a line that does not fit beside the old ones, being long enough")
    handler.close()
    assert _lines(Path(f"{path}.1")) == ["x" * 950]
    assert _lines(path) == ["a line that does not fit beside the old ones, being long enough"]


def test_a_path_that_is_not_a_regular_file_is_never_rotated(tmp_path):
    handler = SizeRotatingFileHandler("/dev/null", maxBytes=10, backupCount=1, encoding="utf-8")
    logger = _logger(handler, "devnull")
    for _ in range(5):
        logger.info("longer than ten characters")
    handler.close()
    assert not Path("/dev/null.1").exists()
