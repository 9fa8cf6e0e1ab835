# husk: `make` builds ./husk, `make demo` runs a busybox container, `make test` runs every test.
GO      ?= go
PREFIX  ?= /usr/local
COMMIT  := $(shell git rev-parse --short HEAD 2>/dev/null)
# Static, so the binary the init re-executes needs no shared library inside any mount namespace.
LDFLAGS := -X main.gitCommit=$(COMMIT) -linkmode external -extldflags -static
TAGS    := netgo osusergo urfave_cli_no_docs
SOURCES := $(shell find . -path ./tests -prune -o \( -name '*.go' -o -name '*.c' \) -print) go.mod go.sum
HUSK    := $(CURDIR)/husk

# Debian packages each target needs (installed when missing).
BUILD_DEPS := gcc libc6-dev libseccomp-dev pkg-config
# apparmor, selinux-policy-default: apparmor_parser and the SELinux policy (with load_policy),
# which the VM (tests/vm, with the host's /usr and /etc) uses; neither turns an LSM on here.
# criu: checkpoint/restore, tested in the VM (Debian's criu 3.17 cannot run on this kernel).
# strace: control.bats and interrupted.bats stop or kill a runtime's process at a chosen call.
TEST_DEPS  := bats busybox-static jq runc crun iproute2 util-linux procps apparmor selinux-policy-default criu strace

.PHONY: all deps test-deps test-user demo test unit integration conformance clients install clean

all: husk

deps:
	@scripts/deps.sh $(BUILD_DEPS)

test-deps: deps
	@scripts/deps.sh $(TEST_DEPS)

# The unprivileged user the rootless tests run husk as (rootless.bats, podman-rootless.sh):
# husktest, with subordinate ids; made once, kept (scripts/testuser.sh).
test-user:
	@scripts/testuser.sh

husk: $(SOURCES) | deps
	CGO_ENABLED=1 $(GO) build -trimpath -tags "$(TAGS)" -ldflags "$(LDFLAGS)" -o $@ .

demo: husk
	@scripts/deps.sh busybox-static
	@scripts/mkbundle.sh demo/bundle $(HUSK)
	@jq '.process.args = ["sh", "-c", "echo \"Hello from a husk container\"; echo \"hostname: $$(hostname)\"; echo \"pid: $$$$\"; id; ls /"]' \
		demo/bundle/config.json >demo/bundle/config.json.new && mv demo/bundle/config.json.new demo/bundle/config.json
	@echo "+ husk --root demo/state run --bundle demo/bundle demo"
	@$(HUSK) --root $(CURDIR)/demo/state run --bundle demo/bundle demo-$$$$

# Each suite prints a closing "N passed, N failed" line; the first failing suite stops the run.
test: husk test-deps unit integration conformance clients cri bench-smoke vm-unit vm-test vm-test-selinux vm-conformance vm-systemd-test vm-systemd-hybrid-test

unit: husk
	$(GO) test -count=1 ./...

integration: husk test-deps test-user
	HUSK=$(HUSK) tests/integration/run.sh

conformance: husk test-deps
	HUSK=$(HUSK) tests/conformance/run.sh

# containerd, podman, docker and buildah from Debian's packages, driving husk.
clients: husk test-deps
	HUSK=$(HUSK) tests/clients/run.sh

# Kubernetes: critest and crictl through containerd's CRI, husk against runc (tests/cri).
CRI_DEPS := husk test-deps
include tests/cri/cri.mk

# The cgroup tests again on a pure cgroup v2 kernel: Debian's kernel under qemu (tests/vm);
# the AppArmor tests there too (AppArmor is on in that kernel, off on this machine), checkpoint
# and restore (criu works on that kernel), and the SELinux tests in a second boot with SELinux
# instead (vm-test-selinux).
VM_BATS := cgroups_resources.bats cgroups_commands.bats cgroups_existing.bats cgroups_mount.bats lsm_apparmor.bats checkpoint.bats
include tests/vm/vm.mk
vm-test vm-test-selinux vm-unit vm-conformance vm-systemd-test vm-systemd-hybrid-test: husk test-deps

# husk against Debian's runc and crun (tests/bench): `make bench` for numbers, `bench-smoke`
# (one round, no timing asserted) in make test.
BENCH_DEPS := husk test-deps
include tests/bench/bench.mk

install: husk
	install -D -m 0755 husk $(DESTDIR)$(PREFIX)/sbin/husk

clean:
	rm -rf husk demo
