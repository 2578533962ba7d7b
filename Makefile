# pycensus: a census of a running CPython heap. `make` builds ./pycensus; `make check` installs
# what is missing, builds and runs the unit and integration tests; `make demo` profiles
# examples/cargo.py; `make asan` runs the tests under AddressSanitizer + UBSan.

CC      ?= cc
PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   ?= build
PKGS    := libelf libdw libunwind-ptrace zlib libmicrohttpd libzstd liblz4 liblzma
TEST_PKGS := criterion

# WERROR=0 keeps warnings as warnings (a newer compiler's new warnings need not stop a build).
WERROR  ?= 1
WARN    := -Wall -Wextra $(if $(filter 1,$(WERROR)),-Werror) -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-missing-field-initializers
CFLAGS  ?= -O2 -g
ALL_CFLAGS = -std=c11 $(WARN) $(CFLAGS) -I. $(shell pkg-config --cflags $(PKGS) 2>/dev/null) -MMD -MP
LDLIBS_PC = $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -ldw -lelf -lunwind-ptrace -lunwind-generic -lunwind -lz -lmicrohttpd -lzstd -llz4 -llzma) -lpthread
LDLIBS_TEST = $(shell pkg-config --libs $(TEST_PKGS) 2>/dev/null || echo -lcriterion)

