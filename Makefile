# wellforge: the two commands a fresh machine needs.
#   make demo   install if needed, generate a tiny dataset with the default system, validate it
#   make test   install if needed, run the whole test suite
SHELL := /bin/bash
VENV ?= .venv
EXTRAS ?= generate,test,well,plot
DEMO_OUT ?= demo_out
WF := $(VENV)/bin/wellforge
export OMP_NUM_THREADS := 1
export NUMEXPR_MAX_THREADS := 1
export OMPI_ALLOW_RUN_AS_ROOT := 1
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM := 1

.PHONY: install demo test test-fast format-doc

install:
	@WELLFORGE_EXTRAS=$(EXTRAS) WELLFORGE_VENV=$(abspath $(VENV)) scripts/install.sh

demo: install
	$(WF) generate shear_flow --preset tiny --out $(DEMO_OUT)
	$(WF) validate $(DEMO_OUT)/shear_flow
	@echo "demo dataset: $(abspath $(DEMO_OUT))/shear_flow"

test: install
	WELLFORGE_REQUIRE_WELL=1 $(VENV)/bin/python -m pytest -q

test-fast: install
	$(VENV)/bin/python -m pytest -q -m "not slow"

format-doc: install
	$(WF) schema --output schema/FORMAT.md
