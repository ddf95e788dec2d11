# wellforge: the two commands a fresh machine needs.
#   make demo   install if needed, generate a tiny dataset with the default system, validate it
#   make test   install if needed, run the whole test suite
#   make mutation  mutation testing of the core (mutmut; slow, not in CI): tests/MUTATION.md
SHELL := /bin/bash
VENV ?= .venv
EXTRAS ?= generate,test,well,plot
DEMO_OUT ?= demo_out
WF := $(VENV)/bin/wellforge
export OMP_NUM_THREADS := 1
export NUMEXPR_MAX_THREADS := 1
export OMPI_ALLOW_RUN_AS_ROOT := 1
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM := 1

.PHONY: install demo test test-fast format-doc mutation

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

# Mutation testing with mutmut 3 (the `mutation` extra), run before a release or a
# restructuring, never in CI: a full run is hours on 2 cores. mutmut 3 copies the sources
# into mutants/ and names modules by path, which this repository's package-dir mapping
# (schema/ -> wellforge.schema) defeats, so scripts/mutation.py runs it on a staging tree
# laid out as the installed package (build/mutation/<campaign>/). Examples:
#   make mutation MUTATION_ARGS="schema"                  # one campaign, every mutant
#   make mutation MUTATION_ARGS="validate --sample 150"   # a seeded sample per module
#   make mutation MUTATION_ARGS="--report"                # the last results, per module
MUTATION_ARGS ?=
mutation: install
	@$(VENV)/bin/python -c "import mutmut" 2>/dev/null || \
		$(VENV)/bin/python -m pip install -q --no-build-isolation -e ".[mutation]"
	nice -n 19 $(VENV)/bin/python scripts/mutation.py $(MUTATION_ARGS)
