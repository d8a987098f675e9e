# jupyter_edge.deploy: everything is set up by `make demo` or `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV       := $(CURDIR)/.venv
BIN        := $(VENV)/bin
BUILD      := $(CURDIR)/.build
COLLECTION := $(BUILD)/installed/ansible_collections/jupyter_edge/deploy
STAGE      := $(CURDIR)/scripts/stage.sh

# Container scenarios run by `make test` (molecule/<name>); split and example_*
# converge inventory/examples/* as written. conda runs only when an installer and
# a channel are reachable (see molecule/jupyter_conda).
# Longest first: `make molecule` runs MOLECULE_JOBS of them at a time (below).
SCENARIOS ?= debian13 apache_proxy nginx_proxy example_hub_apache jupyterhub hub_slurm acme split example_cloudflare_https \
             example_notebook_nginx jupyter_systemd jupyter_cron cloudflare_dns
# Two scenarios at a time where there are 2 CPUs or more (MOLECULE_JOBS=1: one after another):
# most of a scenario's time is waiting (package installs, kernel and service starts, playbook
# runs), not CPU. Each has its own containers; each one's output is printed whole when it ends.
MOLECULE_JOBS ?= $(if $(filter 1,$(shell nproc)),1,2)

export PATH := $(BIN):$(PATH)
export JUPYTER_EDGE_CACHE ?= $(HOME)/.cache/jupyter-edge
export ANSIBLE_COLLECTIONS_PATH := $(BUILD)
export ANSIBLE_FORCE_COLOR := 0
export PY_COLORS := 0
export MOLECULE_NO_LOG := false

.PHONY: help venv docker image browser browser-check screenshots link collection lint unit molecule conda test bench demo demo-clean clean

help:
	@echo "make demo        deploy Jupyter into a throwaway local container and print how to log in"
	@echo "make demo-clean  remove the demo container"
	@echo "make test        everything CI runs: lint, unit tests, collection build, molecule scenarios"
	@echo "make molecule SCENARIOS='jupyter_systemd'   selected container scenarios"
	@echo "make browser-check URL=https://lab.example.org/notebook/   JupyterLab in Chromium against your deployment"
	@echo "                 (password from \$$JUPYTER_PASSWORD; set JUPYTERHUB_USER=<name> for a hub, INSECURE=1 for a self-signed certificate)"
	@echo "make bench       direct vs nginx vs Apache vs CHP (HTTP, round trips, 1-100 sessions), converge times, Cloudflare requests (bench/results.md)"

$(BIN)/.installed: requirements.txt
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

venv: $(BIN)/.installed

docker:
	@scripts/ensure-docker.sh

# One base image per distribution CI converges (each reused when already built).
image: docker
	@scripts/build-base-image.sh bookworm
	@scripts/build-base-image.sh trixie

# Debian's chromium, driven by the pinned playwright (requirements.txt); checked by a start.
browser: venv
	@scripts/ensure-chromium.sh
	@PYTHONPATH=tests $(BIN)/python -m e2e.browser --smoke

# The scenarios' browser check against your own deployment: real DNS; the password only
# ever from the environment (a make argument would show in the process list).
browser-check: browser
	@if [ "$(origin JUPYTER_PASSWORD)" = "command line" ]; then \
	  echo "Put JUPYTER_PASSWORD in the environment, not on the command line: it would show in the process list."; exit 2; fi
	@test -n "$(URL)" || { echo "usage: JUPYTER_PASSWORD=... make browser-check URL=https://lab.example.org/notebook/" \
	  "[JUPYTERHUB_USER=alice] [INSECURE=1]"; exit 2; }
	PYTHONPATH=tests $(BIN)/python -m e2e.browser --url '$(URL)' $(if $(INSECURE),--insecure) --artifacts $(BUILD)/browser/check

# The README's screenshots, from the last molecule runs of nginx_proxy and example_hub_apache.
SHOTS := nginx_proxy/nginx-subpath-notebook.png example_hub_apache/hub-apache-spawn.png
screenshots:
	@for s in $(SHOTS); do \
	  test -f $(BUILD)/browser/$$s || { echo "$(BUILD)/browser/$$s is missing: run make molecule SCENARIOS='nginx_proxy jupyterhub'"; exit 1; }; \
	  cp $(BUILD)/browser/$$s docs/screenshots/$$(basename $$s); echo "docs/screenshots/$$(basename $$s)"; \
	done

# A link of the source tree as jupyter_edge.deploy, for lint, unit tests and
# playbooks run from this clone (ansible.cfg puts .build on the collections path).
link:
	@mkdir -p $(BUILD)/ansible_collections/jupyter_edge
	@ln -sfn $(CURDIR) $(BUILD)/ansible_collections/jupyter_edge/deploy

