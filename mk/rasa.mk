# Rasa: its own environment (.venv-rasa, Python 3.10, Rasa Open Source 3.6.21), training and
# NLU evaluation. See ARCHITECTURE.md "Two Python environments" and scripts/*rasa*, *train*.

# The Rasa environment. Override with `make RASA_VENV=/path ...`.
RASA_VENV ?= .venv-rasa
export RASA_VENV
# Extra arguments for scripts/nlu_eval.py, e.g. `make nlu-eval NLU_EVAL_ARGS=--check`.
NLU_EVAL_ARGS ?=

.PHONY: rasa-venv train train-if-changed nlu-eval

rasa-venv: ## Create/update .venv-rasa (Python 3.10, rasa 3.6.21) pinned by constraints-rasa.txt
	@scripts/setup_rasa_venv.sh

train: rasa-venv ## Train the Rasa model (models/tawasul.tar.gz) now, whatever changed
	@python3 scripts/train_if_changed.py --force --venv "$(RASA_VENV)"

train-if-changed: rasa-venv ## Train the Rasa model only when config/domain/nlu_data changed
	@python3 scripts/train_if_changed.py --venv "$(RASA_VENV)"

nlu-eval: rasa-venv ## Train NLU on nlu_data/ and score nlu_data/test/ per language (docs/nlu-eval.md)
	@"$(RASA_VENV)/bin/python" scripts/nlu_eval.py $(NLU_EVAL_ARGS)

# --- the bot in `make run` and `make test` ----------------------------------------------------
# Extra prerequisites of the Makefile's `run` and `test` (mk/README.md): .venv-rasa and a model
# trained on the current config/domain/nlu_data (trained only when they changed), and for
# `make test` Rasa's own checks after lint and typecheck, before pytest.

.PHONY: bot-ready rasa-check

bot-ready: train-if-changed ## .venv-rasa + models/tawasul.tar.gz up to date (make run/test need them)

rasa-check: bot-ready ## rasa data validate + rasa test core on tests/rasa/ (reports in test-artifacts/rasa)
	@python3 scripts/rasa_checks.py --venv "$(RASA_VENV)"

run: bot-ready
test: rasa-check
