# r42intercept: libr42intercept.so (the preloaded shim) and
# r42intercept-runner (the fast path it execs).  `make help` lists targets.

PREFIX   ?= /usr
LIBDIR   ?= $(PREFIX)/lib/r42intercept
BINDIR   ?= $(PREFIX)/bin
DOCDIR   ?= $(PREFIX)/share/doc/r42intercept
DESTDIR  ?=
BUILD    ?= build

CC       ?= cc
CFLAGS   ?= -O2 -g
WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wformat=2
STD      := -std=gnu11
PKGS     := libcurl libcjson libsodium yaml-0.1 libssl libcrypto
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS))

RUNNER_SRC := $(filter-out fastpath/main.c,$(wildcard fastpath/*.c)) shim/match.c
RUNNER_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(RUNNER_SRC))
SHIM_SRC   := shim/hook.c shim/match.c
UNIT_SRC   := $(wildcard test/unit/test-*.c)
UNIT_BIN   := $(patsubst test/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRC))

SO         := $(BUILD)/libr42intercept.so
RUNNER     := $(BUILD)/r42intercept-runner

# The shim: libc only, hidden symbols but the hooks, lazy binding (nothing
# resolved at load that no hook needs), no start files: no constructor,
# nothing run at load.
SHIM_FLAGS := -fPIC -shared -fvisibility=hidden -nostartfiles -Wl,-z,lazy \
              -Wl,--as-needed -Wl,-soname,libr42intercept.so

.PHONY: all test unit demo bench install uninstall clean deps help \
        check-valgrind check-asan check-range42 format fuzz fuzz-build soak

all: $(SO) $(RUNNER)

help:
	@echo "make            build $(SO) and $(RUNNER)"
	@echo "make demo       install missing Debian packages, build, run the demo"
	@echo "make test       every test (unit + integration); ends 'N passed, N failed'"
	@echo "make bench      benchmarks (writes bench/results.md)"
	@echo "make install    install to \$$(DESTDIR)$(LIBDIR) (PREFIX=$(PREFIX))"
	@echo "make check-asan / check-valgrind   unit + integration tests, runner under ASan+UBSan / valgrind"
	@echo "make fuzz       build the libFuzzer targets (clang, ASan+UBSan) and run each"
	@echo "                for FUZZ_SECONDS (default $(FUZZ_SECONDS)); make test runs each for"
	@echo "                FUZZ_TEST_SECONDS (default $(FUZZ_TEST_SECONDS)); crashes: build-fuzz/crashes/"
	@echo "make soak       1000 playbook calls, 1000 script calls and a 20 000-line batch"
	@echo "                against the simulator; fds and RSS must stay flat (a few minutes)"
	@echo "make check-range42   checks against the real devkit (R42_REF_DEVKIT=/work/ref/devkit)"

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(CFLAGS) $(WARN) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

$(RUNNER): $(RUNNER_OBJ) $(BUILD)/obj/fastpath/main.o
	$(CC) $(CFLAGS) $^ -o $@ $(PKG_LIBS) -lm

$(SO): $(SHIM_SRC) shim/match.h shim/scripts.def Makefile
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(CFLAGS) $(WARN) $(SHIM_FLAGS) \
	  -DR42_RUNNER_PATH='"$(abspath $(RUNNER))"' $(SHIM_SRC) -o $@

# Installed copy: the same shim with the installed runner path built in.
$(BUILD)/install/libr42intercept.so: $(SHIM_SRC) shim/match.h shim/scripts.def Makefile
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(CFLAGS) $(WARN) $(SHIM_FLAGS) \
	  -DR42_RUNNER_PATH='"$(LIBDIR)/r42intercept-runner"' $(SHIM_SRC) -o $@

$(BUILD)/unit/test-%: test/unit/test-%.c $(RUNNER_OBJ) test/unit/tap.h
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(CFLAGS) $(WARN) $(PKG_CFLAGS) -Ifastpath -Ishim \
	  $< $(RUNNER_OBJ) -o $@ $(PKG_LIBS) -lm

$(BUILD)/progs/%: test/progs/%.c
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(CFLAGS) $(WARN) $< -o $@

PROGS := $(patsubst test/progs/%.c,$(BUILD)/progs/%,$(wildcard test/progs/*.c))

# Devkit script identity (dknorm.c, dkid.c): dkid-digest prints the digest
# of a script's normal form; the test fixtures' digests are made at build
# time into dkid_fixtures.inc, accepted only when the environment says
# R42INTERCEPT_TEST_FIXTURE_DEVKIT=1 (test/lib/env.sh does).
DKID_TOOL_OBJ := $(patsubst %,$(BUILD)/obj/fastpath/%.o,dknorm buf util msg)
$(BUILD)/progs/dkid-digest: test/progs/dkid-digest.c $(DKID_TOOL_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(CFLAGS) $(WARN) $(PKG_CFLAGS) -Ifastpath $< \
	  $(DKID_TOOL_OBJ) -o $@ $(PKG_LIBS)

$(BUILD)/gen/dkid_fixtures.inc: $(BUILD)/progs/dkid-digest \
  test/fixtures/devkit-digests.sh $(wildcard test/fixtures/devkit/*)
	@mkdir -p $(dir $@)
	R42_DIGEST_TOOL=$(BUILD)/progs/dkid-digest \
	  bash test/fixtures/devkit-digests.sh --dir test/fixtures/devkit >$@.tmp
	mv $@.tmp $@

$(BUILD)/obj/fastpath/dkid.o: fastpath/dkid.c $(BUILD)/gen/dkid_fixtures.inc
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(CFLAGS) $(WARN) $(PKG_CFLAGS) -I$(BUILD)/gen -MMD -MP \
	  -c $< -o $@

unit: $(UNIT_BIN) $(PROGS)

test: all unit fuzz-build
	@R42_FUZZ_SECONDS=$(FUZZ_TEST_SECONDS) bash test/run-all.sh

demo: deps all
	@bash contrib/demo.sh

$(BUILD)/bench/execbench: bench/execbench.c
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(CFLAGS) $(WARN) $< -o $@

# An empty library built the plain way: the floor of any LD_PRELOAD tool.
$(BUILD)/bench/empty.so: bench/empty.c
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(CFLAGS) $(WARN) -fPIC -shared $< -o $@

bench: deps all unit $(BUILD)/bench/execbench $(BUILD)/bench/empty.so
	@bash bench/bench.sh

deps:
	@bash contrib/deps.sh

install: $(BUILD)/install/libr42intercept.so $(RUNNER)
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(DOCDIR)
	install -m 0755 $(BUILD)/install/libr42intercept.so $(DESTDIR)$(LIBDIR)/
	install -m 0755 $(RUNNER) $(DESTDIR)$(LIBDIR)/
	install -m 0644 README.md contrib/range42-context.sh contrib/ci-example.yml $(DESTDIR)$(DOCDIR)/
	sed 's|@LIBDIR@|$(LIBDIR)|' contrib/r42intercept.in > $(DESTDIR)$(BINDIR)/r42intercept
	chmod 0755 $(DESTDIR)$(BINDIR)/r42intercept

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libr42intercept.so \
	  $(DESTDIR)$(LIBDIR)/r42intercept-runner $(DESTDIR)$(BINDIR)/r42intercept
	rm -rf $(DESTDIR)$(DOCDIR)
	-rmdir $(DESTDIR)$(LIBDIR)

# The unit tests, then every integration test with the runner built with
# AddressSanitizer+UBSan (the shim itself is loaded into every process and
# cannot be).  A sanitizer report fails the test that triggered it.
ASAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer
check-asan:
	$(MAKE) BUILD=build-asan CFLAGS="$(ASAN_FLAGS)" unit build-asan/r42intercept-runner
	@bash test/run-unit.sh build-asan
	$(MAKE) all
	R42INTERCEPT_RUNNER=$(CURDIR)/build-asan/r42intercept-runner \
	  ASAN_OPTIONS=verify_asan_link_order=0 \
	  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 bats test/bats

# The unit tests under valgrind, then the integration tests of the two
# fast paths with the runner under valgrind (test/valgrind-runner.sh).
check-valgrind: all unit
	@R42_TEST_PREFIX="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite" \
	  bash test/run-unit.sh $(BUILD)
	R42INTERCEPT_RUNNER=$(CURDIR)/test/valgrind-runner.sh \
	  bats test/bats/20-actions.bats test/bats/50-scripts.bats

# libFuzzer targets (test/fuzz/fuzz-*.c), one per parser, built with clang,
# ASan and UBSan into build-fuzz/ against the runner's modules.  Fuzz builds
# lower the vault's PBKDF2 rounds (R42_FUZZ_VAULT_ITERATIONS, honoured only
# with FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION; see test/fuzz/fuzz-vault.c).
FUZZ_CC           ?= clang
FUZZ_BUILD        := build-fuzz
FUZZ_SECONDS      ?= 60
FUZZ_TEST_SECONDS ?= 10
FUZZ_CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
               -fno-sanitize-recover=all \
               -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION \
               -DR42_FUZZ_VAULT_ITERATIONS=2
# clang's -Wformat=2 also flags the vprintf-style helpers of msg.c.
FUZZ_WARN := $(WARN) -Wno-format-nonliteral
FUZZ_OBJ := $(patsubst %.c,$(FUZZ_BUILD)/obj/%.o,$(RUNNER_SRC))
FUZZ_BIN := $(patsubst test/fuzz/%.c,$(FUZZ_BUILD)/%,\
              $(wildcard test/fuzz/fuzz-*.c))

$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(STD) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(FUZZ_WARN) \
	  $(PKG_CFLAGS) -MMD -MP -c $< -o $@

$(FUZZ_BUILD)/obj/fastpath/dkid.o: fastpath/dkid.c $(BUILD)/gen/dkid_fixtures.inc
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(STD) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(FUZZ_WARN) \
	  $(PKG_CFLAGS) -I$(BUILD)/gen -MMD -MP -c $< -o $@

$(FUZZ_BUILD)/libr42fuzz.a: $(FUZZ_OBJ)
	rm -f $@
	ar rcs $@ $^

$(FUZZ_BUILD)/fuzz-%: test/fuzz/fuzz-%.c test/fuzz/fuzz.h \
                      $(FUZZ_BUILD)/libr42fuzz.a
	$(FUZZ_CC) $(STD) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(FUZZ_WARN) $(PKG_CFLAGS) \
	  -Ifastpath -Ishim $< $(FUZZ_BUILD)/libr42fuzz.a -o $@ $(PKG_LIBS) -lm

fuzz-build: $(FUZZ_BIN)

fuzz: fuzz-build
	@bash test/fuzz/run.sh --report $(FUZZ_SECONDS)

# The 1000-call soak against the simulator (test/soak.sh): not in make test.
soak: all
	@bash test/soak.sh
# Against a checkout of the real range42 devkit (not in CI, which has
# none): the table of its known versions, and its scripts recognised.
check-range42: all unit
	bats test/range42

format:
	clang-format -i shim/*.[ch] fastpath/*.[ch] test/unit/*.[ch] \
	  test/fuzz/*.[ch]

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(BUILD)/obj $(FUZZ_BUILD)/obj -name '*.d' 2>/dev/null)
