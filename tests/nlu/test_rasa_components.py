"""Runs tests/nlu/rasa_component_checks.py with the Rasa environment's Python (3.10).

The custom NLU components import Rasa, which lives only in .venv-rasa (`make rasa-venv`, which
`make test` runs first, creates it); without it this test fails and says so.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
RASA_PYTHON = REPO_ROOT / os.environ.get("RASA_VENV", ".venv-rasa") / "bin" / "python"


def test_custom_components_inside_rasa() -> None:
    if not RASA_PYTHON.exists():
        pytest.fail(f"{RASA_PYTHON} missing: run make rasa-venv (make test does)")
    env = {
        **os.environ,
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "PYTHONWARNINGS": "ignore",
    }
    completed = subprocess.run(
        [str(RASA_PYTHON), str(Path(__file__).with_name("rasa_component_checks.py"))],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr[-4000:]
