# memtrack - one hand-written Makefile.
#
#   make            build ./memtrack (installs missing Debian packages as root)
#   make test       build and run every unit and end-to-end test
#   make demo       trace the seed samples and print their top-10
#   make bench      measure both engines beside heaptrack, valgrind, ltrace, a ptrace floor
#   make seed       the seed article's experiment, traced and drawn (docs/seed-*.svg)
#   make install    PREFIX=/usr/local DESTDIR=
#   V=1             show full compiler command lines

CC	?= cc
# rustup's rustc when there is one (current rustc links with its own lld),
# else Debian's.
RUSTC	?= $(firstword $(shell command -v rustc 2>/dev/null) $(wildcard $(HOME)/.cargo/bin/rustc) rustc)
PREFIX	?= /usr/local
BUILD	:= build

# Libraries found with pkg-config; the Debian packages that provide them.
PKGS		:= libdw libelf capstone libzstd zlib
DEB_BUILD	:= pkg-config libdw-dev libelf-dev libcapstone-dev libzstd-dev zlib1g-dev
# What the tests and benchmarks run beside memtrack.
DEB_TEST	:= libcmocka-dev valgrind python3 ltrace strace librsvg2-bin libc6-dbg \
		   libjemalloc2 libtcmalloc-minimal4 libmimalloc2.0 lld rustc rustfilt \
		   chromium golang-go libdebuginfod1
TEST_PKGS	:= cmocka

ifeq ($(V),1)
Q :=
else
Q := @
endif

CFLAGS	?= -O2 -g
WARN	:= -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	   -Wno-unused-parameter -Wformat=2 -Wundef -Wvla
CPPFLAGS += -D_GNU_SOURCE -I.
ALL_CFLAGS = $(CFLAGS) $(WARN) -std=gnu11 $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# capstone is not linked but loaded by the tracer (tracer/breakpoint.c), so
# that the reports do not carry it: by the soname of the library pkg-config
# names, passed to that file alone.
LIBS	= $(shell pkg-config --libs $(filter-out capstone,$(PKGS)) 2>/dev/null) -lstdc++ -lpthread
CAPSTONE_SONAME = $(shell objdump -p "$$(pkg-config --variable=libdir capstone 2>/dev/null)/lib$$(\
	pkg-config --libs-only-l capstone 2>/dev/null | sed 's/^ *-l\([^ ]*\).*/\1/').so" 2>/dev/null | \
	awk '$$1 == "SONAME" {print $$2}')
%/tracer/breakpoint.o: CPPFLAGS += -DCAPSTONE_SONAME='"$(or $(CAPSTONE_SONAME),$(error \
	cannot find the soname of the capstone library that pkg-config names \
	(Debian: libcapstone-dev)))"'

