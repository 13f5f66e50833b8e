#!/usr/bin/env python3
"""Train the Rasa model when its inputs changed since the last training (standard library only).

    python3 scripts/train_if_changed.py            # `make train-if-changed` (and `make run/test`)
    python3 scripts/train_if_changed.py --force    # `make train`

The inputs are hashed (sha256 over paths and contents): config.yml, the domain (domain.yml, or
a domain/ folder), every file under nlu_data/ except nlu_data/test/ (held-out evaluation data,
never trained on), nlu_components/*.py (custom components) and constraints-rasa.txt (the Rasa
stack). When the hash equals models/.trained-hash and models/tawasul.tar.gz exists, nothing is
done ("model up to date"). Otherwise `.venv-rasa/bin/rasa train` runs with its output streamed
(progress bars included) and the hash is written once it succeeded.

Exit status: 0 when the model is up to date or was trained; rasa's exit status when training
failed; 2 for a usage error (missing .venv-rasa, config or domain).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
MODEL_NAME = "tawasul"
HASH_FILE = ".trained-hash"
#: Held-out evaluation data under the data folder: hashed out and never trained on.
HELD_OUT = "test"
DATA_SUFFIXES = (".yml", ".yaml", ".txt", ".json", ".md")


def _log(message: str) -> None:
    print(f"train_if_changed: {message}", flush=True)


def _files_under(path: Path, *, exclude: Iterable[Path] = ()) -> Iterator[Path]:
    """Every regular file under ``path`` (or ``path`` itself), skipping hidden names,
    __pycache__ and the ``exclude`` folders, sorted for a stable hash."""
    excluded = {p.resolve() for p in exclude}
    if path.is_file():
        yield path
        return
    if not path.is_dir():
        return
    for root, dirs, files in os.walk(path, followlinks=True):
        root_path = Path(root)
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith(".")
            and d != "__pycache__"
            and (root_path / d).resolve() not in excluded
        )
        for name in sorted(files):
            if not name.startswith("."):
                yield root_path / name


def training_inputs(config: Path, domain: Path, data_dir: Path) -> list[Path]:
    """The files whose content decides the model, in a stable order."""
    files: list[Path] = [config, *_files_under(domain)]
    files.extend(_files_under(data_dir, exclude=[data_dir / HELD_OUT]))
    files.extend(sorted((REPO_ROOT / "nlu_components").glob("*.py")))
    lock = REPO_ROOT / "constraints-rasa.txt"
    if lock.is_file():
        files.append(lock)
    return files


def inputs_hash(files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        try:
            name = path.resolve().relative_to(REPO_ROOT).as_posix()
        except ValueError:
            name = path.resolve().as_posix()
        digest.update(name.encode("utf-8") + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).hexdigest().encode("ascii") + b"\n")
    return digest.hexdigest()


def training_data_paths(data_dir: Path) -> list[Path]:
    """What to pass as `rasa train --data`: the entries of the data folder except the held-out
    tests, leaving out folders without any data file (rasa warns about those)."""
    paths: list[Path] = []
    for entry in sorted(data_dir.iterdir()):
        if entry.name.startswith(".") or entry.name == HELD_OUT:
            continue
        files = [entry] if entry.is_file() else list(_files_under(entry))
        if any(f.suffix in DATA_SUFFIXES for f in files):
            paths.append(entry)
    return paths


def find_domain(explicit: str | None) -> Path | None:
    """The domain: ``--domain``, else domain.yml, else a domain/ folder (rasa merges its files)."""
    if explicit:
        return Path(explicit)
    for candidate in (REPO_ROOT / "domain.yml", REPO_ROOT / "domain"):
        if candidate.exists():
            return candidate
    return None


def rasa_env() -> dict[str, str]:
    env = dict(os.environ)
    # Custom components (nlu_components.*) are imported from the repository root.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ info/warning chatter
    env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    # Rasa's per-component training cache: out of the work tree's root.
    env.setdefault("RASA_CACHE_DIRECTORY", str(REPO_ROOT / "var" / "rasa-cache"))
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    return env


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--force", action="store_true", help="train even when nothing changed")
    parser.add_argument("--config", default=str(REPO_ROOT / "config.yml"))
    parser.add_argument("--domain", default=None, help="default: domain.yml and/or domain/")
    parser.add_argument("--data-dir", default=str(REPO_ROOT / "nlu_data"))
    parser.add_argument("--out", default=str(REPO_ROOT / "models"))
    parser.add_argument("--venv", default=str(REPO_ROOT / ".venv-rasa"))
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    config = Path(args.config)
    data_dir = Path(args.data_dir)
    out = Path(args.out)
    rasa = Path(args.venv) / "bin" / "rasa"
    domain = find_domain(args.domain)

    if not config.is_file():
        _log(f"error: {config} not found")
        return 2
    if domain is None or not domain.exists():
        _log(f"error: no domain ({args.domain or 'domain.yml or domain/'}) found")
        return 2
    if not data_dir.is_dir():
        _log(f"error: data folder {data_dir} not found")
        return 2

    model = out / f"{MODEL_NAME}.tar.gz"
    hash_file = out / HASH_FILE
    wanted = inputs_hash(training_inputs(config, domain, data_dir))
    up_to_date = (
        model.is_file()
        and hash_file.is_file()
        and hash_file.read_text(encoding="utf-8").strip() == wanted
    )
    if up_to_date and not args.force:
        _log(f"model up to date ({model}; inputs unchanged)")
        return 0

    if not rasa.is_file():
        _log(f"error: {rasa} not found; create the Rasa environment first (make rasa-venv)")
        return 2
    data = training_data_paths(data_dir)
    if not data:
        _log(f"error: no training data under {data_dir} (outside {HELD_OUT}/)")
        return 2

    reason = "forced" if args.force else "inputs changed" if hash_file.is_file() else "no model"
    command = [
        str(rasa),
        "train",
        "--fixed-model-name",
        MODEL_NAME,
        "--out",
        str(out),
        "--config",
        str(config),
        "--domain",
        str(domain),
        "--data",
        *[str(p) for p in data],
    ]
    if args.force:
        command.append("--force")
    _log(f"training ({reason}): {' '.join(command)}")
    out.mkdir(parents=True, exist_ok=True)
    hash_file.unlink(missing_ok=True)
    started = time.monotonic()
    completed = subprocess.run(command, cwd=REPO_ROOT, env=rasa_env(), check=False)
    elapsed = time.monotonic() - started
    if completed.returncode != 0 or not model.is_file():
        _log(f"training FAILED after {elapsed:.0f} s (exit status {completed.returncode})")
        return completed.returncode or 1
    hash_file.write_text(wanted + "\n", encoding="utf-8")
    _log(f"trained {model} in {elapsed:.0f} s ({elapsed / 60:.1f} min)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
