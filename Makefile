# ftrace_exporter: build, test and run.
SWIFT ?= swift
BINARY := .build/release/ftrace_exporter
ARGS ?=
VERSION := $(shell sed -n 's/.*version = "\(.*\)".*/\1/p' Sources/Exporter/Version.swift)
DIST := dist
# The image takes the name deploy/kubernetes uses, so a cluster that runs local images (kind load
# docker-image) needs no kustomize override; IMAGE=REGISTRY/NAME:TAG for anything else.
IMAGE ?= ghcr.io/ftrace-exporter/ftrace_exporter:$(VERSION)
CONTAINER ?= $(shell command -v docker >/dev/null 2>&1 && echo docker || echo podman)

.PHONY: all build debug deps test unit-test sanitize fuzz vm-test deb deb-test soak release-static dist image bench demo update-golden run check-config clean

all: build

deps:
	@scripts/timed "dependencies (Debian packages)" scripts/install-deps

build: deps
	$(SWIFT) build -c release --product ftrace_exporter

debug: deps
	$(SWIFT) build

## test: everything CI runs: unit and fixture tests, goldens checked by promtool, the test suite
## again under AddressSanitizer and ThreadSanitizer, then the scenarios on real Debian 6.1 and
## 6.12 kernels under qemu.
test: unit-test sanitize vm-test deb-test

unit-test: deps
	@scripts/timed "swift test" $(SWIFT) test
	@scripts/timed "end-to-end (--once over every fixture tree)" scripts/end-to-end-test
	@scripts/timed "dashboards (structure, every query against a Prometheus)" scripts/check-dashboards
	@scripts/timed "deploy (promtool rules/config/tests, manifests, unit, flags)" scripts/check-deploy
	@scripts/timed "doc links (every relative link and anchor)" scripts/check-doc-links

## sanitize: the whole test suite again under AddressSanitizer (with LeakSanitizer; the daemons
## the tests start are sanitized too) and ThreadSanitizer, each in its own build folder. Any
## report fails the run.
sanitize: deps
	@LSAN_OPTIONS=suppressions=$(CURDIR)/Tests/Sanitizers/lsan.supp \
		scripts/timed "swift test under AddressSanitizer" $(SWIFT) test --sanitize=address --scratch-path .build-asan
	@scripts/timed "swift test under ThreadSanitizer" $(SWIFT) test --sanitize=thread --scratch-path .build-tsan

## fuzz: the libFuzzer targets (hist parser, trigger-info parser, configuration loader, HTTP
## routes with the admin API), 10 minutes each, one after the other; not part of `make test`.
## FUZZ_ARGS passes options to scripts/fuzz, e.g. FUZZ_ARGS="--time 60 fuzz_config".
fuzz: deps
	scripts/fuzz $(FUZZ_ARGS)

## release-static: the release build with the Swift runtime linked in, at $(BINARY) (the same path
## as `make build`, which links the runtime dynamically: the last of the two wins).
release-static: deps
	@scripts/timed "release build (static Swift runtime)" $(SWIFT) build -c release --static-swift-stdlib --product ftrace_exporter

## dist: the deployable binary, $(DIST)/ftrace_exporter: release-static copied out of .build (which
## `make build` overwrites), its size, then the shared libraries it still loads with their Debian
## packages. It fails if Foundation or ICU is linked in (scripts/check-no-foundation: they would
## be most of its size and start-up time), or if the Swift runtime is among those libraries.
dist: release-static
	install -D -m 0755 $(BINARY) $(DIST)/ftrace_exporter
	@scripts/check-no-foundation $(DIST)/ftrace_exporter || { \
	  rm -f $(DIST)/ftrace_exporter; echo "dist: the binary must not link Foundation or ICU (above)" >&2; exit 1; }
	@stripped=$$(mktemp) && strip -o "$$stripped" $(DIST)/ftrace_exporter && \
	  echo "$(DIST)/ftrace_exporter: $$(stat -c %s $(DIST)/ftrace_exporter) bytes, $$(stat -c %s "$$stripped") stripped"; \
	  rm -f "$$stripped"
	@libs=$$(scripts/runtime-packages $(DIST)/ftrace_exporter) || exit 1; \
	echo "$(DIST)/ftrace_exporter $(VERSION) (--static-swift-stdlib) loads these shared libraries (soname, Debian package):"; \
	echo "$$libs" | awk '{ print "  " $$1 "  " $$2 }'; \
	if echo "$$libs" | grep -qE ' (swift-runtime|-) '; then \
	  rm -f $(DIST)/ftrace_exporter; echo "dist: the binary needs libraries no Debian package provides (above)" >&2; exit 1; \
	fi

