# ftrace_exporter: build, test and run.
SWIFT ?= swift
BINARY := .build/release/ftrace_exporter
ARGS ?=

.PHONY: all build debug deps test unit-test sanitize fuzz vm-test release-static bench demo update-golden run check-config clean

all: build

deps:
	@scripts/install-deps

build: deps
	$(SWIFT) build -c release --product ftrace_exporter

debug: deps
	$(SWIFT) build

## test: everything CI runs: unit and fixture tests, goldens checked by promtool, the test suite
## again under AddressSanitizer and ThreadSanitizer, then the scenarios on real Debian 6.1 and
## 6.12 kernels under qemu.
test: unit-test sanitize vm-test

unit-test: deps
	@scripts/timed "swift test" $(SWIFT) test
	@scripts/timed "goldens + promtool" scripts/check-goldens
	@scripts/timed "end-to-end (--once over every fixture tree)" scripts/end-to-end-test
	@scripts/timed "dashboards (structure, every query against a Prometheus)" scripts/check-dashboards
	@scripts/timed "deploy (promtool rules/config/tests, manifests, unit, flags)" scripts/check-deploy

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

release-static: deps
	@scripts/timed "release build (static Swift runtime)" $(SWIFT) build -c release --static-swift-stdlib --product ftrace_exporter

vm-test: release-static
	@scripts/timed "VM scenarios on Debian 6.1" scripts/vm/scenarios --exporter $(BINARY) 6.1
	@scripts/timed "VM scenarios on Debian 6.12" scripts/vm/scenarios --exporter $(BINARY) 6.12

## bench: every benchmark, with its baseline and ratio, in one table (BENCHMARKS.md explains).
bench: deps
	scripts/bench/run

## demo: a real kernel in a VM with the exporter and some load, on 127.0.0.1:9747, until Ctrl-C.
demo: deps
	scripts/vm/demo $(ARGS)

## update-golden: rewrite the golden expositions from the fixture trees; review the diff.
update-golden: deps
	UPDATE_GOLDEN=1 $(SWIFT) test --filter GoldenTests

## run: the exporter with the built-in configuration (root is needed for the real tracefs).
run: build
	$(BINARY) $(ARGS)

check-config: build
	$(BINARY) --check-config $(ARGS)

clean:
	rm -rf .build