# Build the tarball and install it the way users do; molecule converges from
# the installed copy.
collection: venv link
	@mkdir -p $(BUILD)/dist
	@rm -f $(BUILD)/dist/*.tar.gz
	$(BIN)/ansible-galaxy collection build --force --output-path $(BUILD)/dist .
	$(BIN)/ansible-galaxy collection install --force -p $(BUILD)/installed $(BUILD)/dist/jupyter_edge-deploy-*.tar.gz
	@test -f $(COLLECTION)/plugins/modules/jupyter_password.py
	ANSIBLE_COLLECTIONS_PATH=$(BUILD)/installed $(BIN)/ansible-doc jupyter_edge.deploy.jupyter_password >/dev/null

lint: venv link
	$(BIN)/yamllint --strict .
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/ansible-lint
	@scripts/sanity.sh

# The playbooks resolve by FQCN (jupyter_edge.deploy.site) from the installed
# tarball; --syntax-check prints the path it resolved to.
unit: venv collection
	@for pb in site doctor; do \
	  out=$$(cd $(BUILD) && ANSIBLE_COLLECTIONS_PATH=$(BUILD)/installed \
	    $(BIN)/ansible-playbook --syntax-check -i localhost, jupyter_edge.deploy.$$pb 2>&1) \
	    && grep -qx "playbook: $(COLLECTION)/playbooks/$$pb.yml" <<<"$$out" \
	    || { echo "$$out"; echo "jupyter_edge.deploy.$$pb does not resolve to $(COLLECTION)"; exit 1; }; \
	done
	$(BIN)/pytest -q tests/unit tests/integration

molecule: venv image collection browser
	@$(MAKE) --no-print-directory -j$(MOLECULE_JOBS) --output-sync=target $(addprefix scenario-,$(SCENARIOS))
	@$(MAKE) --no-print-directory conda

stage-%:
	@$(STAGE) $* $(MAKE) --no-print-directory $*

scenario-%:
	@$(STAGE) "molecule $*" $(BIN)/molecule test -s $*

# Conda needs an installer and a channel, neither reachable from CI here.
conda: venv image collection
	@if [ -n "$${JUPYTER_EDGE_CONDA_INSTALLER_URL:-}" ] && [ -n "$${JUPYTER_EDGE_CONDA_INSTALLER_CHECKSUM:-}" ]; then \
	  $(STAGE) "molecule jupyter_conda" $(BIN)/molecule test -s jupyter_conda; \
	else \
	  echo "SKIPPED molecule/jupyter_conda: no conda installer or channel reachable; set" \
	       "JUPYTER_EDGE_CONDA_INSTALLER_URL and JUPYTER_EDGE_CONDA_INSTALLER_CHECKSUM (sha256:...) to run it."; \
	fi

test: export STAGE_LOG := $(BUILD)/stages.txt
test:
	@mkdir -p $(BUILD) && : >$(STAGE_LOG) && rm -f $(BUILD)/browser/times.txt $(BUILD)/reliability.txt $(BUILD)/platforms.txt
	@$(STAGE) venv $(MAKE) --no-print-directory venv
	@$(STAGE) collection $(MAKE) --no-print-directory collection
	@# Side by side: each is mostly one process, and the machine has a second CPU.
	@$(MAKE) --no-print-directory -j2 --output-sync=target stage-lint stage-unit
	@$(STAGE) image $(MAKE) --no-print-directory image
	@$(STAGE) browser $(MAKE) --no-print-directory browser
	@$(MAKE) --no-print-directory molecule
	@echo; echo "Stage times:"; cat $(STAGE_LOG)
	@if [ -f $(BUILD)/browser/times.txt ]; then \
	  echo; echo "Browser checks (Chromium; included in the molecule stages above):"; cat $(BUILD)/browser/times.txt; \
	  awk '{ t += $$NF } END { printf "%-40s %6.1fs\n", "total", t }' $(BUILD)/browser/times.txt; fi
	@if [ -f $(BUILD)/reliability.txt ]; then \
	  echo; echo "Sessions kept executing through proxy reloads and re-converges:"; cat $(BUILD)/reliability.txt; fi
	@if [ -f $(BUILD)/platforms.txt ]; then \
	  echo; echo "Versions measured in the Debian 13 containers:"; cat $(BUILD)/platforms.txt; fi

# A benchmark, not a test: prints a table and writes bench/results.md.
bench: venv image collection
	@scripts/bench.sh

demo: venv image collection
	@scripts/demo.sh

demo-clean: venv
	@scripts/demo.sh clean

clean:
	rm -rf $(BUILD)
