#!/usr/bin/env python3
"""Rasa's own checks of the bot, run by `make test` before pytest (standard library only).

    python3 scripts/rasa_checks.py            # `make rasa-check`

1. `rasa data validate` on config.yml, the domain and the training data (nlu_data/ minus the
   held-out nlu_data/test/): fails on errors; warnings are printed, not fatal.
2. `rasa test core` of the test stories (tests/rasa/, Arabic and English) against the trained
   model models/tawasul.tar.gz: fails when any story has a wrong action or intent prediction.
   Unlike `--fail-on-prediction-errors`, which stops at the first wrong prediction, every
   story runs and every failed one is printed (from failed_test_stories.yml). Reports go to
   test-artifacts/rasa/.

Exit status: 0 when both pass; 1 when a check failed; 2 for a usage error (no .venv-rasa,
model, domain or test stories).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from train_if_changed import REPO_ROOT, find_domain, rasa_env, training_data_paths

STORY_SUFFIXES = (".yml", ".yaml")


def _log(message: str) -> None:
    print(f"rasa_checks: {message}", flush=True)


def _run(command: list[str]) -> int:
    _log("running: " + " ".join(command))
    started = time.monotonic()
    completed = subprocess.run(command, cwd=REPO_ROOT, env=rasa_env(), check=False)
    _log(f"exit status {completed.returncode} after {time.monotonic() - started:.0f} s")
    return completed.returncode


def validate(rasa: Path, config: Path, domain: Path, data_dir: Path) -> bool:
    data = training_data_paths(data_dir)
    command = [str(rasa), "data", "validate", "--config", str(config), "--domain", str(domain)]
    command += ["--data", *[str(p) for p in data]]
    if _run(command) != 0:
        _log("FAILED: rasa data validate found errors (above)")
        return False
    return True


def test_stories(rasa: Path, model: Path, stories: Path, out: Path) -> bool:
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    command = [str(rasa), "test", "core", "--model", str(model), "--stories", str(stories)]
    command += ["--out", str(out), "--no-plot"]
    if _run(command) != 0:
        _log("FAILED: rasa test core did not complete (above)")
        return False
    report_file = out / "story_report.json"
    try:
        report = json.loads(report_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        _log(f"FAILED: no readable {report_file} ({exc})")
        return False
    conversations = report.get("conversation_accuracy") or {}
    total = int(conversations.get("total", 0))
    correct = int(conversations.get("correct", 0))
    if total == 0:
        _log(f"FAILED: rasa test core found no test stories in {stories}")
        return False
    if correct < total:
        failed = out / "failed_test_stories.yml"
        if failed.is_file():
            print(failed.read_text(encoding="utf-8"), flush=True)
        _log(f"FAILED: {total - correct} of {total} test stories failed (printed above; see {out})")
        return False
    _log(f"all {total} test stories passed (reports in {out})")
    return True


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default=str(REPO_ROOT / "config.yml"))
    parser.add_argument("--domain", default=None, help="default: domain.yml or domain/")
    parser.add_argument("--data-dir", default=str(REPO_ROOT / "nlu_data"))
    parser.add_argument("--model", default=str(REPO_ROOT / "models" / "tawasul.tar.gz"))
    parser.add_argument("--stories", default=str(REPO_ROOT / "tests" / "rasa"))
    parser.add_argument("--out", default=str(REPO_ROOT / "test-artifacts" / "rasa"))
    parser.add_argument("--venv", default=str(REPO_ROOT / ".venv-rasa"))
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    rasa = Path(args.venv) / "bin" / "rasa"
    config, data_dir, model = Path(args.config), Path(args.data_dir), Path(args.model)
    stories = Path(args.stories)
    domain = find_domain(args.domain)
    problems = [
        f"{rasa} not found (make rasa-venv)" if not rasa.is_file() else "",
        f"{config} not found" if not config.is_file() else "",
        "no domain (domain.yml or domain/)" if domain is None or not domain.exists() else "",
        f"{model} not found (make train)" if not model.is_file() else "",
        f"{stories} not found" if not stories.exists() else "",
    ]
    if any(problems):
        _log("error: " + "; ".join(p for p in problems if p))
        return 2
    assert domain is not None
    story_files = [p for p in stories.rglob("*") if p.suffix in STORY_SUFFIXES]
    if not story_files:
        _log(f"error: no test story files (*.yml) under {stories}")
        return 2
    ok = validate(rasa, config, domain, data_dir)
    ok = test_stories(rasa, model, stories, Path(args.out)) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
