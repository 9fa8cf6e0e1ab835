# Kubernetes' CRI validation suite (critest) and crictl scenarios through containerd's CRI
# plugin, husk against Debian's runc (tests/cri/), for the top-level Makefile:
#
#   CRI_DEPS := husk test-deps     # optional: what to make first
#   include tests/cri/cri.mk
#
# `make cri` runs tests/cri/run.sh against $(HUSK) (default ./husk); about 2 minutes, plus
# 2 minutes the first time (critest and crictl are built from the Go module proxy into
# ~/.cache/husk-cri). Needs root and Debian's package archive the first time (containerd,
# docker-registry, containernetworking-plugins). CRI_FOCUS limits critest to matching specs.

CRI_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
HUSK ?= $(CURDIR)/husk
CRI_DEPS ?=

.PHONY: cri
cri: $(CRI_DEPS)
	HUSK="$(abspath $(HUSK))" $(CRI_DIR)/run.sh
