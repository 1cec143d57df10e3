# chequeverify — the two commands a new user types: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
export QT_QPA_PLATFORM ?= offscreen

.PHONY: run test install demo lint bench bench-accuracy clean

install: $(STAMP)

# Re-install when the dependencies change; torch and torchvision are pinned
# in pyproject.toml (pip takes them from the machine's wheel cache).
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Opens the app on the demo workspace (created on first run by the
# project's own generators: users, accounts, references, a folder of cheques).
run: QT_QPA_PLATFORM =
run: $(STAMP)
	$(PY) -m chequeverify demo --if-missing
	$(PY) -m chequeverify gui --demo

test: $(STAMP)
	$(PY) -m pytest
	$(VENV)/bin/lint-imports

lint: $(STAMP)
	$(VENV)/bin/lint-imports

bench: $(STAMP)
	$(PY) benchmarks/embed_speed.py
	$(PY) benchmarks/cheque_speed.py
	$(PY) benchmarks/verify_speed.py
	$(PY) benchmarks/gui_start.py

# The accuracy figures of the README (reads ../shared/data; minutes each on 2 cores).
bench-accuracy: $(STAMP)
	$(PY) benchmarks/locate_accuracy.py
	$(PY) benchmarks/locate_accuracy.py --as grey-100dpi
	$(PY) benchmarks/locate_accuracy.py --as bitonal
	$(PY) benchmarks/extract_fidelity.py
	$(PY) benchmarks/extract_fidelity.py --styles grey-100dpi,bitonal
	$(PY) benchmarks/accuracy.py
	$(PY) benchmarks/thresholds_by_set.py
	$(PY) benchmarks/cheque_path_cost.py
	$(PY) benchmarks/specimen_agreement.py
	$(PY) benchmarks/k1_diagnostics.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
