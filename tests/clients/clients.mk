# Real container engines (containerd, podman, docker, buildah from Debian's packages) driving
# husk, for the top-level Makefile:
#
#   CLIENTS_DEPS := husk test-deps     # optional: what to make first
#   include tests/clients/clients.mk
#
# `make clients` runs tests/clients/run.sh against $(HUSK) (default ./husk). CLIENTS_ENGINES
# picks engines (default: all four), e.g. CLIENTS_ENGINES="containerd podman". Needs root and
# Debian's package archive the first time (the scripts install the engines they need).

CLIENTS_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
HUSK ?= $(CURDIR)/husk
CLIENTS_DEPS ?=
CLIENTS_ENGINES ?=

.PHONY: clients
clients: $(CLIENTS_DEPS)
	HUSK="$(abspath $(HUSK))" $(CLIENTS_DIR)/run.sh $(CLIENTS_ENGINES)
