# dmabuf cgroup controller: kernel series, tools and tests.
#
#   make           install build dependencies, build both test kernels and the tools
#   make install   install dmabufctl (PREFIX=/usr/local, DESTDIR); installs only
#                  its build dependencies (TOOL_PACKAGES), none of the tests'
#   make check     build everything, boot both kernels in QEMU, run all tests
#   make demo      boot the 7.3 kernel (KVER=6.12: the LTS backport) and show
#                  the controller at work
#   make bench     the controller's cost on the RDMA pin path, both kernels
#   make stress    a 10-minute torture run in the VM (STRESS_SECONDS, KVER)
#   make export    write build/linux-$(KVER)'s commits back to its series
#
# KVER=7.3 (default) is the mainline series (kernel/patches) on Debian's
# linux-source-7.3 from trixie-backports; KVER=6.12 the backport
# (kernel/patches-6.12) on Debian 12's linux-source-6.12.
#   make systemd   Debian 12's systemd 252 with the DMABufPinnedMax= series (systemd/patches)
#   make systemd-deb  installable Debian packages of that systemd (build/systemd/deb)
#   make dmabufctl-deb  the dmabufctl Debian package (build/deb/dmabufctl_*.deb), lintian-checked
#   make kernel-deb     installable kernel packages, Debian's config + the controller, for
#                       KVERS (build/kernel-deb/KVER/*.deb; hours: the whole distribution config);
#                       KERNEL_DEB_CONFIG="CGROUP_DMEM=y ..." adds options to Debian's
#   make check-packages the packages tested: installed into clean Debian 12 and 13 chroots
#                       (dmabufctl; a kernel package, localmodconfig, with its hooks), the
#                       kernel booted in the VM signed, with its initramfs and modules, under
#                       Debian 12's and Debian 13's userspace; the full package of
#                       make kernel-deb too, when it has been built
#
# Everything generated goes to build/ (ignored by git), except two caches that
# clones share: ccache's (~/.cache/ccache) and make check-packages' chroot
# tarballs (~/.cache/dmabuf-cgroup, made again after a week).

SHELL := /bin/bash
TOP := $(CURDIR)
BUILD := $(TOP)/build
KVER ?= 7.3
KVERS := 7.3 6.12
KSRC := $(BUILD)/linux-$(KVER)
SELFTESTS := $(BUILD)/selftests

DEB_PACKAGES := linux-source-6.12 linux-source-7.3 build-essential bc bison flex libelf-dev \
	libssl-dev dwarves cpio kmod xz-utils python3 git ccache sparse \
	qemu-system-x86 iproute2 rdma-core ibverbs-utils libibverbs-dev \
	pkg-config libjson-c-dev libsmartcols-dev libcmocka-dev python3-jsonschema python3-ply python3-git \
	crun runc podman fuse-overlayfs slirp4netns cgroup-tools jq \
	linux-perf bash-completion

# What building and installing dmabufctl alone needs: make install on a
# host where the tests never run installs only these.
TOOL_PACKAGES := build-essential pkg-config libjson-c-dev libsmartcols-dev
# dpkg-buildpackage and lintian, and tools/dmabufctl/debian/control's
# Build-Depends (the test ones included: the package build runs make test).
DEB_TOOL_PACKAGES := $(TOOL_PACKAGES) dpkg-dev debhelper lintian pkgconf libcmocka-dev python3 \
	python3-jsonschema bash-completion

SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: systemd systemd-test systemd-deb systemd-export dmabufctl-deb kernel-deb check-packages
.PHONY: all deps tool-deps kernels kernel kunit-uml tree selftests test-bins dmabufctl install check demo stress bench bench-kernel export checkpatch check-series clean

all: kernels dmabufctl test-bins

