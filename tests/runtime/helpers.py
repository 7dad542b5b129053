"""What the runtime tests read back from a platform's state folder."""

from pathlib import Path


def log_lines(logs_dir: Path, service: str) -> list[str]:
    """Every line a service has written: its log, rotated logs and process output."""
    return [
        line
        for path in sorted(logs_dir.glob(f"{service}*.log*"))
        for line in path.read_text(errors="replace").splitlines()
    ]
