# ftrace_exporter: build, test and run.
SWIFT ?= swift
BINARY := .build/release/ftrace_exporter
ARGS ?=

.PHONY: all build debug deps test unit-test golden update-golden run check-config clean

all: build

deps:
	@scripts/install-deps

build: deps
	$(SWIFT) build -c release --product ftrace_exporter

debug: deps
	$(SWIFT) build

## test: everything CI runs: unit and fixture tests, goldens checked by promtool.
test: deps
	@scripts/timed "swift test" $(SWIFT) test
	@scripts/timed "goldens + promtool" scripts/check-goldens
	@scripts/timed "end-to-end (--once over every fixture tree)" scripts/end-to-end-test

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