# Install what is missing, once; apt-get update only when something is.
# $(call apt_missing,PACKAGES,LABEL[,COMMAND]): install the packages not
# installed yet, once (COMMAND first, then apt-get update, only if any is).
define apt_missing
	@missing=$$(for p in $(1); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "[$(2)] installing:" $$missing; \
		$(if $(3),$(3) && )$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
endef

deps:
	$(call apt_missing,$(DEB_PACKAGES),deps,$(SUDO) kernel/apt-suite.sh trixie-backports linux-source-7.3)

tool-deps:
	$(call apt_missing,$(TOOL_PACKAGES),tool-deps)

# Both kernels, one after the other (each build uses every core).
kernels: deps
	KVER=7.3 kernel/build.sh bzimage
	KVER=6.12 kernel/build.sh bzimage

kernel: deps
	KVER=$(KVER) kernel/build.sh bzimage

# The KUnit suites that run on UML (TTM's), mainline series.
kunit-uml: deps
	KVER=7.3 kernel/build.sh uml

tree: deps
	KVER=$(KVER) kernel/build.sh tree

# The cgroup selftest comes from the kernel tree (it is part of the series).
SELFTEST_DIR := $(BUILD)/linux-7.3/tools/testing/selftests/cgroup
selftests: deps
	KVER=7.3 kernel/build.sh tree
	@mkdir -p $(SELFTESTS)
	gcc -Wall -O2 -pthread -I$(SELFTEST_DIR)/lib/include -I$(SELFTEST_DIR)/.. \
		-o $(SELFTESTS)/test_dmabuf $(SELFTEST_DIR)/test_dmabuf.c $(SELFTEST_DIR)/lib/cgroup_util.c

# Test programs that run in the VM. iommufd-pin needs the 7.3 tree: its
# uAPI header (Debian 12's linux-libc-dev has no linux/iommufd.h), copied to
# build/include-7.3, and iommufd's selftest header iommufd_test.h, which is
# not uapi and stays in drivers/iommu/iommufd (as for selftests/iommu).
# dmabuf-pin includes the test device's interface, lib/test_dmabuf_dev_uapi.h
# of the 7.3 series (as the mm selftests include lib/test_hmm_uapi.h), copied
# to build/include-7.3/lib from the tip of the series.
BIN := $(BUILD)/bin
IOMMUFD_INC := $(BUILD)/include-7.3
test-bins: deps
	KVER=7.3 kernel/build.sh tree
	@mkdir -p $(BIN) $(IOMMUFD_INC)/linux $(IOMMUFD_INC)/lib
	git -C $(BUILD)/linux-7.3 show dmabuf:lib/test_dmabuf_dev_uapi.h > $(IOMMUFD_INC)/lib/test_dmabuf_dev_uapi.h
	gcc -Wall -Wextra -O2 -I$(IOMMUFD_INC) -o $(BIN)/dmabuf-pin tests/pin/dmabuf-pin.c -libverbs
	git -C $(BUILD)/linux-7.3 show dmabuf:include/uapi/linux/iommufd.h > $(IOMMUFD_INC)/linux/iommufd.h
	set -o pipefail; git -C $(BUILD)/linux-7.3 show dmabuf:include/uapi/linux/vfio.h | \
		sed -E 's/([[:space:](])__user[[:space:]]/\1/g' > $(IOMMUFD_INC)/linux/vfio.h
	gcc -Wall -Wextra -O2 -I$(IOMMUFD_INC) -I$(BUILD)/linux-7.3/drivers/iommu/iommufd \
		-o $(BIN)/iommufd-pin tests/pin/iommufd-pin.c

# The admin tool; the VM tests use the copy in build/bin.
DMABUFCTL_O := $(BUILD)/dmabufctl
dmabufctl: tool-deps
	$(MAKE) -C tools/dmabufctl O=$(DMABUFCTL_O)
	@mkdir -p $(BIN)
	install -m 0755 $(DMABUFCTL_O)/dmabufctl $(BIN)/dmabufctl

install: dmabufctl
	$(MAKE) -C tools/dmabufctl O=$(DMABUFCTL_O) install PREFIX=$(or $(PREFIX),/usr/local) DESTDIR=$(DESTDIR)

check: kernels kunit-uml selftests test-bins dmabufctl systemd
	tests/check.sh

demo: kernel test-bins dmabufctl
	KVER=$(KVER) tests/demo.sh

# A torture run in the VM on the debug kernel (KVER, default 7.3), two CPUs,
# STRESS_SECONDS (default 600): tests/stress.sh, tests/guest/stress.sh.
stress: kernel selftests test-bins
	KVER=$(KVER) tests/stress.sh

# The cost of the controller on the pin path, on kernels without KASAN
# and lockdep (build/obj-bench-$(KVER)).
bench-kernel: deps
	for v in $(KVERS); do \
		KVER=$$v DEBUG_KERNEL=0 OBJ=$(BUILD)/obj-bench-$$v kernel/build.sh bzimage || exit; \
	done

bench: bench-kernel test-bins
	for v in $(KVERS); do \
		BENCH_KERNEL=$(BUILD)/obj-bench-$$v/arch/x86/boot/bzImage BENCH_NAME=$$v tests/bench.sh || exit; \
	done

export:
	KVER=$(KVER) kernel/build.sh export

checkpatch: deps
	for v in $(KVERS); do KVER=$$v kernel/build.sh checkpatch || exit; done

# Every patch of both series builds on its own, W=1 and sparse clean (slow:
# a build per patch).
check-series: deps
	for v in $(KVERS); do KVER=$$v kernel/build.sh each || exit; done

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

# A source copy in build/deb (dpkg-buildpackage writes next to its tree, and
# nothing is built in the repo), the package built with its tests, lintian.
DMABUFCTL_VERSION = $(shell sed -n '1s/^dmabufctl (\(.*\)).*/\1/p' tools/dmabufctl/debian/changelog)
# What kernel/build.sh deb needs, and no more: a production host gets no
# QEMU, podman or test tools (deps has them). bindeb-pkg checks its own
# Build-Depends-Arch (scripts/package/mkdebian): 7.3's adds libdw-dev and python3.
# Not listed there but run by the build with Debian's config: zstd
# (CONFIG_KERNEL_ZSTD) and openssl (the module signing key, certs/Makefile).
KERNEL_DEB_PACKAGES := linux-source-6.12 linux-source-7.3 build-essential bc bison flex libelf-dev \
	libdw-dev python3 libssl-dev openssl zstd dwarves cpio kmod xz-utils git ccache dpkg-dev rsync \
	debhelper
# make kernel-deb KVER=6.12 builds that one kernel too (KVERS=6.12 does).
DEB_KVERS = $(if $(filter command line,$(origin KVER)),$(KVER),$(KVERS))
kernel-deb:
	$(call apt_missing,$(KERNEL_DEB_PACKAGES),kernel-deb,$(SUDO) kernel/apt-suite.sh trixie-backports linux-source-7.3)
	for v in $(DEB_KVERS); do KVER=$$v kernel/build.sh deb-config || exit; done
	for v in $(DEB_KVERS); do KVER=$$v kernel/build.sh deb || exit; done

check-packages: deps test-bins dmabufctl selftests
	$(call apt_missing,$(KERNEL_DEB_PACKAGES) $(DEB_TOOL_PACKAGES) debootstrap,check-packages)
	tests/packages.sh

dmabufctl-deb:
	$(call apt_missing,$(DEB_TOOL_PACKAGES),dmabufctl-deb)
	rm -rf $(BUILD)/deb/dmabufctl-* $(BUILD)/deb/dmabufctl_*
	mkdir -p $(BUILD)/deb
	cp -a tools/dmabufctl $(BUILD)/deb/dmabufctl-$(DMABUFCTL_VERSION)
	cd $(BUILD)/deb/dmabufctl-$(DMABUFCTL_VERSION) && dpkg-buildpackage -us -uc
	lintian --fail-on error,warning --display-info $(BUILD)/deb/dmabufctl_$(DMABUFCTL_VERSION)_*.changes
	@ls $(BUILD)/deb/*.deb

clean:
	rm -rf $(BUILD)/obj-7.3 $(BUILD)/obj-6.12 $(BUILD)/vm $(BUILD)/check $(SELFTESTS)
