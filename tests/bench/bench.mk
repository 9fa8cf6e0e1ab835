# husk against runc and crun (tests/bench/), for the top-level Makefile:
#
#   BENCH_DEPS := husk     # optional: what to make first
#   include tests/bench/bench.mk
#
# `make bench` runs the full benchmark (several minutes; timings, not assertions) and prints
# markdown for tests/bench/RESULTS.md; BENCH_ARGS passes driver flags, e.g. "-rounds 50".
# `make bench-smoke` runs one round of every scenario for the three runtimes and fails if any
# of them did not run a container or left something behind (< 60 s; part of `make test`).
# Both need root; they install Debian's runc, crun, busybox-static and GNU time when missing.

BENCH_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
HUSK ?= $(CURDIR)/husk
BENCH_DEPS ?=
BENCH_ARGS ?=
BENCH_PKGS := runc crun busybox-static time util-linux

.PHONY: bench bench-smoke
bench: $(BENCH_DEPS)
	@$(BENCH_DIR)/../../scripts/deps.sh $(BENCH_PKGS)
	HUSK="$(abspath $(HUSK))" $(BENCH_DIR)/bench.sh $(BENCH_ARGS)

bench-smoke: $(BENCH_DEPS)
	@$(BENCH_DIR)/../../scripts/deps.sh $(BENCH_PKGS)
	HUSK="$(abspath $(HUSK))" $(BENCH_DIR)/bench.sh --smoke >/dev/null
	@echo "bench-smoke: husk, crun and runc ran every scenario"