MODULES := common python attach symbols source objects model pymalloc frames census stats report cli
LIB_SRC := $(filter-out cli/main.c,$(foreach m,$(MODULES),$(wildcard $(m)/*.c)))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC := $(wildcard tests/unit/*.c)
UNIT_OBJ := $(UNIT_SRC:%.c=$(BUILD)/%.o)
INTEG_SRC := $(wildcard tests/integration/*.c)
INTEG_OBJ := $(INTEG_SRC:%.c=$(BUILD)/%.o)
FUZZ_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(wildcard tests/fuzz/*.c))

.PHONY: all check check-ft check-long check-rooms check-docs uninstall deb evidence unit integration asan demo deps install clean bench bench-graph bench-kinds bench-inspect bench-cgroup fixtures fuzz fuzz-build fuzz-check soak
all: pycensus

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/libpycensus.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

pycensus: $(BUILD)/cli/main.o $(BUILD)/libpycensus.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS_PC)

# --version: tools/version (a release tag, else VERSION + commits since + commit). The stamp
# changes only with the version, so only main.o is rebuilt when it does.
PC_VERSION := $(shell tools/version)
$(BUILD)/version.stamp: FORCE
	@mkdir -p $(dir $@)
	@echo '$(PC_VERSION)' | cmp -s - $@ || echo '$(PC_VERSION)' > $@
$(BUILD)/cli/main.o: $(BUILD)/version.stamp
$(BUILD)/cli/main.o: ALL_CFLAGS += -DPC_VERSION='"$(PC_VERSION)"'
FORCE:

# ELF fixtures for the symbol-lookup unit tests: a PIE executable, a shared object, and a
# stripped copy (no .symtab), all from one small source with an exported and a local symbol.
FIXDIR := $(BUILD)/fixtures
fixtures: $(FIXDIR)/fixture_exe $(FIXDIR)/fixture.so $(FIXDIR)/fixture_stripped
$(FIXDIR)/fixture_exe: tests/unit/fixtures/elf_fixture.c
	@mkdir -p $(dir $@)
	$(CC) -O0 -g -fPIE -pie -rdynamic -o $@ $<
$(FIXDIR)/fixture.so: tests/unit/fixtures/elf_fixture.c
	@mkdir -p $(dir $@)
	$(CC) -O0 -g -fPIC -shared -DFIXTURE_LIB -o $@ $<
$(FIXDIR)/fixture_stripped: $(FIXDIR)/fixture_exe
	strip -o $@ $<
# A thread held in uninterruptible sleep (vfork), for the integration tests' stop deadline.
$(FIXDIR)/vforkhold.so: tests/integration/fixtures/vforkhold.c
	@mkdir -p $(dir $@)
	$(CC) -O1 -fPIC -shared -o $@ $<
# Counts a signal's deliveries in C, for the integration tests' lost-signals check.
$(FIXDIR)/sigcount.so: tests/integration/fixtures/sigcount.c
	@mkdir -p $(dir $@)
	$(CC) -O1 -fPIC -shared -o $@ $<
# A program that loads libpython and never initialises it: the not-running test's target.
$(FIXDIR)/embedder: tests/integration/fixtures/embedder.c
	@mkdir -p $(dir $@)
	$(CC) -O1 -o $@ $< -ldl

$(BUILD)/test_unit: $(UNIT_OBJ) $(BUILD)/libpycensus.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS_TEST) $(LDLIBS_PC)

$(BUILD)/test_integration: $(INTEG_OBJ) $(BUILD)/libpycensus.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS_TEST) $(LDLIBS_PC)

deps:
	@tools/install-deps

# The rules of docs/architecture.md a grep can check: room order, versions and offsets in python/.
check-rooms:
	@tools/check-rooms

# T=PATTERN runs only the tests it names (Criterion's --filter: T='signals/*', T='*/sigint*');
# PYTHONS=3.12,debian only those interpreters (PYCENSUS_TEST_PYTHONS, tests/integration/harness.h).
TEST_ARGS = --jobs 2 $(if $(T),--filter '$(T)')
# The integration tests wait on their targets much of the time (at a3ff094, 2 cores: 11.5 CPU
# minutes in 7.4 with 3 jobs), so `make integration` runs 3 at once (INTEG_JOBS=2 for fewer); the
# ASan run keeps 2.
INTEG_ARGS = --jobs $(or $(INTEG_JOBS),3) $(if $(T),--filter '$(T)')
TEST_ENV = $(if $(PYTHONS),PYCENSUS_TEST_PYTHONS='$(PYTHONS)')

unit: deps
	@$(MAKE) --no-print-directory $(BUILD)/test_unit fixtures
	PYCENSUS_FIXTURES=$(FIXDIR) tools/run-tests $(BUILD)/unit.log $(BUILD)/test_unit $(TEST_ARGS)

# The interpreters are found by tests/integration/harness.c (pyenv, /usr/bin, tools/provision-pythons'
# prefix, $PYCENSUS_PYTHONS); PYCENSUS_TEST_PYTHONS=3.14,3.12.1 tests only those (harness.h).
integration: deps
	@$(MAKE) --no-print-directory pycensus $(BUILD)/test_integration $(FIXDIR)/vforkhold.so $(FIXDIR)/sigcount.so $(FIXDIR)/embedder
	$(TEST_ENV) PYCENSUS=$(CURDIR)/pycensus PYCENSUS_WORKLOADS=$(CURDIR)/tests/integration/workloads PYCENSUS_FIXTURES=$(FIXDIR) \
		tools/run-tests $(BUILD)/integration.log $(BUILD)/test_integration $(INTEG_ARGS)

check: deps
	@tools/check-rooms
	@$(MAKE) --no-print-directory unit check-docs
	@tools/provision-pythons || true
	@$(MAKE) --no-print-directory integration
	@$(if $(T),echo "fuzz-check skipped: T selects tests",$(MAKE) --no-print-directory fuzz-check)

# Free-threaded CPython (PEP 703): tools/build-freethreaded builds 3.13t once from Debian's
# python3.13 source package (about 15-25 minutes on 2 cores, cached; a rerun takes milliseconds),
# then its unit and integration tests run. Not part of check: the build alone would double it.
# tools/ft-layouts --check: the headers-only method of the 3.14t/3.15t tables gives the DWARF's
# tables where pycensus has DWARF (3.13t's own headers; 3.14 and 3.15 built with the GIL).
check-ft: deps
	@tools/build-freethreaded
	tools/ft-layouts --check
	@$(MAKE) --no-print-directory pycensus $(BUILD)/test_unit $(BUILD)/test_integration fixtures
	PYCENSUS_FIXTURES=$(FIXDIR) tools/run-tests $(BUILD)/unit-ft.log $(BUILD)/test_unit --filter 'free_threaded/*'
	$(TEST_ENV) PYCENSUS=$(CURDIR)/pycensus PYCENSUS_WORKLOADS=$(CURDIR)/tests/integration/workloads PYCENSUS_FIXTURES=$(FIXDIR) \
		tools/run-tests $(BUILD)/integration-ft.log $(BUILD)/test_integration --jobs 2 --filter 'freethreaded/*'

# The slow variants: every suite on every interpreter (PYCENSUS_TEST_FULL=1), the soak at its
# full counts (bench/soak) and FUZZ_LONG seconds of fuzzing. Not part of check: about an hour.
FUZZ_LONG ?= 1200
check-long: check
	@PYCENSUS_TEST_FULL=1 $(MAKE) --no-print-directory integration
	@bench/soak
	@$(MAKE) --no-print-directory fuzz FUZZ_TIME=$(FUZZ_LONG)

# libFuzzer (clang) over captured images (tests/fuzz/): seeds are shrunk captures stored gzipped
# in tests/fuzz/images; inputs are mutation programs (tests/fuzz/corpus). `make fuzz` runs
# FUZZ_TIME seconds (FUZZ_JOBS processes); `make fuzz-check` (part of check) replays every
# regression input of tests/fuzz/regress and fuzzes FUZZ_SHORT seconds.
FUZZ_BUILD := build-fuzz
FUZZ_CFLAGS := -O1 -g -fsanitize=address,undefined -fsanitize-coverage=inline-8bit-counters,pc-table -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_TIME ?= 3600
FUZZ_JOBS ?= 1
FUZZ_SHORT ?= 25
FUZZ_IMAGES := $(patsubst tests/fuzz/images/%.img.gz,$(FUZZ_BUILD)/images/%.img,$(wildcard tests/fuzz/images/*.img.gz))
# FUZZ_ASAN: e.g. detect_leaks=1:malloc_context_size=0:quarantine_size_mb=16 for long runs (about
# 10 % more executions; reports then lack allocation stacks: replay a finding with the default).
FUZZ_ASAN ?= detect_leaks=1
FUZZ_RUN = PYCENSUS_FUZZ_IMAGES=$(FUZZ_BUILD)/images ASAN_OPTIONS=$(FUZZ_ASAN) $(FUZZ_BUILD)/fuzz_census
FUZZ_DUMP_RUN = PYCENSUS_FUZZ_IMAGES=$(FUZZ_BUILD)/images ASAN_OPTIONS=$(FUZZ_ASAN) $(FUZZ_BUILD)/fuzz_dump
FUZZ_DUMP_SHORT ?= 10
FUZZ_CORE_RUN = ASAN_OPTIONS=$(FUZZ_ASAN) $(FUZZ_BUILD)/fuzz_core
FUZZ_CORE_SHORT ?= 5

$(BUILD)/fuzz_census: $(BUILD)/tests/fuzz/fuzz_census.o $(BUILD)/tests/fuzz/fuzz_image.o $(BUILD)/libpycensus.a
	$(CC) $(CFLAGS) -fsanitize=fuzzer $(LDFLAGS) -o $@ $^ $(LDLIBS_PC)

# the heap-dump reader's harness (tests/fuzz/fuzz_dump.c): a short pass in fuzz-check
$(BUILD)/fuzz_dump: $(BUILD)/tests/fuzz/fuzz_dump.o $(BUILD)/libpycensus.a
	$(CC) $(CFLAGS) -fsanitize=fuzzer $(LDFLAGS) -o $@ $^ $(LDLIBS_PC)

# the core-file reader's harness (tests/fuzz/fuzz_core.c): a short pass in fuzz-check
$(BUILD)/fuzz_core: $(BUILD)/tests/fuzz/fuzz_core.o $(BUILD)/libpycensus.a
	$(CC) $(CFLAGS) -fsanitize=fuzzer $(LDFLAGS) -o $@ $^ $(LDLIBS_PC)

$(BUILD)/shrink_image: $(BUILD)/tests/fuzz/shrink_image.o $(BUILD)/tests/fuzz/fuzz_image.o $(BUILD)/libpycensus.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS_PC)

$(FUZZ_BUILD)/images/%.img: tests/fuzz/images/%.img.gz
	@mkdir -p $(dir $@)
	gzip -dc $< > $@

fuzz-build: deps
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=clang CFLAGS="$(FUZZ_CFLAGS)" $(FUZZ_BUILD)/fuzz_census $(FUZZ_BUILD)/fuzz_dump \
		$(FUZZ_BUILD)/fuzz_core
	@$(MAKE) --no-print-directory $(FUZZ_IMAGES)

# make fuzz: an execution over 1 s is a finding (-timeout=1); fork mode records it as an artifact
# (timeout-*) and goes on, so a busy machine does not end the run: rerun each one alone to triage.
# make check: the 1 s limit would be a timed assertion on a shared machine; 20 s is a hang guard.
fuzz: fuzz-build
	@mkdir -p $(FUZZ_BUILD)/corpus $(FUZZ_BUILD)/artifacts
	$(FUZZ_RUN) -timeout=1 -fork=$(FUZZ_JOBS) -ignore_timeouts=1 -max_total_time=$(FUZZ_TIME) \
		-artifact_prefix=$(FUZZ_BUILD)/artifacts/ -print_final_stats=1 $(FUZZ_BUILD)/corpus tests/fuzz/corpus

fuzz-check: fuzz-build
	$(FUZZ_RUN) -timeout=20 tests/fuzz/regress/*
	@mkdir -p $(FUZZ_BUILD)/corpus
	$(FUZZ_RUN) -timeout=20 -max_total_time=$(FUZZ_SHORT) -print_final_stats=1 $(FUZZ_BUILD)/corpus tests/fuzz/corpus
	@mkdir -p $(FUZZ_BUILD)/corpus-dump
	$(FUZZ_DUMP_RUN) -timeout=20 -max_total_time=$(FUZZ_DUMP_SHORT) -print_final_stats=1 $(FUZZ_BUILD)/corpus-dump tests/fuzz/corpus-dump
	@mkdir -p $(FUZZ_BUILD)/corpus-core
	$(FUZZ_CORE_RUN) -timeout=20 -max_total_time=$(FUZZ_CORE_SHORT) -print_final_stats=1 $(FUZZ_BUILD)/corpus-core tests/fuzz/corpus-core

# The same suite with AddressSanitizer + UBSan, in its own build tree.
asan: deps
	@LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp $(MAKE) --no-print-directory BUILD=build-asan \
		CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		LDFLAGS="-fsanitize=address,undefined" unit
	@$(MAKE) --no-print-directory BUILD=build-asan \
		CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		LDFLAGS="-fsanitize=address,undefined" pycensus-asan
	@tools/provision-pythons || true
	$(TEST_ENV) PYCENSUS=$(CURDIR)/pycensus-asan PYCENSUS_WORKLOADS=$(CURDIR)/tests/integration/workloads \
		PYCENSUS_FIXTURES=$(CURDIR)/build-asan/fixtures ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
		tools/run-tests build-asan/integration.log build-asan/test_integration $(TEST_ARGS)

pycensus-asan: $(BUILD)/cli/main.o $(BUILD)/libpycensus.a $(BUILD)/test_integration $(FIXDIR)/vforkhold.so $(FIXDIR)/sigcount.so $(FIXDIR)/embedder
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(BUILD)/cli/main.o $(BUILD)/libpycensus.a $(LDLIBS_PC)

demo: deps
	@$(MAKE) --no-print-directory pycensus
	@tools/demo

bench: pycensus
	bench/run

# What the number of kinds costs (bench/kinds): snap of 60, 6,000 and 60,000 classes at equal
# object count, then on the same heap (60,000 classes made, instances in 60 to 60,000 of them),
# and diff of two 60,000-kind CSVs. Not part of check or bench.
bench-kinds: pycensus
	bench/kinds

# inspect against snap on Sphinx (Debian's python3-sphinx; skipped with a message without it):
# median wall and CPU of 5 each and the ratio (issue 17). Not part of check or bench.
bench-inspect: pycensus
	bench/inspect

# pycensus in a 512 MiB memory cgroup against a census outside it, on 1e8 floats (a 3.8 GiB
# target; issue 14): wall, peak RSS, the cgroup's peak and the rows compared. Needs root. Not
# part of check or bench.
bench-cgroup: pycensus
	bench/cgroup

# The object graph's dominators, retained sizes and paths on synthetic heaps of 1e6 and 1e7
# objects (bench/graph.c): seconds and peak RSS per phase. Not part of check or bench.
bench-graph: $(BUILD)/bench/graph
	$(BUILD)/bench/graph 1000000
	$(BUILD)/bench/graph 10000000
$(BUILD)/bench/graph: bench/graph.c $(BUILD)/libpycensus.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libpycensus.a

# docs/evidence.md's figures, regenerated from the suites and benchmarks (15-25 minutes).
evidence: pycensus
	@tools/evidence

# PREFIX (default /usr/local) and DESTDIR (a staging root, as packagers use) as usual.
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
DOCDIR  ?= $(PREFIX)/share/doc/pycensus
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/vendor-completions
INSTALLED := $(BINDIR)/pycensus $(MANDIR)/man1/pycensus.1 $(BASHCOMPDIR)/pycensus $(ZSHCOMPDIR)/_pycensus \
	$(addprefix $(DOCDIR)/,README.md $(notdir $(wildcard docs/*.md))) $(DOCDIR)/schema/pycensus.json

install: pycensus
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(DOCDIR) $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR)
	install -m 0755 pycensus $(DESTDIR)$(BINDIR)/pycensus
	install -m 0644 man/pycensus.1 $(DESTDIR)$(MANDIR)/man1/pycensus.1
	install -m 0644 completions/pycensus.bash $(DESTDIR)$(BASHCOMPDIR)/pycensus
	install -m 0644 completions/_pycensus $(DESTDIR)$(ZSHCOMPDIR)/_pycensus
	install -m 0644 README.md docs/*.md $(DESTDIR)$(DOCDIR)/
	install -d $(DESTDIR)$(DOCDIR)/schema
	install -m 0644 docs/schema/pycensus.json $(DESTDIR)$(DOCDIR)/schema/

# Removes what install put there, and the directories that leaves empty: up to PREFIX, or with
# DESTDIR (a staging root) up to DESTDIR itself.
UNINSTALL_TOP = $(if $(DESTDIR),$(patsubst %/,%,$(DESTDIR)),$(PREFIX))
uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	@for d in $(addprefix $(DESTDIR),$(BINDIR) $(MANDIR)/man1 $(DOCDIR)/schema $(BASHCOMPDIR) $(ZSHCOMPDIR)); do \
		while [ "$$d" != "$(UNINSTALL_TOP)" ] && [ "$$d" != / ] && [ "$$d" != . ] && rmdir "$$d" 2>/dev/null; do d=$$(dirname "$$d"); done; \
	done

# A Debian package of the tracked files as they are (tools/make-deb: build/deb/pycensus_*.deb,
# lintian-checked); tools/check-deb installs it and profiles the system python3 with it.
deb:
	@tools/make-deb

# The man page, README and docs agree with --help; install and uninstall leave nothing behind;
# the bash completion completes.
check-docs: pycensus
	@tools/check-docs ./pycensus
	@tools/check-install

clean:
	rm -rf build build-asan build-fuzz pycensus pycensus-asan

-include $(LIB_OBJ:.o=.d) $(UNIT_OBJ:.o=.d) $(INTEG_OBJ:.o=.d) $(FUZZ_OBJ:.o=.d) $(BUILD)/cli/main.d
