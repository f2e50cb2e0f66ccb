# tillkit — the two quick-start commands are `make demo` (the checkout screen) and `make test`.
# Both install what they need first: system packages through apt when missing
# (python3-venv, libzbar0, tmux, postgresql; nodejs and npm for the ECR tests), then the
# Python packages into .venv and the Node pieces of the ECR tests. The tests start their own
# throw-away PostgreSQL cluster on 127.0.0.1 (tests/pgcluster.py).

VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PACKAGES := python3-venv python3-dev libzbar0 tmux fonts-wqy-microhei libusb-1.0-0 postgresql

.PHONY: setup demo test bench serve clean node

NODE_TESTS := tests/daemon/node
NODE_STAMP := $(NODE_TESTS)/node_modules/.installed

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

# Adyen's Node library drives `pos daemon` in tests/daemon: Debian's nodejs and npm when the machine has none
node: $(NODE_STAMP)

$(NODE_STAMP): $(NODE_TESTS)/package.json $(NODE_TESTS)/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "installing system packages: nodejs npm"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq nodejs npm; }
	npm ci --prefix $(NODE_TESTS) --no-audit --no-fund
	touch $@

test: setup node   # lint and type-check the source first (config in pyproject.toml), then the suite
	$(VENV)/bin/ruff check pos acquirer drivers receipts
	$(VENV)/bin/mypy
	$(PY) -m pytest -n 2

bench: setup
	$(PY) -m tests.bench

serve: setup
	$(VENV)/bin/acquirer serve

clean:
	rm -rf $(VENV) var .pytest_cache $(NODE_TESTS)/node_modules
