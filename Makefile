# tillkit — the two quick-start commands are `make demo` (the checkout screen) and `make test`.
# Both install what they need first: system packages through apt when missing
# (python3-venv, libzbar0, tmux), then the Python packages into .venv.

VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PACKAGES := python3-venv python3-dev libzbar0 tmux fonts-wqy-microhei libusb-1.0-0

.PHONY: setup demo test bench serve clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@missing=""; \
	for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

demo: setup   # the checkout screen on simulated devices (`pos demo` is the scripted run)
	$(VENV)/bin/pos

test: setup   # lint and type-check the source first (config in pyproject.toml), then the suite
	$(VENV)/bin/ruff check pos acquirer drivers receipts
	$(VENV)/bin/mypy
	$(PY) -m pytest -n 2

bench: setup
	$(PY) -m tests.bench

serve: setup
	$(VENV)/bin/acquirer serve

clean:
	rm -rf $(VENV) var .pytest_cache