## deb: the Debian package $(DIST)/ftrace-exporter_$(VERSION)_amd64.deb (scripts/build-deb): the
## dist binary in /usr/bin, the hardened unit, the default configuration as a conffile, a postinst
## that makes the admin token and enables nothing. `dpkg -i` it, then `systemctl enable --now
## ftrace_exporter`.
deb: dist
	@scripts/build-deb $(DIST)/ftrace_exporter $(DIST)

## deb-test: lintian, then install, reinstall, remove and purge in a clean bookworm root.
deb-test: deb
	@scripts/timed "Debian package (lintian; install and purge in a bookworm root)" scripts/check-deb $(DIST)/ftrace-exporter_$(VERSION)_amd64.deb

## image: the container image from deploy/container/Containerfile with docker (or podman:
## CONTAINER=podman), tagged $(IMAGE). The build context is $(DIST)/, which holds only the binary.
image: dist
	$(CONTAINER) build -f deploy/container/Containerfile -t $(IMAGE) $(DIST)

vm-test: release-static
	@scripts/timed "VM scenarios on Debian 6.1" scripts/vm/scenarios --exporter $(BINARY) 6.1
	@scripts/timed "VM scenarios on Debian 6.12" scripts/vm/scenarios --exporter $(BINARY) 6.12

## soak: a real 6.12 kernel in a VM for 30 minutes with Prometheus scraping every second, key
## churn, sets installed, removed, paused and rotated, SIGHUP reloads and one kill -9 and restart;
## checks failed scrapes, the slopes of the exporter's RSS and descriptors and of kernel memory,
## and that SIGTERM leaves nothing in tracefs. Not part of `make test`. SOAK_ARGS passes options
## to scripts/vm/soak, e.g. SOAK_ARGS="--minutes 60 --kernel 6.1".
soak: release-static
	scripts/vm/soak --exporter $(BINARY) $(SOAK_ARGS)

## bench: every benchmark, with its baseline and ratio, in one table (BENCHMARKS.md explains).
bench: deps
	scripts/bench/run

## demo: a real kernel in a VM with the exporter and some load, on 127.0.0.1:9747, until Ctrl-C.
demo: deps
	scripts/vm/demo $(ARGS)

## update-golden: rewrite the golden expositions from the fixture trees; review the diff.
update-golden: deps
	UPDATE_GOLDEN=1 $(SWIFT) test --filter GoldenTests

## run: the exporter with the built-in configuration; the real tracefs needs root: `make build`,
## then `sudo make run`. Under sudo it runs the binary that is there instead of building as root:
## sudo's PATH seldom has the Swift toolchain, and a root build leaves .build owned by root.
run:
	@if [ -n "$${SUDO_USER:-}" ] && [ "$$(id -u)" = 0 ]; then \
	  [ -x $(BINARY) ] || { echo "make run: no $(BINARY): run 'make build' as $$SUDO_USER first" >&2; exit 1; }; \
	  [ -z "$$(find Sources Package.swift -newer $(BINARY) -print -quit)" ] || \
	    echo "make run: $(BINARY) is older than the sources: 'make build' as $$SUDO_USER rebuilds it" >&2; \
	else $(MAKE) --no-print-directory build; fi
	$(BINARY) $(ARGS)

check-config: build
	$(BINARY) --check-config $(ARGS)

clean:
	rm -rf .build $(DIST)
