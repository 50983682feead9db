# Fuji — make targets. `make run` and `make test` install what they need on
# a fresh Debian machine (apt-get, as root or through sudo).

GO      ?= go
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT     := DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get
BIN     := build/fuji
FUZZTIME ?= 20s

# Debian packages each target needs. Every target that builds the guest
# files needs cpio, and gcc and libc6-dev for the bench initramfs's
# static cpubench.
GUEST_DEBS := cpio gcc libc6-dev
RUN_DEBS   := seabios $(GUEST_DEBS)
# nasm and binutils build the bare-metal test programs; xvfb runs the
# window tests (go test under xvfb-run; cmd/fuji's also starts its own
# Xvfb and types through XTEST from Go, so it needs no xdotool); the
# X11/GL headers let those tests build the ebiten window.
TEST_DEBS  := seabios nasm binutils $(GUEST_DEBS) xvfb xauth libgl1-mesa-dri \
	libx11-dev libxrandr-dev libxcursor-dev libxinerama-dev libxi-dev libxxf86vm-dev libgl-dev
BENCH_DEBS := seabios nasm $(GUEST_DEBS) qemu-system-x86
# A window build needs a display and the X11/GL headers.
WINDOW_TAGS := $(if $(DISPLAY),-tags window,)

.PHONY: all build run run-seabios test test-go fuzz vet bench conformance deps-run deps-test deps-bench guest clean

GUEST := build/guest
GUEST_FILES := $(GUEST)/vmlinuz-amd64 $(GUEST)/initramfs-amd64-test.cpio.gz $(GUEST)/initramfs-amd64-shell.cpio.gz \
	$(GUEST)/initramfs-amd64-bench.cpio.gz $(GUEST)/vmlinuz-i386 $(GUEST)/initramfs-i386-test.cpio.gz

all: build

build:
	$(GO) build $(WINDOW_TAGS) -o $(BIN) ./cmd/fuji

# Install missing Debian packages (apt-get update once, only if needed).
define need_debs
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(APT) update -qq && $(APT) install -y -qq $$missing >/dev/null; \
	fi
endef

deps-run:
	$(call need_debs,$(RUN_DEBS))

deps-test:
	$(call need_debs,$(TEST_DEBS))

deps-bench:
	$(call need_debs,$(BENCH_DEBS))

# Debian 12's stock kernel and busybox, fetched with apt-get download, and
# the initramfs images built by the project's script.
guest: $(GUEST_FILES)

$(GUEST)/vmlinuz-%:
	scripts/fetch-guest.sh $(GUEST) $*

$(GUEST)/initramfs-amd64-%.cpio.gz: $(GUEST)/vmlinuz-amd64 scripts/mkinitramfs.sh
	scripts/mkinitramfs.sh $(GUEST)/busybox-amd64 $@ $*

# The bench initramfs carries scripts/cpubench.c, built by the script.
$(GUEST)/initramfs-amd64-bench.cpio.gz: scripts/cpubench.c

$(GUEST)/initramfs-i386-%.cpio.gz: $(GUEST)/vmlinuz-i386 scripts/mkinitramfs.sh
	scripts/mkinitramfs.sh $(GUEST)/busybox-i386 $@ $*

# Boot Debian's Linux to a busybox shell on this terminal. `poweroff` in the
# guest ends Fuji with status 0; Ctrl-A x quits at any time.
run: deps-run build guest
	@echo "fuji: booting Debian's Linux $$(cat $(GUEST)/kernel-version-amd64) (about 15 s with the JIT). Ctrl-A x quits."
	$(BIN) run -m 512 -clock realtime -serial stdio -display none \
		-kernel $(GUEST)/vmlinuz-amd64 -initrd $(GUEST)/initramfs-amd64-shell.cpio.gz \
		-append "console=ttyS0 quiet"

# SeaBIOS on an empty PC (it reports 'No bootable device').
run-seabios: deps-run build
	$(BIN) run -m 128 -serial stdio -display none

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }

# Every test, then short fuzz runs of the decoder, the executor and the
# JIT (against the interpreter). The last lines are go test's summary of
# the whole suite.
test: deps-test guest vet fuzz test-go

test-go:
	xvfb-run -a $(GO) test -count=1 -timeout 40m ./...

# FuzzCompile compiles every block it runs, so an execution is slow; the
# minimization of a new input is bounded by executions, not by the
# default 60 s, which would take the whole FUZZTIME.
fuzz:
	$(GO) test ./cpu -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME)
	$(GO) test ./cpu -run '^$$' -fuzz '^FuzzExec$$' -fuzztime $(FUZZTIME)
	$(GO) test ./jit -run '^$$' -fuzz '^FuzzCompile$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 50x

# Speed figures (not timed tests), side by side with QEMU TCG in one run:
# the interpreter on the bare-metal 8-instruction loop (in-process MIPS),
# then Fuji (-accel jit and interp) vs QEMU on the same multiboot kernel,
# the Linux boot, and the in-guest cpubench (also run on the host).
bench: deps-bench build guest
	$(GO) test ./cpu -run '^$$' -bench 'InterpLoop32' -benchtime 10x
	$(GO) test ./machine -run '^$$' -bench 'LoopVsQEMU|LinuxBootVsQEMU|CPUBenchVsQEMU' -benchtime 1x -timeout 60m

# Longer conformance runs: the host-CPU oracle with 100,000 random cases
# per form (make test runs 1,000), the whole suite, then ten minutes of
# each fuzz target.
conformance: deps-test
	FUJI_ORACLE_CASES=$${FUJI_ORACLE_CASES:-100000} $(GO) test -count=1 -timeout 0 -run 'X87|SSE|Integer' ./conformance/oracle/
	$(MAKE) test-go
	$(MAKE) fuzz FUZZTIME=10m

clean:
	rm -rf build
