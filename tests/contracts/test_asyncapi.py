"""The AsyncAPI document the gateway serves is valid for the official AsyncAPI parser
(`@asyncapi/parser`, run by tools/asyncapi/validate.mjs on Node)."""

import json
import shutil
import subprocess

import pytest

from runtime.config import ROOT

TOOL = ROOT / "tools" / "asyncapi"

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


@pytest.fixture(scope="session")
def asyncapi_parser() -> list[str]:
    """The command that parses a document on stdin; installs the pinned parser on first use."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.fail("Node.js 20+ and npm are needed to run the official AsyncAPI parser (apt-get install nodejs npm)")
    if not (TOOL / "node_modules" / "@asyncapi" / "parser").is_dir():
        # --ignore-scripts: the parser needs no install step, and a dependency's postinstall phones home.
        subprocess.run([npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=TOOL, check=True, timeout=600)
    return [node, str(TOOL / "validate.mjs")]


async def test_served_asyncapi_document_parses_without_errors(gateway, asyncapi_parser):
    response = await gateway.get("/asyncapi.json")
    assert response.status_code == 200
    result = subprocess.run(asyncapi_parser, input=response.content, capture_output=True, timeout=120)
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()
    report = json.loads(result.stdout)
    assert report["parsed"] and report["errors"] == 0, report
