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
PKGS     := libcurl libcjson libsodium yaml-0.1 libcrypto
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
        check-valgrind check-asan format check-range42

all: $(SO) $(RUNNER)

help:
	@echo "make            build $(SO) and $(RUNNER)"
	@echo "make demo       install missing Debian packages, build, run the demo"
	@echo "make test       every test (unit + integration); ends 'N passed, N failed'"
	@echo "make bench      benchmarks (writes bench/results.md)"
	@echo "make install    install to \$$(DESTDIR)$(LIBDIR) (PREFIX=$(PREFIX))"
	@echo "make check-asan / check-valgrind   unit + integration tests, runner under ASan+UBSan / valgrind"
	@echo "make check-range42   range42's own scripts, slow vs fast path (needs its repositories)"

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(CFLAGS) $(WARN) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

$(RUNNER): $(RUNNER_OBJ) $(BUILD)/obj/fastpath/main.o
	$(CC) $(CFLAGS) $^ -o $@ $(PKG_LIBS) -lm

$(SO): $(SHIM_SRC) shim/match.h Makefile
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(CFLAGS) $(WARN) $(SHIM_FLAGS) \
	  -DR42_RUNNER_PATH='"$(abspath $(RUNNER))"' $(SHIM_SRC) -o $@

# Installed copy: the same shim with the installed runner path built in.
$(BUILD)/install/libr42intercept.so: $(SHIM_SRC) shim/match.h Makefile
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

unit: $(UNIT_BIN) $(PROGS)

test: all unit
	@bash test/run-all.sh

# range42's own client scripts (devkit _tests, range42-playbooks), unchanged, slow path
# vs fast path on the simulator; needs the repositories (test/README.md). Not in `test`.
check-range42: all
	@bash test/e2e/check-range42.sh

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

format:
	clang-format -i shim/*.[ch] fastpath/*.[ch] test/unit/*.[ch]

clean:
	rm -rf build build-asan

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
