# Fuji — make targets. `make run` and `make test` install what they need on
# a fresh Debian machine (apt-get, as root or through sudo).

GO      ?= go
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT     := DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get
BIN     := build/fuji
FUZZTIME ?= 20s

# Debian packages each target needs.
RUN_DEBS   := seabios
# nasm and binutils build the bare-metal test programs; xvfb runs the
# window tests (go test under xvfb-run; cmd/fuji's also starts its own
# Xvfb and types through XTEST from Go, so it needs no xdotool); the
# X11/GL headers let those tests build the ebiten window.
TEST_DEBS  := seabios nasm binutils cpio xvfb xauth libgl1-mesa-dri \
	libx11-dev libxrandr-dev libxcursor-dev libxinerama-dev libxi-dev libxxf86vm-dev libgl-dev
BENCH_DEBS := seabios nasm qemu-system-x86
# A window build needs a display and the X11/GL headers.
WINDOW_TAGS := $(if $(DISPLAY),-tags window,)

.PHONY: all build run test test-go fuzz vet bench conformance deps-run deps-test deps-bench clean

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

# Boot the best guest Fuji runs today: Debian's SeaBIOS on an empty PC,
# with its console on this terminal (Ctrl-A x quits).
run: deps-run build
	@echo "fuji: booting SeaBIOS (no disk yet: it reports 'No bootable device'). Ctrl-A x quits."
	$(BIN) run -m 128 -serial stdio -display none

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }

# Every test, then short fuzz runs of the decoder and the executor. The
# last lines are go test's summary of the whole suite.
test: deps-test vet fuzz test-go

test-go:
	xvfb-run -a $(GO) test -count=1 ./...

fuzz:
	$(GO) test ./cpu -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME)
	$(GO) test ./cpu -run '^$$' -fuzz '^FuzzExec$$' -fuzztime $(FUZZTIME)

# Speed figures (not timed tests): interpreter MIPS on the bare-metal loop.
bench: deps-bench build
	$(GO) test ./cpu -run '^$$' -bench 'InterpLoop32' -benchtime 10x

# Longer conformance runs: the whole suite, then ten minutes of each fuzz
# target.
conformance: deps-test test-go
	$(MAKE) fuzz FUZZTIME=10m

clean:
	rm -rf build
