# OCI runtime-tools conformance suite, for the top-level Makefile:
#
#   CONFORMANCE_DEPS := husk test-deps     # optional: what to make first
#   include tests/conformance/conformance.mk
#
# `make conformance` runs tests/conformance/run.sh against $(HUSK) (default ./husk).
# CONFORMANCE_ARGS passes options to run.sh, e.g. CONFORMANCE_ARGS="-- create kill" or "-u".
# Needs root, the Go toolchain and (first time) the Go module proxy to build the suite.

CONFORMANCE_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
HUSK ?= $(CURDIR)/husk
CONFORMANCE_DEPS ?=
CONFORMANCE_ARGS ?=

.PHONY: conformance
conformance: $(CONFORMANCE_DEPS)
	HUSK="$(abspath $(HUSK))" $(CONFORMANCE_DIR)/run.sh $(CONFORMANCE_ARGS)
