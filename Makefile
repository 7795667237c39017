# monas — build, test and run.
#   make          build monasd and monas-worker into build/
#   make test     build and run every test suite
#   make asan     the same suites under AddressSanitizer + UBSan (build/asan/)
#   make valgrind monasd and a worker run a job under valgrind: no leaks, no errors
#   make run      start monasd, two workers and the default job (see README)
#   make bench    run the benchmarks in bench/ and update BENCHMARKS.md

BUILD   ?= build
.DEFAULT_GOAL := all
SAN     ?=
CC      ?= cc
OPT     ?= -O2
PKGS     = libcjson openblas lapacke libmicrohttpd sqlite3 libuv libcurl check

CFLAGS_BASE = -std=c11 -D_GNU_SOURCE -fopenmp -Wall -Wextra -Werror -g $(OPT) -MMD -MP \
              -Icommon -I$(BUILD)/gen
ifeq ($(SAN),1)
CFLAGS_BASE += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS_SAN  = -fsanitize=address,undefined
endif

# build/config.mk is remade (after installing missing packages) before anything else.
-include $(BUILD)/config.mk
$(BUILD)/config.mk: deploy/install-deps.sh
	@mkdir -p $(@D)
	@deploy/install-deps.sh
	@echo "PKG_CFLAGS = $$(pkg-config --cflags $(PKGS))" > $@.tmp
	@echo "PKG_LIBS = $$(pkg-config --libs $(PKGS)) -lm" >> $@.tmp
	@mv $@.tmp $@

CFLAGS  = $(CFLAGS_BASE) $(PKG_CFLAGS)
LDLIBS  = -fopenmp $(LDFLAGS_SAN) $(PKG_LIBS)

COMMON_SRC = $(wildcard common/*.c)
SERVER_SRC = $(wildcard server/*.c)
WORKER_SRC = $(wildcard worker/*.c)
TEST_SRC   = $(wildcard tests/*.c)
MCU_FILES  = $(sort $(wildcard common/mcu/*.json))
WEB_FILES  = $(sort $(filter-out %.json,$(wildcard server/web/*.* server/web/vendor/*.*)))
SCHEMA_FILES = $(sort $(wildcard schema/*.json))
MIGRATIONS = $(sort $(wildcard migrations/*.sql))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
COMMON_OBJ = $(call obj,$(COMMON_SRC)) $(BUILD)/obj/gen/mcu_files.o
SERVER_OBJ = $(call obj,$(SERVER_SRC)) $(BUILD)/obj/gen/server_files.o
WORKER_OBJ = $(call obj,$(WORKER_SRC))
TEST_OBJ   = $(call obj,$(TEST_SRC))

# Server and worker objects are linked into the test runner too, except their mains.
SERVER_LIB_OBJ = $(filter-out $(BUILD)/obj/server/main.o,$(SERVER_OBJ))
WORKER_LIB_OBJ = $(filter-out $(BUILD)/obj/worker/main.o,$(WORKER_OBJ))

.PHONY: all test asan valgrind run bench clean deps FORCE
FORCE:
all: $(BUILD)/monasd $(BUILD)/monas-worker

deps:
	@deploy/install-deps.sh

$(BUILD)/libmonas.a: $(COMMON_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/monasd: $(SERVER_OBJ) $(BUILD)/libmonas.a
	$(CC) -o $@ $^ $(LDLIBS)

$(BUILD)/monas-worker: $(WORKER_OBJ) $(BUILD)/libmonas.a
	$(CC) -o $@ $^ $(LDLIBS)

$(BUILD)/monas-tests: $(TEST_OBJ) $(SERVER_LIB_OBJ) $(WORKER_LIB_OBJ) $(BUILD)/libmonas.a
	$(CC) -o $@ $^ $(LDLIBS)

$(BUILD)/obj/%.o: %.c | $(BUILD)/gen/suites.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

# The engine's kernels (common/op_*.c) are memory-bound element-wise loops that GCC
# vectorises only from -O3 on (see BENCHMARKS.md); OPT=... on the command line wins.
$(BUILD)/obj/common/op_%.o: OPT = -O3

$(BUILD)/obj/gen/%.o: $(BUILD)/gen/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

# Data files embedded in the binaries (see tools/embed.c).
$(BUILD)/embed: tools/embed.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -O2 -Wall -Wextra -Werror -o $@ $<
$(BUILD)/gen/mcu_files.c: $(BUILD)/embed $(MCU_FILES)
	@mkdir -p $(@D)
	$(BUILD)/embed mn_mcu_files $(MCU_FILES) > $@
$(BUILD)/gen/server_files.c: $(BUILD)/embed $(WEB_FILES) $(SCHEMA_FILES) $(MIGRATIONS)
	@mkdir -p $(@D)
	$(BUILD)/embed mn_server_files $(WEB_FILES) $(SCHEMA_FILES) $(MIGRATIONS) > $@

# One Check suite per tests/check_<module>.c, each defining <module>_suite().
$(BUILD)/gen/suites.h: FORCE
	@mkdir -p $(@D)
	@for f in $(sort $(notdir $(wildcard tests/check_*.c))); do \
	    m=$${f#check_}; echo "SUITE($${m%.c})"; done > $@.tmp
	@cmp -s $@.tmp $@ || mv $@.tmp $@; rm -f $@.tmp

test: all $(BUILD)/monas-tests
	MONAS_BIN_DIR=$(BUILD) $(BUILD)/monas-tests
	MONAS_BIN_DIR=$(BUILD) tests/browser/run.sh

asan:
	$(MAKE) BUILD=build/asan SAN=1 OPT=-O1 all build/asan/monas-tests
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	    MONAS_BIN_DIR=build/asan MONAS_SANITIZED=1 build/asan/monas-tests

valgrind: all
	tests/valgrind/daemons.sh $(BUILD)

run: all
	deploy/run-local.sh $(BUILD)

bench: all
	$(MAKE) -C bench BUILD=$(abspath $(BUILD))

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
