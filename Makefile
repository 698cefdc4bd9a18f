# SPDX-License-Identifier: GPL-3.0-or-later
# r42intercept: libr42intercept.so (the preloaded shim), r42intercept-runner
# (the libc-only front it execs) with r42intercept-core.so (the fast path the
# front loads), and the r42intercept wrapper.  `make help` lists targets.

PREFIX   ?= /usr
LIBDIR   ?= $(PREFIX)/lib/r42intercept
BINDIR   ?= $(PREFIX)/bin
DOCDIR   ?= $(PREFIX)/share/doc/r42intercept
MANDIR   ?= $(PREFIX)/share/man
DESTDIR  ?=
BUILD    ?= build
VERSION  := $(shell cat VERSION)

CC       ?= cc
CFLAGS   ?= -O2 -g
CPPFLAGS ?=
LDFLAGS  ?=
# A packager may drop -Werror (make WERROR=); CI keeps it.
WERROR   ?= -Werror
WARN     := -Wall -Wextra $(WERROR) -Wshadow -Wstrict-prototypes -Wformat=2
STD      := -std=gnu11
# libcrypto first: the core's dependencies are searched in this order for
# every symbol the BIND_NOW libraries below bind at load, and libcrypto's
# own are the most (7% fewer instructions to load the core).
PKGS     := libcrypto libssl libsodium libcurl libcjson yaml-0.1
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS))

