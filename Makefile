# dmabuf cgroup controller: kernel series, tools and tests.
#
#   make           install build dependencies, build the test kernel and the tools
#   make install   install dmabufctl (PREFIX=/usr/local, DESTDIR)
#   make check     build everything, boot the kernel in QEMU, run all tests
#   make demo      boot the kernel and show the controller at work
#   make bench     the controller's cost on the RDMA pin path (prints figures)
#   make export    write build/linux's commits back to kernel/patches
#   make systemd   Debian 12's systemd 252 with the DMABufPinnedMax= series (systemd/patches)
#   make systemd-deb  installable Debian packages of that systemd (build/systemd/deb)
#
# Everything generated goes to build/ (ignored by git).

SHELL := /bin/bash
TOP := $(CURDIR)
BUILD := $(TOP)/build
KSRC := $(BUILD)/linux
BZIMAGE := $(BUILD)/obj/arch/x86/boot/bzImage
SELFTESTS := $(BUILD)/selftests

DEB_PACKAGES := linux-source-6.12 build-essential bc bison flex libelf-dev \
	libssl-dev dwarves cpio kmod xz-utils python3 git ccache sparse \
	qemu-system-x86 iproute2 rdma-core ibverbs-utils libibverbs-dev \
	libcgroup-dev libcmocka-dev \
	crun runc podman fuse-overlayfs slirp4netns cgroup-tools jq

SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: systemd systemd-test systemd-deb systemd-export
.PHONY: all deps kernel tree selftests test-bins dmabufctl install check demo bench bench-kernel export checkpatch check-series clean

all: kernel dmabufctl test-bins

# Install what is missing, once; apt-get update only when something is.
deps:
	@missing=$$(for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "[deps] installing:" $$missing; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

kernel: deps
	kernel/build.sh bzimage

tree: deps
	kernel/build.sh tree

# The cgroup selftest comes from the kernel tree (it is part of the series).
SELFTEST_DIR := $(KSRC)/tools/testing/selftests/cgroup
selftests: tree
	@mkdir -p $(SELFTESTS)
	gcc -Wall -O2 -pthread \
		-o $(SELFTESTS)/test_dmabuf $(SELFTEST_DIR)/test_dmabuf.c $(SELFTEST_DIR)/cgroup_util.c

# Test programs that run in the VM.
BIN := $(BUILD)/bin
test-bins: deps
	@mkdir -p $(BIN)
	gcc -Wall -Wextra -O2 -o $(BIN)/dmabuf-pin tests/pin/dmabuf-pin.c -libverbs

# The admin tool; the VM tests use the copy in build/bin.
DMABUFCTL_O := $(BUILD)/dmabufctl
dmabufctl: deps
	$(MAKE) -C tools/dmabufctl O=$(DMABUFCTL_O)
	@mkdir -p $(BIN)
	install -m 0755 $(DMABUFCTL_O)/dmabufctl $(BIN)/dmabufctl

install: dmabufctl
	$(MAKE) -C tools/dmabufctl O=$(DMABUFCTL_O) install PREFIX=$(or $(PREFIX),/usr/local) DESTDIR=$(DESTDIR)

check: kernel selftests test-bins dmabufctl systemd
	tests/check.sh

demo: kernel test-bins dmabufctl
	tests/demo.sh

# The cost of the controller on the pin path, on a kernel without KASAN
# and lockdep (build/obj-bench).
bench-kernel: deps
	DEBUG_KERNEL=0 OBJ=$(BUILD)/obj-bench kernel/build.sh bzimage

bench: bench-kernel test-bins
	tests/bench.sh

export:
	kernel/build.sh export

checkpatch: tree
	kernel/build.sh checkpatch

# Every patch builds on its own, W=1 and sparse clean (slow: a build per patch).
check-series: deps
	kernel/build.sh each

# systemd 252 from Debian's source package with systemd/patches applied; the
# VM tests boot it as PID 1. systemd/build.sh adds the deb-src entry and the
# build dependencies it needs.
systemd: deps
	systemd/build.sh build

systemd-test: systemd
	systemd/build.sh test

systemd-deb: deps
	systemd/build.sh deb

systemd-export:
	systemd/build.sh export

clean:
	rm -rf $(BUILD)/obj $(BUILD)/vm $(BUILD)/check $(SELFTESTS)
