# Two commands do everything on a fresh machine with Python 3.11: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
UV_VERSION := 0.13.9
VENV := .venv
UV := .tools/bin/uv
export UV_PYTHON_DOWNLOADS := never

.PHONY: run test test-fast setup postgres chromium java ui lint bench clean

run: setup ## generate the sample sources, build the whole warehouse and publish a release (data/releases/current)
	$(VENV)/bin/nqs build

test: setup postgres chromium java ## run the whole test suite (unit, contract, dbt, end to end, lint)
	$(VENV)/bin/pytest

test-fast: setup ## the tests that need no build and take no more than a few seconds each
	$(VENV)/bin/pytest -m "not slow"

ui: setup ## open the Dagster UI on the runs of `make run`
	$(VENV)/bin/nqs ui

lint: setup ## ruff, the import layers (import-linter) and sqlfluff
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/sqlfluff lint dbt_project/models

bench: setup ## time the build at scales 0.01, 0.1 and 1.0, and the source contracts at 0.1 and 1.0
	$(VENV)/bin/python benchmarks/build_benchmark.py --scales 0.01 0.1 1.0
	$(VENV)/bin/python benchmarks/contracts_benchmark.py --scales 0.1 1.0 --repeat 1

setup: $(VENV)/.synced

# Debian's PostgreSQL server, which the production-instance test starts in a temporary cluster
# (tests/test_production_instance.py); installed when absent and running as root, as CI does.
postgres:
	@if ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "installing Debian's postgresql for the production-instance test"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql; \
	else echo "PostgreSQL server not installed and not root: its test will be skipped"; fi

# Debian's Chromium, the real browser the board report is opened in (tests/test_board_report.py, through
# Playwright pointed at /usr/bin/chromium); installed when absent and running as root, as CI does.
chromium:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "installing Debian's chromium for the board report test"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; \
	else echo "Chromium not installed and not root: the board report's browser test will be skipped"; fi

# Debian's Java 17 runtime, which the local Spark of the Spark build runs on (tests/test_spark_build.py,
# docs/spark.md); installed when absent and running as root, as CI does.
java:
	@if command -v java >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "installing Debian's openjdk-17-jre-headless for the Spark build test"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless; \
	else echo "Java not installed and not root: the Spark build test will be skipped"; fi

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --compile-bytecode --python $(PYTHON)
	touch $@

clean:
	rm -rf data dbt_project/target dbt_project/logs
