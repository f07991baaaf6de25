"""A bounded schemathesis run against the service's own OpenAPI document: every operation, with
generated valid and invalid requests (the admin token included, so mutations are reached too),
must never answer 500."""
from __future__ import annotations

import subprocess
import sys

import pytest

from serve_util import SAMPLES, start_server

pytest.importorskip("schemathesis")

pytestmark = pytest.mark.slow


def test_no_request_gets_a_server_error(tmp_path):
    srv = start_server(str(tmp_path / "repo"), "--model", f"iris={SAMPLES / 'iris_tree.pmml'}",
                       "--model", f"diabetes={SAMPLES / 'diabetes_linear.pmml'}")
    # path parameters named after a deployed model, so requests get past the 404s
    config = tmp_path / "schemathesis.toml"
    config.write_text('[parameters]\n"path.name" = "iris"\n"path.id" = "iris"\n')
    try:
        run = subprocess.run(
            [sys.executable, "-c", "import sys; from schemathesis.cli import schemathesis; "
             "sys.exit(schemathesis())", "--config-file", str(config), "run",
             f"{srv.url}/openapi.json", "--checks", "not_a_server_error",
             "--max-examples", "15", "--seed", "20261205", "--request-timeout", "30",
             "--header", f"Authorization: Bearer {srv.admin_token}"],
            capture_output=True, text=True, timeout=600, cwd=tmp_path)
        report = run.stdout + run.stderr
        assert run.returncode == 0, report[-6000:]
        assert "generated" in report
        # and the server itself logged no unhandled exception
        assert "Traceback" not in srv.output(), srv.output()[-6000:]
    finally:
        srv.stop()
