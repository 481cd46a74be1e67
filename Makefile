# ClassPulse — every target creates or updates .venv on first use (only Python 3.11 needed).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VERSION ?= 0.13.8
UV := .cache/uv/bin/uv
VENV := .venv
STAMP := $(VENV)/.synced
CLI := $(VENV)/bin/classpulse
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON ?= $(shell command -v $(PYTHON))

.PHONY: help venv tools demo airflow test lint format format-sql clean-state fuzz

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(UV):
	@echo ">> bootstrapping uv $(UV_VERSION) from PyPI into .cache/uv"
	@$(PYTHON) -m pip install --quiet --disable-pip-version-check --target .cache/uv "uv==$(UV_VERSION)"

$(STAMP): pyproject.toml uv.lock | $(UV)
	@echo ">> syncing $(VENV) from uv.lock (first run takes a minute: ~1.8 GB of wheels)"
	@$(UV) sync --frozen --quiet
	@touch $(STAMP)

venv: $(STAMP) ## Create or update the virtualenv from uv.lock

# The Java functions Flink SQL calls (jvm/udf), built from source with Maven; the jar is
# rebuilt only when jvm/udf changes. `mvn package` runs their JUnit tests too.
.PHONY: udf
UDF_JAR := .cache/jvm/udf/classpulse-udf.jar
UDF_SOURCES := jvm/udf/pom.xml $(shell find jvm/udf/src -type f 2>/dev/null)

$(UDF_JAR): $(UDF_SOURCES)
	@command -v mvn >/dev/null 2>&1 && command -v javac >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo ">> installing Maven and a JDK (Debian packages) to build jvm/udf"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq maven openjdk-17-jdk-headless >/dev/null; \
	  else \
	    echo "!! building jvm/udf needs Apache Maven and a JDK 11+ (mvn and javac on PATH)." >&2; \
	    echo "   Debian: sudo apt-get install maven openjdk-17-jdk-headless; then run make again." >&2; \
	    exit 1; \
	  fi; }
	@echo ">> building the Flink SQL functions (jvm/udf) with Maven, unit tests included"
	@mkdir -p $(@D)
	@mvn -B -q -f jvm/udf/pom.xml package > $(@D)/mvn.log 2>&1 || { cat $(@D)/mvn.log; exit 1; }
	@cp jvm/udf/target/classpulse-udf.jar $@

udf: $(UDF_JAR) ## Build the Java functions of the Flink jobs (jvm/udf) from source
venv demo airflow test: $(UDF_JAR)

# tests/compose validate docker-compose.yml with Debian's docker-compose (no engine needed).
tools: ## Install the system tools the tests use (docker-compose, from Debian packages)
	@command -v docker-compose >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo ">> installing docker-compose (Debian package) for the compose validation tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null; \
	  else \
	    echo ">> docker-compose is missing: sudo apt-get install docker-compose (tests/compose need it)"; \
	  fi; }

demo: $(STAMP) ## Run the demo on the embedded warehouse (sets everything up on first use)
	@$(CLI) demo

airflow: $(STAMP) ## Airflow 3 standalone with dags/: UI http://127.0.0.1:8080, state in var/airflow
	@$(CLI) airflow

test: $(STAMP) tools ## Run the test suite (sets everything up on first use)
	@$(VENV)/bin/pytest $(PYTEST_ARGS)

FUZZ_EXAMPLES ?= 3000
fuzz: $(STAMP) ## Long fuzz run of the warehouse server's request parser, decoders and SQL checks
	@CLASSPULSE_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(VENV)/bin/pytest tests/security/test_security_fuzz.py -p no:cacheprovider -q

