# adkit: anomaly detection toolkit. `make` builds libcommon and every tool
# into bin/; `make test` proves it works; `make demo` runs the main job.
# Targets: all deps test test-unit test-asan test-cli fuzz lint bench demo
#          install clean, and the experiment targets of pipelines/*.mk.

SHELL := /bin/bash
PREFIX ?= /usr/local
CC ?= cc
CLANG ?= clang
# Never -Ofast / -ffast-math: they break bit-for-bit reproducibility.
OPT ?= -O2
CFLAGS ?= $(OPT) -g
PKGS := openslide libxml-2.0 libpng libtiff-4 zlib
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -Wall -Wextra -fopenmp -Ilibcommon $(PKG_CFLAGS) $(CFLAGS)
LDLIBS := $(PKG_LIBS) -ljpeg -lmatio -lopenblas -lzip -ldeflate -lm -lpthread
LDFLAGS ?=
ALL_LDFLAGS = -fopenmp $(LDFLAGS)

LIB_SRC := $(sort $(wildcard libcommon/*.c))
LIB_OBJ := $(LIB_SRC:libcommon/%.c=build/obj/%.o)
LIB := build/libcommon.a
TOOLS := $(sort $(patsubst tools/%.c,%,$(wildcard tools/*.c)))
TOOL_BINS := $(TOOLS:%=bin/%)
# Generators of synthetic data used by tests, demos and benchmarks.
GEN_SRC := $(sort $(wildcard tests/gen/*.c))
GEN_BINS := $(GEN_SRC:tests/gen/%.c=build/gen/%)
# Benchmark programs, built by `make bench`.
BENCH_SRC := $(sort $(wildcard tests/bench/*.c))
BENCH_BINS := $(BENCH_SRC:tests/bench/%.c=build/bench/%)
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRC:tests/unit/%.c=build/unit/%)
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
ASAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
ASAN_OBJ := $(LIB_SRC:libcommon/%.c=build/asan/obj/%.o)
ASAN_UNIT_BINS := $(UNIT_SRC:tests/unit/%.c=build/asan/unit/%)

DEB_PACKAGES := build-essential pkg-config clang libclang-rt-14-dev libpng-dev libjpeg62-turbo-dev \
  libtiff-dev libopenslide-dev libxml2-dev zlib1g-dev libopenblas-dev libmatio-dev libcmocka-dev \
  python3 python3-numpy python3-sklearn python3-pil gnuplot-nox dataset-fashion-mnist \
  openslide-tools libtiff-tools libzip-dev libdeflate-dev
# Only for regenerating fixtures and for `make bench` comparisons.
DEB_PACKAGES_DEV := python3-torch python3-skimage python3-openslide

.PHONY: all deps deps-dev test test-unit test-asan test-cli test-pipeline fuzz fuzz-short lint bench demo \
  install clean
.DEFAULT_GOAL := all

all: $(LIB) $(TOOL_BINS) $(GEN_BINS)

deps:
	@bash pipelines/deps.sh $(DEB_PACKAGES)

deps-dev: deps
	@bash pipelines/deps.sh $(DEB_PACKAGES_DEV)

build/obj/%.o: libcommon/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

bin/%: tools/%.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -MF build/obj/tool-$*.d $< $(LIB) $(ALL_LDFLAGS) $(LDLIBS) -o $@

build/gen/%: tests/gen/%.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -MF build/obj/gen-$*.d $< $(LIB) $(ALL_LDFLAGS) $(LDLIBS) -o $@

build/bench/%: tests/bench/%.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -MF build/obj/bench-$*.d $< $(LIB) $(ALL_LDFLAGS) $(LDLIBS) -o $@

build/unit/%: tests/unit/%.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -MF build/obj/unit-$*.d $< $(LIB) $(ALL_LDFLAGS) $(LDLIBS) -lcmocka -o $@

build/asan/obj/%.o: libcommon/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ASAN_FLAGS) -MMD -MP -c $< -o $@

build/asan/libcommon.a: $(ASAN_OBJ)
	@rm -f $@
	ar rcs $@ $^

build/asan/unit/%: tests/unit/%.c build/asan/libcommon.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ASAN_FLAGS) $< build/asan/libcommon.a $(ALL_LDFLAGS) $(ASAN_FLAGS) $(LDLIBS) -lcmocka -o $@

# libFuzzer targets: the library compiled once by clang with coverage
# instrumentation (fuzzer-no-link), each target linked against it.
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -fopenmp -Ilibcommon $(PKG_CFLAGS) \
  -fsanitize=fuzzer-no-link,address,undefined -Wno-pass-failed
FUZZ_OBJ := $(LIB_SRC:libcommon/%.c=build/fuzz/obj/%.o)

build/fuzz/obj/%.o: libcommon/%.c
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

build/fuzz/libcommon.a: $(FUZZ_OBJ)
	@rm -f $@
	ar rcs $@ $^

build/fuzz/%: tests/fuzz/%.c build/fuzz/libcommon.a
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer $< build/fuzz/libcommon.a $(LDLIBS) -o $@

-include $(wildcard build/obj/*.d build/asan/obj/*.d build/fuzz/obj/*.d)

# ---- tests ----
# The summary line of tests/run-tests.sh is "N passed, N failed, N skipped".
test: deps
	@$(MAKE) --no-print-directory -j$$(nproc) all $(UNIT_BINS) $(ASAN_UNIT_BINS) $(FUZZ_BINS)
	@bash tests/run-tests.sh

test-unit: $(UNIT_BINS)
	@TESTS_ONLY=unit bash tests/run-tests.sh

test-asan: $(ASAN_UNIT_BINS)
	@TESTS_ONLY=asan bash tests/run-tests.sh

test-cli: all
	@TESTS_ONLY=cli bash tests/run-tests.sh

fuzz: $(FUZZ_BINS)
	@for f in $(FUZZ_BINS); do echo "== $$f (Ctrl-C to stop)"; \
	  mkdir -p tests/fuzz/corpus-$$(basename $$f); $$f -max_len=65536 tests/fuzz/corpus-$$(basename $$f) || exit 1; done

lint:
	@bash tests/lint.sh

bench: all $(BENCH_BINS)
	@bash tests/bench/run.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(TOOL_BINS) $(DESTDIR)$(PREFIX)/bin/

clean:
	rm -rf build bin

include $(sort $(wildcard pipelines/*.mk))
