# Periscope. Two commands on a fresh machine:
#   make run    install what is missing, build, start periscope
#   make test   install what is missing, build, run every test
SWIFT ?= swift
ARGS ?=

.PHONY: run test build setup clean

run: setup
	$(SWIFT) build --product periscope
	"$$($(SWIFT) build --show-bin-path)/periscope" $(ARGS)

test: setup
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

build: setup
	$(SWIFT) build

setup:
	@./scripts/setup.sh

clean:
	rm -rf .build