SRCS	:= memtrack.c $(wildcard tracer/*.c symbolizer/*.c formats/*.c analyzer/*.c)
LIB_SRCS := $(filter-out memtrack.c,$(SRCS))
# The recorder (tracer/recorder/) is not linked into memtrack: it is built
# freestanding, into one position-independent image, and carried inside.
RECORDER_ELF := $(BUILD)/tracer/recorder/recorder.elf
OBJS	:= $(SRCS:%.c=$(BUILD)/%.o) $(BUILD)/tracer/recorder/blob.o
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
DEPFILES := $(SRCS:%.c=$(BUILD)/%.d) $(BUILD)/tracer/recorder/recorder.d

.PHONY: all deps test-deps test unit-tests e2e-tests demo bench install clean samples check-real seed

all: memtrack

# Dependencies: present, installed here (root), or named in one line.
DEPS_STAMP := $(BUILD)/.deps
$(DEPS_STAMP):
	$(Q)mkdir -p $(BUILD)
	$(Q)if ! pkg-config --exists $(PKGS) 2>/dev/null; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "  APT     $(DEB_BUILD)"; \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEB_BUILD) >/dev/null || \
			{ apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEB_BUILD) >/dev/null; } || exit 1; \
		else \
			echo "memtrack needs: sudo apt-get install $(DEB_BUILD)" >&2; exit 1; \
		fi; \
	fi
	$(Q)touch $@

TEST_DEPS_STAMP := $(BUILD)/.test-deps
$(TEST_DEPS_STAMP): $(DEPS_STAMP)
	$(Q)missing=""; \
	pkg-config --exists $(TEST_PKGS) 2>/dev/null || missing="$$missing libcmocka-dev"; \
	command -v valgrind >/dev/null || missing="$$missing valgrind"; \
	command -v python3 >/dev/null || missing="$$missing python3"; \
	command -v ltrace >/dev/null || missing="$$missing ltrace"; \
	command -v strace >/dev/null || missing="$$missing strace"; \
	command -v rsvg-convert >/dev/null || missing="$$missing librsvg2-bin"; \
	command -v ld.lld >/dev/null || missing="$$missing lld"; \
	command -v $(RUSTC) >/dev/null || missing="$$missing rustc"; \
	command -v rustfilt >/dev/null || missing="$$missing rustfilt"; \
	dpkg -s libc6-dbg >/dev/null 2>&1 || missing="$$missing libc6-dbg"; \
	for lib in libjemalloc.so.2:libjemalloc2 libtcmalloc_minimal.so.4:libtcmalloc-minimal4 \
		   libmimalloc.so.2:libmimalloc2.0 libdebuginfod.so.1:libdebuginfod1; do \
		[ -e /usr/lib/x86_64-linux-gnu/$${lib%%:*} ] || missing="$$missing $${lib#*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "  APT    $$missing"; \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null || \
			{ apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; } || exit 1; \
		else \
			echo "memtrack's tests need: sudo apt-get install$$missing" >&2; exit 1; \
		fi; \
	fi
	$(Q)touch $@

memtrack: $(DEPS_STAMP) $(OBJS)
	@echo "  LINK    $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $(OBJS) $(LIBS)

# The object rule is evaluated after the deps stamp, so pkg-config answers.
$(BUILD)/%.o: %.c $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

-include $(DEPFILES)

# --- the recorder: freestanding, no libc, no relocations, no vector registers
RECORDER_CFLAGS := -O2 -g -std=gnu11 -fPIC -ffreestanding -fno-builtin -nostdlib \
	-fno-stack-protector -fcf-protection=none -mgeneral-regs-only -mfsgsbase \
	-fvisibility=hidden -fno-jump-tables -fasynchronous-unwind-tables $(WARN) -I.

$(BUILD)/tracer/recorder/%.o: tracer/recorder/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $< (recorder)"
	$(Q)$(CC) $(RECORDER_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/tracer/recorder/entry.o: tracer/recorder/entry.S
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	$(Q)$(CC) $(RECORDER_CFLAGS) -c -o $@ $<

# One loadable segment from address 0, and nothing for a loader to do: a
# relocation would mean an absolute address, which the image cannot have.
$(RECORDER_ELF): $(BUILD)/tracer/recorder/entry.o $(BUILD)/tracer/recorder/recorder.o \
		tracer/recorder/recorder.ld
	@echo "  LD      $@"
	$(Q)$(LD) -pie --no-dynamic-linker -z norelro -z noexecstack --no-warn-rwx-segments \
		--eh-frame-hdr -T tracer/recorder/recorder.ld -o $@ \
		$(BUILD)/tracer/recorder/entry.o $(BUILD)/tracer/recorder/recorder.o
	$(Q)if readelf -rW $@ | grep -q '^ *[0-9a-f]\{12\}'; then \
		echo "$@: the recorder must have no relocations" >&2; rm -f $@; exit 1; fi

$(BUILD)/tracer/recorder/blob.o: tracer/recorder/blob.S $(RECORDER_ELF)
	@echo "  AS      $<"
	$(Q)$(CC) -DRECORDER_ELF='"$(RECORDER_ELF)"' -c -o $@ $<

# --- samples: the programs the tests and the demo trace, at -O0 and -O2 ----
# samples/lib*.c are shared objects the others load; samples/*.cpp are C++.
SAMPLE_SRCS := $(filter-out samples/lib%.c,$(wildcard samples/*.c))
SAMPLE_NAMES := $(SAMPLE_SRCS:samples/%.c=%) $(patsubst samples/%.cpp,%,$(wildcard samples/*.cpp))
SAMPLE_LIBS := $(patsubst samples/%.c,%.so,$(wildcard samples/lib*.c))
SAMPLES_O0 := $(SAMPLE_NAMES:%=$(BUILD)/samples/O0/%) $(SAMPLE_LIBS:%=$(BUILD)/samples/O0/%)
SAMPLES_O2 := $(SAMPLE_NAMES:%=$(BUILD)/samples/O2/%) $(SAMPLE_LIBS:%=$(BUILD)/samples/O2/%)

# Built from the top directory with relative paths, so their DWARF names
# read samples/x.c, as a user's own build would.
$(BUILD)/samples/O0/%: samples/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $< (-O0)"
	$(Q)$(CC) -O0 -g -Wall -o $@ $< -lm -lpthread -ldl

$(BUILD)/samples/O2/%: samples/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $< (-O2)"
	$(Q)$(CC) -O2 -g -Wall -o $@ $< -lm -lpthread -ldl

$(BUILD)/samples/O0/lib%.so: samples/lib%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $< (shared, -O0)"
	$(Q)$(CC) -O0 -g -Wall -shared -fPIC -o $@ $< -ldl

$(BUILD)/samples/O2/lib%.so: samples/lib%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $< (shared, -O2)"
	$(Q)$(CC) -O2 -g -Wall -shared -fPIC -o $@ $< -ldl

$(BUILD)/samples/O0/%: samples/%.cpp
	@mkdir -p $(dir $@)
	@echo "  CXX     $< (-O0)"
	$(Q)$(CXX) -O0 -g -Wall -o $@ $<

$(BUILD)/samples/O2/%: samples/%.cpp
	@mkdir -p $(dir $@)
	@echo "  CXX     $< (-O2)"
	$(Q)$(CXX) -O2 -g -Wall -o $@ $<

# Static builds: allocators found through .symtab, and a stripped one that
# has none to find.  (libc.a comes with libc6-dev.)
STATIC_SAMPLES := $(BUILD)/samples/static/kinds $(BUILD)/samples/static/arrays \
		  $(BUILD)/samples/static/kinds-stripped

$(BUILD)/samples/static/%: samples/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $< (-O2 -static)"
	$(Q)$(CC) -O2 -g -static -Wall -o $@ $< -lm -lpthread

$(BUILD)/samples/static/%-stripped: $(BUILD)/samples/static/%
	@echo "  STRIP   $@"
	$(Q)strip -o $@ $<

# Linked by lld, which leaves a gap between file offsets and addresses that
# GNU ld does not: module offsets must still be ELF addresses.
LLD_SAMPLES := $(BUILD)/samples/lld/arrays $(BUILD)/samples/lld/kinds $(BUILD)/samples/lld/marks

$(BUILD)/samples/lld/%: samples/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $< (-O2 -fuse-ld=lld)"
	$(Q)$(CC) -O2 -g -fuse-ld=lld -Wall -o $@ $< -lm -lpthread

# Rust, built with -g as cargo's dev profile does and optimized, and with
# v0 symbol names (the default of Rust's own library already).
RUST_SAMPLES := $(BUILD)/samples/rust/rust_alloc $(BUILD)/samples/rust-O2/rust_alloc \
		$(BUILD)/samples/rust-v0/rust_alloc

$(BUILD)/samples/rust/%: samples/%.rs | $(TEST_DEPS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  RUSTC   $<"
	$(Q)$(RUSTC) -g -o $@ $<

$(BUILD)/samples/rust-O2/%: samples/%.rs | $(TEST_DEPS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  RUSTC   $< (-O2)"
	$(Q)$(RUSTC) -g -C opt-level=2 -o $@ $<

$(BUILD)/samples/rust-v0/%: samples/%.rs | $(TEST_DEPS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  RUSTC   $< (v0 names)"
	$(Q)$(RUSTC) -g -C symbol-mangling-version=v0 -o $@ $<

samples: $(SAMPLES_O0) $(SAMPLES_O2) $(STATIC_SAMPLES) $(LLD_SAMPLES) $(RUST_SAMPLES)

# The benchmark workload doubles as a test subject.
BENCH_BINS := $(BUILD)/bench/churn $(BUILD)/bench/floor

# --- tests -------------------------------------------------------------------
# A unit test named tests/unit/test_<component>_*.c links only the objects of
# the components it needs, so each component can be tested on its own.
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
objs_of = $(patsubst %.c,$(BUILD)/%.o,$(foreach d,$(1),$(wildcard $(d)/*.c)))
UNIT_LINK = mkdir -p $(dir $@); echo "  CC      $<"; \
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(shell pkg-config --cflags cmocka 2>/dev/null) -o $@ $^ \
		$(LIBS) $(shell pkg-config --libs cmocka 2>/dev/null)

$(BUILD)/tests/test_formats_%: tests/unit/test_formats_%.c $(call objs_of,formats) | $(TEST_DEPS_STAMP)
	$(Q)$(UNIT_LINK)
$(BUILD)/tests/test_symbolizer_%: tests/unit/test_symbolizer_%.c $(call objs_of,symbolizer formats) | $(TEST_DEPS_STAMP)
	$(Q)$(UNIT_LINK)
$(BUILD)/tests/test_analyzer_%: tests/unit/test_analyzer_%.c $(call objs_of,analyzer symbolizer formats) | $(TEST_DEPS_STAMP)
	$(Q)$(UNIT_LINK)
$(BUILD)/tests/test_tracer_%: tests/unit/test_tracer_%.c $(call objs_of,tracer symbolizer formats) | $(TEST_DEPS_STAMP)
	$(Q)$(UNIT_LINK)

unit-tests: $(UNIT_BINS)

test: memtrack samples $(UNIT_BINS) $(BENCH_BINS) $(TEST_DEPS_STAMP)
	$(Q)tests/run $(UNIT_BINS)

# The cross-check against valgrind on real programs, with its table shown
# (make test runs it too, counting only).
check-real: memtrack samples $(TEST_DEPS_STAMP)
	$(Q)python3 tests/e2e/test_valgrind.py

# --- issue 10: sanitizers, fuzzing, the programs the tests need -----------------
# `make test` also builds memtrack, its unit tests and a libFuzzer harness of
# the log reader with ASan and UBSan (clang, in build/asan), and
# tests/e2e/test_sanitizers.py runs them: any sanitizer report fails it.
# Objects there carry libFuzzer's coverage counters too, so the harness is
# guided through the reader and the analyzer, and one set of objects serves
# all three.
TEST_MORE_STAMP := $(BUILD)/.test-deps-more
$(TEST_MORE_STAMP): $(TEST_DEPS_STAMP)
	$(Q)missing=$$(for c in clang:clang git:git gcc:gcc cmake:cmake perl:perl tclsh:tcl \
			sqlite3:sqlite3; do command -v $${c%%:*} >/dev/null || echo $${c#*:}; done; \
		dpkg -s libclang-rt-14-dev >/dev/null 2>&1 || echo libclang-rt-14-dev); \
	[ -z "$$missing" ] || { [ "$$(id -u)" = 0 ] || \
		{ echo "memtrack's tests need: sudo apt-get install" $$missing >&2; exit 1; }; \
		echo "  APT    " $$missing; apt-get update -qq >/dev/null; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; }
	$(Q)touch $@

SAN		:= $(BUILD)/asan
SAN_CC		:= clang
SAN_FLAGS	:= -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
		   -fno-sanitize-recover=all
SAN_CFLAGS	= $(SAN_FLAGS) -fsanitize=fuzzer-no-link $(WARN) -std=gnu11 \
		  $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
SAN_OBJS	:= $(SRCS:%.c=$(SAN)/%.o)
san_objs_of	= $(patsubst %.c,$(SAN)/%.o,$(foreach d,$(1),$(wildcard $(d)/*.c)))
SAN_UNIT_BINS	:= $(UNIT_SRCS:tests/unit/%.c=$(SAN)/tests/%)
SAN_BINS	:= $(SAN)/memtrack $(SAN_UNIT_BINS) $(SAN)/fuzz_log $(SAN)/log_unpack
SAN_UNIT_LINK	= mkdir -p $(dir $@); echo "  CC      $< (asan)"; \
	$(SAN_CC) $(CPPFLAGS) $(SAN_CFLAGS) $(shell pkg-config --cflags cmocka 2>/dev/null) -o $@ $^ \
		$(LIBS) $(shell pkg-config --libs cmocka 2>/dev/null)

$(SAN)/%.o: %.c $(DEPS_STAMP) | $(TEST_MORE_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $< (asan)"
	$(Q)$(SAN_CC) $(CPPFLAGS) $(SAN_CFLAGS) -MMD -MP -c -o $@ $<

-include $(SAN_OBJS:.o=.d)

# The recorder runs in the traced program, freestanding: the plain build's.
$(SAN)/memtrack: $(SAN_OBJS) $(BUILD)/tracer/recorder/blob.o
	@echo "  LINK    $@"
	$(Q)$(SAN_CC) $(SAN_FLAGS) -fsanitize=fuzzer-no-link -o $@ $^ $(LIBS)

$(SAN)/tests/test_formats_%: tests/unit/test_formats_%.c $(call san_objs_of,formats) | $(TEST_DEPS_STAMP)
	$(Q)$(SAN_UNIT_LINK)
$(SAN)/tests/test_symbolizer_%: tests/unit/test_symbolizer_%.c $(call san_objs_of,symbolizer formats) | $(TEST_DEPS_STAMP)
	$(Q)$(SAN_UNIT_LINK)
$(SAN)/tests/test_analyzer_%: tests/unit/test_analyzer_%.c $(call san_objs_of,analyzer symbolizer formats) | $(TEST_DEPS_STAMP)
	$(Q)$(SAN_UNIT_LINK)
$(SAN)/tests/test_tracer_%: tests/unit/test_tracer_%.c $(call san_objs_of,tracer formats) | $(TEST_DEPS_STAMP)
	$(Q)$(SAN_UNIT_LINK)

# The fuzz target: libFuzzer's main, the reader and every report.
$(SAN)/fuzz_log: tests/fuzz/fuzz_log.c $(call san_objs_of,analyzer symbolizer formats)
	@echo "  CC      $< (libFuzzer)"
	$(Q)$(SAN_CC) $(CPPFLAGS) $(SAN_FLAGS) -fsanitize=fuzzer $(WARN) -std=gnu11 -o $@ $^ $(LIBS)

# Rewrites a log with every chunk stored raw, so the fuzzer's seeds are bytes
# it can mutate meaningfully (a mutated zstd frame only fails to decompress).
$(SAN)/log_unpack: tests/fuzz/log_unpack.c $(SAN)/formats/crc32c.o
	@echo "  CC      $< (asan)"
	$(Q)$(SAN_CC) $(CPPFLAGS) $(SAN_FLAGS) $(WARN) -std=gnu11 -o $@ $^ -lzstd

sanitize: $(SAN_BINS)

test: $(TEST_MORE_STAMP) $(SAN_BINS)
.PHONY: sanitize
# --- end of issue 10's block --------------------------------------------------

# --- the reports' real readers: the HTML page in a browser, pprof's profile ---
# in Go's pprof (tests/e2e/test_report.py, test_pprof.py).
TEST_READERS_STAMP := $(BUILD)/.test-deps-readers
$(TEST_READERS_STAMP): $(TEST_DEPS_STAMP)
	$(Q)missing=$$(for c in chromium:chromium go:golang-go; do \
			command -v $${c%%:*} >/dev/null || echo $${c#*:}; done); \
	[ -z "$$missing" ] || { [ "$$(id -u)" = 0 ] || \
		{ echo "memtrack's tests need: sudo apt-get install" $$missing >&2; exit 1; }; \
		echo "  APT    " $$missing; apt-get update -qq >/dev/null; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; }
	$(Q)touch $@

test: $(TEST_READERS_STAMP)

# formats/html.c carries the report's style and script (.incbin).
$(BUILD)/formats/html.o $(SAN)/formats/html.o: $(wildcard formats/report/*)

# --- demo, bench ----------------------------------------------------------------
demo: memtrack samples
	$(Q)samples/demo.sh $(BUILD)

$(BUILD)/bench/%: bench/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) -O2 -g -Wall -o $@ $< -lpthread

# The writer's cost per event: formats/ alone, replaying a log.
$(BUILD)/bench/writer: bench/writer.c $(call objs_of,formats)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/bench/threads: bench/threads.cpp
	@mkdir -p $(dir $@)
	@echo "  CXX     $<"
	$(Q)$(CXX) -O2 -g -Wall -o $@ $< -lpthread

# What the benchmarks run memtrack beside (the tests' tools too).
DEB_BENCH := heaptrack valgrind ltrace git
BENCH_DEPS_STAMP := $(BUILD)/.bench-deps
$(BENCH_DEPS_STAMP): $(TEST_DEPS_STAMP)
	$(Q)missing=""; for t in $(DEB_BENCH); do \
		command -v $$t >/dev/null || missing="$$missing $$t"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "  APT    $$missing"; \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null || exit 1; \
		else \
			echo "the benchmarks need: sudo apt-get install$$missing" >&2; exit 1; \
		fi; \
	fi
	$(Q)touch $@

bench: memtrack $(BENCH_BINS) $(BUILD)/bench/threads $(BUILD)/bench/writer $(BENCH_DEPS_STAMP)
	$(Q)bench/run $(BUILD)

# The seed experiment: every array length traced, the article's two charts
# drawn with memtrack's own chart code into docs/.
$(BUILD)/seed-chart: samples/seed/chart.c $(BUILD)/formats/svg.o
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -o $@ $^

seed: memtrack $(BUILD)/seed-chart $(BUILD)/samples/O2/write_arrays \
		$(BUILD)/samples/O2/load_text $(BUILD)/samples/O2/map_file
	$(Q)samples/seed/seed.py $(BUILD) docs

install: memtrack
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 memtrack $(DESTDIR)$(PREFIX)/bin/memtrack

clean:
	rm -rf $(BUILD) memtrack