# All our SQL: the dbt models (dbt templater), flink_sql/ and clickhouse/ (placeholder templater;
# each folder's .sqlfluff names its dialect), then the keyword case of what sqlfluff could not
# parse (src/classpulse/sql_keyword_case.py, on sqlfluff's lexer). --templater placeholder: the
# root .sqlfluff names the dbt templater, which sqlfluff would otherwise set up (compiling the dbt
# project) before it reads the folders' own .sqlfluff.
SQL_FOLDERS := flink_sql clickhouse

lint: $(STAMP) ## ruff (lint + format check), sqlfluff on all SQL (dbt, Flink, ClickHouse)
	@$(VENV)/bin/ruff check src tests dags
	@$(VENV)/bin/ruff format --check src tests dags
	@$(VENV)/bin/sqlfluff lint $(SQL_FOLDERS) --templater placeholder --processes 1
	@$(VENV)/bin/python -m classpulse.sql_keyword_case check $(SQL_FOLDERS)
	@# sqlfluff's dbt templater compiles the models against the configured warehouse
	@$(CLI) warehouse status >/dev/null 2>&1 || $(CLI) warehouse start
	@$(VENV)/bin/sqlfluff lint dbt_project/models --processes 1

format: $(STAMP) ## Format Python with ruff
	@$(VENV)/bin/ruff format src tests dags
	@$(VENV)/bin/ruff check --fix src tests dags

# --FIX-EVEN-UNPARSABLE: most Flink jobs have a part the dialect cannot parse (LATERAL TABLE,
# TO_CHANGELOG); sqlfluff takes this switch from the command line or the root .sqlfluff only.
format-sql: $(STAMP) ## Apply sqlfluff's fixes and the keyword case to flink_sql/ and clickhouse/
	@$(VENV)/bin/sqlfluff fix $(SQL_FOLDERS) --templater placeholder --processes 1 --quiet --FIX-EVEN-UNPARSABLE || true
	@$(VENV)/bin/python -m classpulse.sql_keyword_case fix $(SQL_FOLDERS)
	@$(VENV)/bin/sqlfluff lint $(SQL_FOLDERS) --templater placeholder --processes 1

clean-state: ## Stop the embedded warehouse and Kafka broker and delete var/ (all local data)
	-@$(CLI) warehouse stop
	-@$(CLI) kafka stop
	rm -rf var

# The pinned JVM runtime (jvm/runtime/pom.xml): the Kafka broker's classpath and Flink's Kafka
# SQL connector, copied from Maven Central into .cache/jvm once (again when the pom changes).
# venv, demo, airflow and test resolve it first.
.PHONY: jvm-runtime
JVM_DIR := .cache/jvm
JVM_RUNTIME_STAMP := $(JVM_DIR)/.runtime-resolved
MVN ?= mvn

$(JVM_RUNTIME_STAMP): jvm/runtime/pom.xml
	@command -v $(MVN) >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo ">> installing Maven (Debian package) to resolve the JVM runtime"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq maven >/dev/null; \
	  else \
	    echo "!! mvn (Apache Maven) is missing: it resolves the Kafka broker and Flink's Kafka connector"; \
	    echo "   from Maven Central. Install it (Debian: sudo apt-get install maven) and run make again."; \
	    exit 1; \
	  fi; }
	@echo ">> resolving the JVM runtime (Kafka broker, Flink Kafka connector) from Maven Central into $(JVM_DIR)"
	@rm -rf $(JVM_DIR)/kafka-broker $(JVM_DIR)/flink-connectors && mkdir -p $(JVM_DIR)
	@$(MVN) -B -q -f jvm/runtime/pom.xml package -Dclasspulse.jvm.dir="$(abspath $(JVM_DIR))" \
	  > $(JVM_DIR)/runtime-mvn.log 2>&1 || { cat $(JVM_DIR)/runtime-mvn.log; exit 1; }
	@touch $@

jvm-runtime: $(JVM_RUNTIME_STAMP) ## Resolve the pinned Kafka broker and Flink connector jars into .cache/jvm
venv demo airflow test: $(JVM_RUNTIME_STAMP)
