"""The report as a PDF: the same HTML printed by headless Chromium, run as a subprocess.

Chromium prints what a person's browser would ("Print → Save as PDF" gives the same pages, from
the page's print CSS); no second layout engine to keep in step. Each run gets a temporary
folder of its own (the page as a file, the PDF, Chromium's profile), removed afterwards whatever
happens; a run that outlives the timeout is killed with its whole process group (Chromium starts
helper processes of its own).
"""

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from shared.errors import LimelightError

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


class PdfUnavailable(LimelightError):
    """No PDF can be made here (no Chromium, or it failed): the HTML report still works, and
    prints to PDF from any browser."""

    status_code = 503
    error = "pdf_unavailable"

    def __init__(self, why: str):
        super().__init__(
            f"{why}. The HTML report (without ?format=pdf) prints to PDF from any browser: Print → Save as PDF."
        )


def find_chromium(configured: str | None = None) -> str | None:
    """The Chromium executable: `configured` (a path or a command name) if given, else the first
    of CANDIDATES on PATH."""
    if configured:
        return shutil.which(configured)
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def command(chromium: str, page: Path, out: Path, profile: Path) -> list[str]:
    args = [
        chromium, "--headless", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
        "--disable-extensions", "--disable-background-networking", "--disable-dev-shm-usage",
        "--no-pdf-header-footer", "--disable-breakpad", "--disable-crash-reporter",
        f"--user-data-dir={profile}", f"--print-to-pdf={out}", page.as_uri(),
    ]
    # Chromium refuses to start as root with its sandbox on; anyone else keeps the sandbox.
    if os.geteuid() == 0:
        args.insert(1, "--no-sandbox")
    return args


def html_to_pdf(html: str, chromium: str | None, *, timeout: float) -> bytes:
    """The PDF of `html` (blocking: call it from a worker thread). PdfUnavailable when there is no
    Chromium, it fails, or it runs past `timeout` seconds."""
    if chromium is None:
        raise PdfUnavailable(
            "no Chromium is installed here to print the PDF (looked for "
            + ", ".join(CANDIDATES) + "; set AUDIT_REPORT_CHROMIUM to its path)"
        )
    with tempfile.TemporaryDirectory(prefix="limelight-report-") as folder:
        page, out, profile = Path(folder) / "report.html", Path(folder) / "report.pdf", Path(folder) / "profile"
        page.write_text(html, encoding="utf-8")
        process = subprocess.Popen(
            command(chromium, page, out, profile), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, start_new_session=True,
        )
        try:
            _, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise PdfUnavailable(f"Chromium did not finish the PDF within {timeout:g} s") from None
        finally:
            if process.poll() is None:  # never left running, whatever interrupted us
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if process.returncode != 0 or not out.exists():
            last = (stderr or b"").decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
            raise PdfUnavailable(f"Chromium failed to print the PDF (exit {process.returncode}: {last[0][:200]})")
        return out.read_bytes()
