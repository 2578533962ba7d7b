# pycensus: a census of a running CPython heap. `make` builds ./pycensus; `make check` installs
# what is missing, builds and runs the unit and integration tests; `make demo` profiles
# examples/cargo.py; `make asan` runs the tests under AddressSanitizer + UBSan.

CC      ?= cc
PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   ?= build
PKGS    := libelf libunwind-ptrace
TEST_PKGS := criterion

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-missing-field-initializers
CFLAGS  ?= -O2 -g
ALL_CFLAGS = -std=c11 $(WARN) $(CFLAGS) -I. $(shell pkg-config --cflags $(PKGS) 2>/dev/null) -MMD -MP
LDLIBS_PC = $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lelf -lunwind-ptrace -lunwind-generic -lunwind)
LDLIBS_TEST = $(shell pkg-config --libs $(TEST_PKGS) 2>/dev/null || echo -lcriterion)

MODULES := common attach symbols heap report cli
LIB_SRC := $(filter-out cli/main.c,$(foreach m,$(MODULES),$(wildcard $(m)/*.c)))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC := $(wildcard tests/unit/*.c)
UNIT_OBJ := $(UNIT_SRC:%.c=$(BUILD)/%.o)
INTEG_SRC := $(wildcard tests/integration/*.c)
INTEG_OBJ := $(INTEG_SRC:%.c=$(BUILD)/%.o)

.PHONY: all check unit integration asan demo deps install clean bench fixtures
all: pycensus

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/libpycensus.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

pycensus: $(BUILD)/cli/main.o $(BUILD)/libpycensus.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS_PC)

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

$(BUILD)/test_unit: $(UNIT_OBJ) $(BUILD)/libpycensus.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS_TEST) $(LDLIBS_PC)

$(BUILD)/test_integration: $(INTEG_OBJ) $(BUILD)/libpycensus.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS_TEST) $(LDLIBS_PC)

deps:
	@tools/install-deps

unit: deps
	@$(MAKE) --no-print-directory $(BUILD)/test_unit fixtures
	PYCENSUS_FIXTURES=$(FIXDIR) $(BUILD)/test_unit --jobs 2

integration: deps
	@$(MAKE) --no-print-directory pycensus $(BUILD)/test_integration
	PYCENSUS=$(CURDIR)/pycensus PYCENSUS_WORKLOADS=$(CURDIR)/tests/integration/workloads \
		$(BUILD)/test_integration --jobs 2

check: deps
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory integration

# The same suite with AddressSanitizer + UBSan, in its own build tree.
asan: deps
	@$(MAKE) --no-print-directory BUILD=build-asan \
		CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		LDFLAGS="-fsanitize=address,undefined" unit
	@$(MAKE) --no-print-directory BUILD=build-asan \
		CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		LDFLAGS="-fsanitize=address,undefined" pycensus-asan
	PYCENSUS=$(CURDIR)/pycensus-asan PYCENSUS_WORKLOADS=$(CURDIR)/tests/integration/workloads \
		ASAN_OPTIONS=detect_leaks=1 build-asan/test_integration --jobs 2

pycensus-asan: $(BUILD)/cli/main.o $(BUILD)/libpycensus.a $(BUILD)/test_integration
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(BUILD)/cli/main.o $(BUILD)/libpycensus.a $(LDLIBS_PC)

demo: deps
	@$(MAKE) --no-print-directory pycensus
	@tools/demo

bench: pycensus
	bench/run

install: pycensus
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 pycensus $(DESTDIR)$(PREFIX)/bin/pycensus

clean:
	rm -rf build build-asan pycensus pycensus-asan

-include $(LIB_OBJ:.o=.d) $(UNIT_OBJ:.o=.d) $(INTEG_OBJ:.o=.d) $(BUILD)/cli/main.d
