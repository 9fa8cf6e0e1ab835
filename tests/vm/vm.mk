# Test machines under qemu with Debian's kernel and pure cgroup v2 (tests/vm/run.sh). Include from
# the top-level Makefile:
#
#   include tests/vm/vm.mk
#
# `make vm-test` runs the cgroup-related bats files against $(HUSK) inside the busybox flavour (the
# first run downloads Debian's kernel package, ~70 MB, into ~/.cache/husk-vm). `make vm-unit` runs
# the Go tests of $(VM_GOPKGS) there, compiled on the host. Neither builds husk: add `vm-test: husk`
# in the including Makefile if wanted. `make vm-test-selinux` boots the VM with SELinux as its LSM
# instead of AppArmor, loads the host's selinux-policy-default (permissive) and runs
# $(VM_SELINUX_BATS) there. `make vm-systemd-test` runs $(VM_SYSTEMD_BATS) in the systemd flavour
# (systemd as PID 1, the bats files in husk-vm.service; the first run builds its Debian root file
# system with debootstrap, ~1.5 min, cached in ~/.cache/husk-vm).
#   VM_BATS    bats files (names in tests/integration/); default: those below that exist
#   VM_SYSTEMD_BATS  bats files for the systemd flavour (default: systemd_*.bats but the
#              hybrid one, and rootless_cgroups.bats)
#   VM_SYSTEMD_HYBRID_BATS  for `make vm-systemd-hybrid-test`, the systemd flavour booted with
#              systemd's hybrid cgroup layout (default systemd_hybrid.bats)
#   VM_GOPKGS  Go packages for vm-unit (default ./cgroups); VM_GOTESTFLAGS e.g. -test.v
#   VM_TIMEOUT, VM_CPUS, VM_MEM, VM_CGROUP: see tests/vm/run.sh

VM_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
VM_REPO := $(abspath $(VM_DIR)/../..)
HUSK ?= $(CURDIR)/husk
GO ?= go
VM_BATS ?= $(notdir $(wildcard $(addprefix $(VM_REPO)/tests/integration/, \
	cgroups*.bats dev.bats kill_delete.bats namespaces.bats)))
VM_SELINUX_BATS ?= lsm_selinux.bats
VM_SYSTEMD_BATS ?= $(filter-out systemd_hybrid.bats,$(notdir $(wildcard $(VM_REPO)/tests/integration/systemd_*.bats))) \
	rootless_cgroups.bats
VM_SYSTEMD_HYBRID_BATS ?= systemd_hybrid.bats
VM_GOPKGS ?= ./cgroups
VM_GOTESTFLAGS ?=

.PHONY: vm-test vm-test-selinux vm-systemd-test vm-systemd-hybrid-test vm-unit vm-conformance

# The subreaper and recvtty (the console socket end of checkpoint.bats) are built on the host:
# building them in the VM would take a minute of emulated CPU each.
vm-test:
	@mkdir -p $(VM_REPO)/tests/vm/bin
	cd $(VM_REPO) && $(GO) build -o tests/vm/bin/subreaper ./tests/cmd/subreaper
	cd $(VM_REPO) && CGO_ENABLED=0 $(GO) build -o tests/vm/bin/recvtty ./tests/cmd/recvtty
	$(VM_REPO)/tests/vm/run.sh 'HUSK=$(abspath $(HUSK)) SUBREAPER=$(VM_REPO)/tests/vm/bin/subreaper \
		RECVTTY=$(VM_REPO)/tests/vm/bin/recvtty tests/integration/run.sh $(VM_BATS)'

vm-test-selinux:
	@mkdir -p $(VM_REPO)/tests/vm/bin
	cd $(VM_REPO) && $(GO) build -o tests/vm/bin/subreaper ./tests/cmd/subreaper
	VM_APPEND=lsm=lockdown,capability,landlock,yama,selinux,bpf $(VM_REPO)/tests/vm/run.sh \
		'load_policy && HUSK=$(abspath $(HUSK)) SUBREAPER=$(VM_REPO)/tests/vm/bin/subreaper tests/integration/run.sh $(VM_SELINUX_BATS)'

vm-systemd-test:
	@mkdir -p $(VM_REPO)/tests/vm/bin
	cd $(VM_REPO) && $(GO) build -o tests/vm/bin/subreaper ./tests/cmd/subreaper
	VM_FLAVOUR=systemd $(VM_REPO)/tests/vm/run.sh \
		'HUSK=$(abspath $(HUSK)) SUBREAPER=$(VM_REPO)/tests/vm/bin/subreaper tests/integration/run.sh $(VM_SYSTEMD_BATS)'

# The same in systemd's hybrid layout (v1 controllers, its cgroup2 at /sys/fs/cgroup/unified).
vm-systemd-hybrid-test:
	@mkdir -p $(VM_REPO)/tests/vm/bin
	cd $(VM_REPO) && $(GO) build -o tests/vm/bin/subreaper ./tests/cmd/subreaper
	VM_FLAVOUR=systemd VM_SYSTEMD_CGROUP=hybrid $(VM_REPO)/tests/vm/run.sh \
		'HUSK=$(abspath $(HUSK)) SUBREAPER=$(VM_REPO)/tests/vm/bin/subreaper tests/integration/run.sh $(VM_SYSTEMD_HYBRID_BATS)'

vm-unit:
	cd $(VM_REPO) && tests/vm/gotest.sh $(VM_GOPKGS) -- $(VM_GOTESTFLAGS)

# Conformance programs that need the VM (see tests/vm/conformance-expected.txt). The suite is
# built on the host (tests/conformance/build.sh, cached); only the programs named here, their
# runtimetest and rootfs are copied where the VM can read them.
VM_CONFORMANCE ?= process_capabilities process_capabilities_fail
VM_CONF_DIR := $(VM_REPO)/tests/vm/bin/conformance
vm-conformance:
	@mkdir -p $(VM_REPO)/tests/vm/bin
	cd $(VM_REPO) && $(GO) build -o tests/vm/bin/subreaper ./tests/cmd/subreaper
	@suite=$$($(VM_REPO)/tests/conformance/build.sh) && key=$$(basename "$$suite") && \
		rm -rf $(VM_CONF_DIR) && mkdir -p $(VM_CONF_DIR)/$$key/bin && \
		cp "$$suite/tests.txt" "$$suite/rootfs-amd64.tar.gz" "$$suite/.complete" $(VM_CONF_DIR)/$$key/ && \
		for t in runtimetest $(VM_CONFORMANCE); do cp "$$suite/bin/$$t" $(VM_CONF_DIR)/$$key/bin/ || exit 1; done
	$(VM_REPO)/tests/vm/run.sh 'HUSK_CONFORMANCE_CACHE=$(VM_CONF_DIR) SUBREAPER=$(VM_REPO)/tests/vm/bin/subreaper \
		tests/conformance/run.sh -e tests/vm/conformance-expected.txt $(abspath $(HUSK)) -- $(VM_CONFORMANCE)'