RUNNER_SRC := $(filter-out fastpath/main.c fastpath/front.c fastpath/rescall.c,\
              $(wildcard fastpath/*.c)) \
              shim/match.c shim/pass.c
RUNNER_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(RUNNER_SRC))
FRONT_OBJ  := $(patsubst %.c,$(BUILD)/obj/%.o,fastpath/front.c fastpath/msg.c \
              fastpath/handback.c shim/match.c shim/pass.c fastpath/config.c \
              fastpath/evlog.c fastpath/rescall.c fastpath/resproto.c \
              fastpath/rundir.c)
SHIM_SRC   := shim/hook.c shim/self.c shim/reroute.c shim/match.c shim/pass.c
SHIM_HDR   := shim/match.h shim/scripts.def shim/pass.h shim/reroute.h shim/self.h
UNIT_SRC   := $(wildcard test/unit/test-*.c)
UNIT_BIN   := $(patsubst test/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRC))

SO         := $(BUILD)/libr42intercept.so
RUNNER     := $(BUILD)/r42intercept-runner
CORE       := $(BUILD)/r42intercept-core.so
WRAPPER    := $(BUILD)/r42intercept
SNIPPET    := $(BUILD)/range42-context.sh
MANPAGE    := $(BUILD)/r42intercept.1
INST       := $(BUILD)/install

# The shim: libc only, hidden symbols but the hooks, lazy binding (nothing
# resolved at load that no hook needs), no start files; its one constructor
# (shim/self.c) calls into libc only for a program that is ours.
SHIM_FLAGS := -fPIC -shared -fvisibility=hidden -nostartfiles -Wl,-z,lazy \
              -Wl,--as-needed -Wl,-soname,libr42intercept.so

.PHONY: all test unit demo bench install uninstall clean deps help \
        check-valgrind check-asan check-range42 format fuzz fuzz-build soak FORCE \
        deb

all: $(SO) $(RUNNER) $(CORE) $(WRAPPER) $(SNIPPET) $(MANPAGE)

help:
	@echo "make            build $(SO), $(RUNNER), $(CORE), $(WRAPPER)"
	@echo "make demo       install missing Debian packages, build, run the demo"
	@echo "make test       every test (unit + integration); ends 'N passed, N failed'"
	@echo "make bench      benchmarks (writes bench/results.md)"
	@echo "make install    install to \$$(DESTDIR)$(LIBDIR) and $(BINDIR) (PREFIX=$(PREFIX))"
	@echo "make uninstall  remove what make install put in place"
	@echo "make deb        the Debian package, into $(BUILD)/deb/ (dpkg-buildpackage)"
	@echo "make check-asan / check-valgrind   unit + integration tests, runner under ASan+UBSan / valgrind"
	@echo "make check-range42   range42's own code beside the project: test/range42 (real devkit"
	@echo "                vs fixtures, R42_REF_DEVKIT) and test/e2e (its client scripts, slow vs fast)"

# The runner's objects are position-independent (they make the core, a
# shared object) with hidden symbols (the core exports one entry point).
$(BUILD)/obj/%.o: %.c Makefile
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(CPPFLAGS) $(CFLAGS) $(WARN) $(PKG_CFLAGS) -fPIC \
	  -fvisibility=hidden -DR42_VERSION='"$(VERSION)"' -I$(BUILD)/gen -MMD -MP -c $< -o $@

$(BUILD)/obj/fastpath/front.o: VERSION

# The front: libc only, so that it starts whatever is missing; it dlopen()s
# the core beside it.
$(RUNNER): $(FRONT_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) $^ -o $@

$(CORE): $(RUNNER_OBJ) $(BUILD)/obj/fastpath/main.o
	$(CC) $(CFLAGS) $(LDFLAGS) -shared -Wl,-z,defs -Wl,-soname,r42intercept-core.so \
	  $^ -o $@ $(PKG_LIBS) -lm

$(SO): $(SHIM_SRC) $(SHIM_HDR) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(CPPFLAGS) $(CFLAGS) $(WARN) $(LDFLAGS) $(SHIM_FLAGS) \
	  -DR42_RUNNER_PATH='"$(abspath $(RUNNER))"' $(SHIM_SRC) -o $@

WRAPPER_SRC := shim/wrapper.c shim/reroute.c shim/match.c shim/pass.c

$(WRAPPER): $(WRAPPER_SRC) $(SHIM_HDR) VERSION Makefile
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(CPPFLAGS) $(CFLAGS) $(WARN) $(LDFLAGS) \
	  -DR42_VERSION='"$(VERSION)"' -DR42_LIB_PATH='"$(abspath $(SO))"' \
	  -DR42_RUNNER_PATH='"$(abspath $(RUNNER))"' $(WRAPPER_SRC) -o $@

# The man page, with the version (VERSION) written in.
$(MANPAGE): docs/r42intercept.1 VERSION
	@mkdir -p $(dir $@)
	sed -e 's|@VERSION@|$(VERSION)|g' $< >$@

$(SNIPPET): contrib/range42-context.sh.in
	@mkdir -p $(dir $@)
	sed -e 's|@LIBDIR@|$(abspath $(BUILD))|g' -e 's|@DOCDIR@|$(abspath $(BUILD))|g' $< >$@

# The installed copies have LIBDIR built in.  $(INST)/prefix records the
# LIBDIR they were built for and is rewritten only when it changes, so that
# `make install PREFIX=...` after another prefix rebuilds them.
$(INST)/prefix: FORCE
	@mkdir -p $(dir $@)
	@echo '$(LIBDIR)' | cmp -s - $@ || echo '$(LIBDIR)' >$@

$(INST)/libr42intercept.so: $(SHIM_SRC) $(SHIM_HDR) Makefile $(INST)/prefix
	$(CC) $(STD) $(CPPFLAGS) $(CFLAGS) $(WARN) $(LDFLAGS) $(SHIM_FLAGS) \
	  -DR42_RUNNER_PATH='"$(LIBDIR)/r42intercept-runner"' $(SHIM_SRC) -o $@

$(INST)/r42intercept: $(WRAPPER_SRC) $(SHIM_HDR) VERSION Makefile $(INST)/prefix
	$(CC) $(STD) $(CPPFLAGS) $(CFLAGS) $(WARN) $(LDFLAGS) \
	  -DR42_VERSION='"$(VERSION)"' -DR42_LIB_PATH='"$(LIBDIR)/libr42intercept.so"' \
	  -DR42_RUNNER_PATH='"$(LIBDIR)/r42intercept-runner"' $(WRAPPER_SRC) -o $@

$(INST)/range42-context.sh: contrib/range42-context.sh.in $(INST)/prefix
	sed -e 's|@LIBDIR@|$(LIBDIR)|g' -e 's|@DOCDIR@|$(DOCDIR)|g' $< >$@

FORCE:

$(BUILD)/unit/test-%: test/unit/test-%.c $(RUNNER_OBJ) test/unit/tap.h
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(CPPFLAGS) $(CFLAGS) $(WARN) $(PKG_CFLAGS) -Ifastpath -Ishim \
	  $(LDFLAGS) $< $(RUNNER_OBJ) -o $@ $(PKG_LIBS) -lm

$(BUILD)/progs/%: test/progs/%.c
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(CPPFLAGS) $(CFLAGS) $(WARN) $(LDFLAGS) $< -o $@

PROGS := $(patsubst test/progs/%.c,$(BUILD)/progs/%,$(wildcard test/progs/*.c))

# Devkit script identity (dknorm.c, dkid.c): dkid-digest prints the digest
# of a script's normal form; the test fixtures' digests are made at build
# time into dkid_fixtures.inc, accepted only when the environment says
# R42INTERCEPT_TEST_FIXTURE_DEVKIT=1 (test/lib/env.sh does).
DKID_TOOL_OBJ := $(patsubst %,$(BUILD)/obj/fastpath/%.o,dknorm buf util msg config)
$(BUILD)/progs/dkid-digest: test/progs/dkid-digest.c $(DKID_TOOL_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(CPPFLAGS) $(CFLAGS) $(WARN) $(PKG_CFLAGS) $(LDFLAGS) \
	  -Ifastpath $< $(DKID_TOOL_OBJ) -o $@ $(PKG_LIBS)

$(BUILD)/gen/dkid_fixtures.inc: $(BUILD)/progs/dkid-digest \
  test/fixtures/devkit-digests.sh $(wildcard test/fixtures/devkit/*)
	@mkdir -p $(dir $@)
	R42_DIGEST_TOOL=$(BUILD)/progs/dkid-digest \
	  bash test/fixtures/devkit-digests.sh --dir test/fixtures/devkit >$@.tmp
	mv $@.tmp $@

$(BUILD)/obj/fastpath/dkid.o: $(BUILD)/gen/dkid_fixtures.inc

unit: $(UNIT_BIN) $(PROGS)

test: all unit fuzz-build
	@R42_FUZZ_SECONDS=$(FUZZ_TEST_SECONDS) bash test/run-all.sh

# range42's own client scripts (devkit _tests, range42-playbooks), unchanged, slow path
# vs fast path on the simulator; needs the repositories (test/README.md). Not in `test`.
demo: deps all
	@bash contrib/demo.sh

$(BUILD)/bench/execbench: bench/execbench.c
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(CPPFLAGS) $(CFLAGS) $(WARN) $(LDFLAGS) $< -o $@

# An empty library built the plain way: the floor of any LD_PRELOAD tool.
$(BUILD)/bench/empty.so: bench/empty.c
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(CFLAGS) $(WARN) -fPIC -shared $< -o $@

bench: deps all unit $(BUILD)/bench/execbench $(BUILD)/bench/empty.so
	@bash bench/bench.sh

deps:
	@bash contrib/deps.sh

DOCS := README.md contrib/ci-example.yml docs/decision.md docs/actions.md \
        docs/devkit-scripts.md docs/tasks.md

install: $(INST)/libr42intercept.so $(INST)/r42intercept \
         $(INST)/range42-context.sh $(RUNNER) $(CORE) $(MANPAGE)
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(DOCDIR) \
	  $(DESTDIR)$(MANDIR)/man1
	install -m 0755 $(INST)/libr42intercept.so $(RUNNER) $(DESTDIR)$(LIBDIR)/
	install -m 0644 $(CORE) $(DESTDIR)$(LIBDIR)/
	install -m 0755 $(INST)/r42intercept $(DESTDIR)$(BINDIR)/
	install -m 0644 $(DOCS) $(INST)/range42-context.sh $(DESTDIR)$(DOCDIR)/
	install -m 0644 $(MANPAGE) $(DESTDIR)$(MANDIR)/man1/

# The Debian package (debian/), built by dpkg-buildpackage from a copy of
# the tree in $(BUILD)/deb/src (its clean step would wipe build/); the .deb
# files end in $(BUILD)/deb/.  debian/changelog's version must be VERSION.
DEB_DIR := $(BUILD)/deb
deb:
	@v="$$(dpkg-parsechangelog -l debian/changelog -S Version)"; \
	  [ "$$v" = "$(VERSION)" ] || { \
	  echo "debian/changelog has version $$v, VERSION has $(VERSION)" >&2; exit 1; }
	rm -rf $(DEB_DIR)
	mkdir -p $(DEB_DIR)/src
	tar -c --exclude-vcs --exclude='./build*' --exclude='./$(BUILD)' . | \
	  tar -x -C $(DEB_DIR)/src
	cd $(DEB_DIR)/src && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u BUILD \
	  dpkg-buildpackage -b -us -uc
	@ls $(DEB_DIR)/*.deb

# Removes every file install put, then each directory it made that is now
# empty, up to $(PREFIX).
uninstall:
	rm -f $(addprefix $(DESTDIR)$(LIBDIR)/,libr42intercept.so \
	  r42intercept-runner r42intercept-core.so) $(DESTDIR)$(BINDIR)/r42intercept \
	  $(addprefix $(DESTDIR)$(DOCDIR)/,$(notdir $(DOCS)) range42-context.sh) \
	  $(DESTDIR)$(MANDIR)/man1/r42intercept.1
	@for d in $(LIBDIR) $(DOCDIR) $(BINDIR) $(MANDIR)/man1; do \
	  while rmdir "$(DESTDIR)$$d" 2>/dev/null; do \
	    d="$${d%/*}"; case "$$d/" in "$(PREFIX)"/*) ;; *) break ;; esac; \
	  done; \
	done

# The unit tests, then every integration test with the runner (its front
# and the core it loads) built with AddressSanitizer+UBSan (the shim itself
# is loaded into every process and cannot be).  disable_coredump=0: ASan
# would set the core size limit to 0 before main, which the runner then
# passes on to the real program; the runner sets it to 0 itself.  A sanitizer report fails the test that triggered it.
ASAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer
check-asan:
	$(MAKE) BUILD=build-asan CFLAGS="$(ASAN_FLAGS)" unit build-asan/r42intercept-runner \
	  build-asan/r42intercept-core.so
	@bash test/run-unit.sh build-asan
	$(MAKE) all
	R42INTERCEPT_RUNNER=$(CURDIR)/build-asan/r42intercept-runner \
	  ASAN_OPTIONS=verify_asan_link_order=0:disable_coredump=0 \
	  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 bats test/bats

# The unit tests under valgrind, then the integration tests of the two
# fast paths with the runner under valgrind (test/valgrind-runner.sh),
# without the resident runner (its calls would run outside valgrind).
check-valgrind: all unit
	@R42_TEST_PREFIX="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite" \
	  bash test/run-unit.sh $(BUILD)
	RANGE42_PROXMOX_API_RESIDENT=off R42INTERCEPT_RUNNER=$(CURDIR)/test/valgrind-runner.sh \
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
	  $(PKG_CFLAGS) -I$(BUILD)/gen -MMD -MP -c $< -o $@

$(FUZZ_BUILD)/obj/fastpath/dkid.o: $(BUILD)/gen/dkid_fixtures.inc

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
	bash test/e2e/check-range42.sh

format:
	clang-format -i shim/*.[ch] fastpath/*.[ch] test/unit/*.[ch] \
	  test/fuzz/*.[ch]

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(BUILD)/obj $(FUZZ_BUILD)/obj -name '*.d' 2>/dev/null)
