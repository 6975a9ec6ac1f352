# hark: a TCP-to-journal daemon (harkd) and its client (hark).
#
#   make            build build/harkd and build/hark
#   make run        install missing dependencies, build, run harkd on
#                   conf/harkd.conf (beside a private journald if none runs)
#   make check      install missing build and test dependencies, build, run all tests
#   make bench      the benchmark (see README.md)
#   make check-fresh  the quick start on a fresh Debian 12 root (mmdebstrap)
#   make install    DESTDIR, PREFIX, SYSCONFDIR are honoured

VERSION     = 0.1.0

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
SBINDIR    ?= $(PREFIX)/sbin
MANDIR     ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR    ?= $(shell pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null || echo /lib/systemd/system)
GENERATORDIR ?= $(shell pkg-config --variable=systemdsystemgeneratordir systemd 2>/dev/null || echo /lib/systemd/system-generators)
CATALOGDIR ?= $(shell pkg-config --variable=catalogdir systemd 2>/dev/null || echo /usr/lib/systemd/catalog)

BUILD      ?= build
CC         ?= cc
CFLAGS     ?= -O2 -g
# SANITIZE=address,undefined or SANITIZE=thread builds everything instrumented.
SANITIZE   ?=
# WERROR=1 turns warnings into errors (CI does; a user's build does not).
WERROR     ?=

PKGS        = libconfig libsystemd openssl
WARNINGS    = -Wall -Wextra -Wshadow -Wpointer-arith -Wstrict-prototypes \
              -Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral
HARK_CFLAGS = -std=gnu11 -D_GNU_SOURCE -pthread -Isrc $(WARNINGS) \
              $(if $(WERROR),-Werror) \
              $(if $(SANITIZE),-fsanitize=$(SANITIZE) -fno-omit-frame-pointer) \
              -DHARK_VERSION='"$(VERSION)"' \
              -DHARK_DEFAULT_CONFIG='"$(SYSCONFDIR)/hark/harkd.conf"' \
              $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
HARK_LDLIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -pthread \
              $(if $(SANITIZE),-fsanitize=$(SANITIZE))
TEST_LDLIBS = $(shell pkg-config --libs cmocka 2>/dev/null) $(HARK_LDLIBS)

PROGRAMS    = harkd hark harkd-socket-generator
LIB_SRC     = $(filter-out $(PROGRAMS:%=src/%.c),$(wildcard src/*.c))
LIB_OBJ     = $(LIB_SRC:src/%.c=$(BUILD)/obj/%.o)
LIB         = $(BUILD)/libhark.a
UNIT_TESTS  = $(patsubst tests/%.c,$(BUILD)/tests/%,$(wildcard tests/test_*.c))
IT_SUPPORT  = $(patsubst tests/%.c,$(BUILD)/tests/%.o,$(wildcard tests/support*.c))
IT_TESTS    = $(patsubst tests/%.c,$(BUILD)/tests/%,$(wildcard tests/it_*.c))
BENCH_BINS  = $(patsubst tests/bench/%.c,$(BUILD)/bench/%,$(wildcard tests/bench/*.c))
MANPAGES    = man/harkd.8 man/harkd.conf.5 man/hark.1
# A unit NAME.in is a template: installed as NAME, with the paths filled in and
# systemd/sandbox.conf (the one sandbox of both services) at its line @SANDBOX@.
UNITS       = systemd/harkd.service.in systemd/harkd.socket \
              systemd/harkd-accept@.service.in systemd/harkd-accept.socket

# Debian package names of what each target needs. `make run`, `make check` and
# `make bench` install those that are not installed (tests/install-deps: as
# root, apt-get without recommends), so the lists name everything a minbase
# Debian 12 lacks (`make check-fresh` checks that):
#   libc6-dev       the C headers; gcc and clang only recommend them
#   systemd         systemd-journald and journalctl for the private journal,
#                   systemd-cat (make run's probe), the booted systemd test
#   util-linux, mount   unshare, nsenter, setsid, mount (the namespaces)
#   netcat-openbsd  the README's `nc -N` example
#   procps          pgrep (systemd test);  mandoc: make lint-man
#   rsyslog, python3, socat   real syslog senders and a raw byte pump (tests)
#   libssl-dev      OpenSSL 3: the TLS listener and hark --tls
#   rsyslog-openssl, openssl  a real TLS relay and the openssl tool (tests)
#   iproute2        ip, ss (bench: its own network namespace)
#   cppcheck, clang-tidy   make lint;  valgrind: make valgrind
# clang builds (CI's sanitizer runs) need clang and, for SANITIZE, its runtimes.
CC_DEBS     = $(if $(findstring clang,$(CC)),clang $(if $(SANITIZE),libclang-rt-14-dev),gcc) libc6-dev
BUILD_DEBS  = $(CC_DEBS) make pkg-config libconfig-dev libsystemd-dev libssl-dev
RUN_DEBS    = $(BUILD_DEBS) systemd util-linux mount netcat-openbsd
TEST_DEBS   = $(RUN_DEBS) libcmocka-dev procps mandoc rsyslog rsyslog-openssl openssl python3 socat \
              $(LINT_TOOLS) valgrind
LINT_TOOLS  = cppcheck clang-tidy
BENCH_DEBS  = $(TEST_DEBS) iproute2

.PHONY: FORCE all run check bench deps deps-test deps-bench install uninstall clean \
        unit-tests it-tests lint-man lint lint-cppcheck lint-tidy valgrind
.DELETE_ON_ERROR:

all: $(PROGRAMS:%=$(BUILD)/%)

# Objects depend on the flags they were built with, so that another CFLAGS,
# SANITIZE or SYSCONFDIR (compiled in as the default config path) rebuilds
# them. The stamp is rewritten only when the flags change.
BUILD_FLAGS = $(CC) $(HARK_CFLAGS) $(CPPFLAGS) $(CFLAGS)
FLAGS_STAMP = $(BUILD)/flags
# (make expands the whole recipe before running it: the directory is made
# inside the expansion, ahead of the write.)
$(FLAGS_STAMP): FORCE
	$(if $(filter-out $(file <$@),$(BUILD_FLAGS))$(filter-out $(BUILD_FLAGS),$(file <$@)),$(shell mkdir -p $(@D))$(file >$@,$(BUILD_FLAGS)))
FORCE:

$(BUILD)/obj/%.o: src/%.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(HARK_CFLAGS) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(LIB): $(LIB_OBJ)
	$(AR) rcs $@ $^

$(PROGRAMS:%=$(BUILD)/%): $(BUILD)/%: $(BUILD)/obj/%.o $(LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(HARK_LDLIBS)

$(BUILD)/tests/%.o: tests/%.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(HARK_CFLAGS) $(shell pkg-config --cflags cmocka 2>/dev/null) \
	      $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/tests/test_%: $(BUILD)/tests/test_%.o $(LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(TEST_LDLIBS)

$(BUILD)/tests/it_%: $(BUILD)/tests/it_%.o $(IT_SUPPORT) $(LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(TEST_LDLIBS)

$(BUILD)/bench/%: tests/bench/%.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(HARK_CFLAGS) $(CPPFLAGS) $(CFLAGS) -o $@ $^ $(HARK_LDLIBS)

deps:
	@tests/install-deps $(BUILD_DEBS)
deps-test:
	@tests/install-deps $(TEST_DEBS)
deps-bench:
	@tests/install-deps $(BENCH_DEBS)

# The targets below re-enter make so that the pkg-config flags are read only
# after `deps` has installed the libraries.
# harkd on conf/harkd.conf: in the foreground where a journald answers, else
# beside a private journald whose entries are shown live (tests/run-demo).
run:
	@tests/install-deps $(RUN_DEBS)
	@$(MAKE) --no-print-directory all
	tests/run-demo $(BUILD)/harkd conf/harkd.conf

check: deps-test
	@$(MAKE) --no-print-directory all unit-tests-bin it-tests-bin
	@$(MAKE) --no-print-directory lint-man
	BUILD=$(BUILD) SANITIZE=$(SANITIZE) tests/run-tests

# ---- syslog-ng for the interop tests (tests/it_syslog.c) ------------------
# Debian's syslog-ng-core conflicts with rsyslog (a test dependency too), so
# it is never installed: tests/fetch-syslog-ng unpacks it, with the libraries
# this machine lacks, into $(SYSLOG_NG_DIR), where it_syslog runs it from
# (beside $(BUILD)/harkd). A part of deps-test, so that what needs the
# network happens there (make check-fresh runs make check offline after it);
# fetched once, then only checked with ldd; needs root only when the package
# lists are missing (apt-get update).
SYSLOG_NG_DIR = $(BUILD)/syslog-ng
.PHONY: fetch-syslog-ng
fetch-syslog-ng:
	@tests/fetch-syslog-ng $(SYSLOG_NG_DIR)
deps-test: fetch-syslog-ng
# ---- end of syslog-ng -----------------------------------------------------

.PHONY: unit-tests-bin it-tests-bin check-fresh
unit-tests-bin: $(UNIT_TESTS)
it-tests-bin: $(IT_TESTS)

lint-man:
	@out=$$(mandoc -Tlint -W warning $(MANPAGES) 2>&1); \
	if [ -n "$$out" ]; then echo "$$out"; exit 1; fi; \
	echo "mandoc -Tlint: $(MANPAGES) clean"

# ---- Static analysis: make lint -------------------------------------------
# cppcheck, then clang-tidy (its checks, and why some are off, in .clang-tidy)
# on src/*.c with the flags of the build; a finding fails. clang-tidy takes
# about 50 s of CPU for all files and runs on LINT_JOBS (one per CPU) at once.
# Each file it passes leaves a stamp in $(BUILD)/lint/, so the next run looks
# again only at files that changed (or whose headers, .clang-tidy or this
# Makefile did).
LINT_JOBS   ?= $(shell nproc 2>/dev/null || echo 1)
LINT_SRC     = $(wildcard src/*.c)
LINT_CFLAGS  = $(HARK_CFLAGS) $(CPPFLAGS)
LINT_STAMPS  = $(LINT_SRC:src/%.c=$(BUILD)/lint/%.tidy)
# cppcheck: the build's defines and include path (not the system headers:
# parsing them takes long and finds nothing of ours), POSIX and GNU function
# knowledge (unused pthread results, fd leaks).
CPPCHECK_FLAGS = --enable=warning,portability,performance --error-exitcode=1 --inline-suppr \
                 --std=c11 --library=posix --library=gnu --quiet \
                 --suppress=missingIncludeSystem $(CPPCHECK_SUPPRESS) \
                 $(filter -D% -I%,$(LINT_CFLAGS))
# Findings in one file, each with its reason (inline comments where the file
# allows; these are kept here):
#   config.c, invalidPointerCast: the key table's offsetof() slot points at
#       a double member of the struct; the cast is back to that member's type.
CPPCHECK_SUPPRESS = --suppress=invalidPointerCast:src/config.c
# clang-tidy checks off for one file only (appended to .clang-tidy's):
#   config_source.c, misc-no-recursion: @include recurses into the included
#       file, bounded by INCLUDE_DEPTH_MAX (8).
#   entry.c, bugprone-not-null-terminated-result: it builds journal fields as
#       counted bytes (iovecs), never C strings; no terminator is missing.
#   mode_epoll.c, clang-analyzer-unix.Malloc: the analyzer loses track of
#       list_remove() through its conditional lvalue and sees the freed
#       connection still at the list's head (it is not); and the loops are
#       left allocated on purpose when the drain fails (-EBUSY), since their
#       threads still run.
#   mode_thread.c, clang-analyzer-unix.Malloc: the same -EBUSY return leaves
#       the idle jobs allocated, also on purpose (their threads may run).
#   config.c, bugprone-macro-parentheses: CHOICES(table) takes a table's
#       name, in a designated initializer.
TIDY_OFF_config_source = -misc-no-recursion
TIDY_OFF_entry         = -bugprone-not-null-terminated-result
TIDY_OFF_mode_epoll    = -clang-analyzer-unix.Malloc
TIDY_OFF_mode_thread   = -clang-analyzer-unix.Malloc
TIDY_OFF_config        = -bugprone-macro-parentheses

lint:
	@tests/install-deps $(BUILD_DEBS) $(LINT_TOOLS)
	@$(MAKE) --no-print-directory -j$(LINT_JOBS) lint-cppcheck lint-tidy
lint-cppcheck:
	cppcheck $(CPPCHECK_FLAGS) $(LINT_SRC)
	@echo "cppcheck: $(words $(LINT_SRC)) files clean"
lint-tidy: $(LINT_STAMPS)
	@echo "clang-tidy: $(words $(LINT_SRC)) files clean"
# clang-tidy's "N warnings generated" counts the system headers' it did not
# show; only its findings are printed.
$(BUILD)/lint/%.tidy: src/%.c $(wildcard src/*.h) .clang-tidy Makefile $(FLAGS_STAMP)
	@mkdir -p $(@D)
	@echo "clang-tidy $<"
	@out=$$(clang-tidy --quiet $(if $(TIDY_OFF_$*),--checks='$(TIDY_OFF_$*)') $< -- $(LINT_CFLAGS) 2>&1) || { \
	    printf '%s\n' "$$out" | grep -Ev '^[0-9]+ warnings?( and [0-9]+ errors?)? generated\.$$'; exit 1; }
	@touch $@

# ---- Memcheck: make valgrind -----------------------------------------------
# hark and harkd built without sanitizers (-O1 -g) in $(VALGRIND_BUILD), then
# run under valgrind by tests/valgrind-check: hark alone, and harkd in epoll
# and thread mode beside a private journald with hark sending to it (root).
# Any memcheck error or definite leak fails.
VALGRIND_BUILD ?= $(BUILD)/valgrind
valgrind:
	@tests/install-deps $(RUN_DEBS) valgrind
	@$(MAKE) --no-print-directory BUILD=$(VALGRIND_BUILD) CFLAGS='-O1 -g' SANITIZE= \
	    $(VALGRIND_BUILD)/hark $(VALGRIND_BUILD)/harkd
	tests/valgrind-check $(VALGRIND_BUILD)

bench: deps-bench
	@$(MAKE) --no-print-directory all $(BENCH_BINS)
	BUILD=$(BUILD) tests/bench/run-bench

# The README's quick start on a fresh minbase Debian 12 root, made here with
# mmdebstrap (as root; several minutes; log in $(BUILD)/check-fresh.log).
check-fresh:
	BUILD=$(BUILD) tests/check-fresh

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) \
	           $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
	           $(DESTDIR)$(SYSCONFDIR)/hark $(DESTDIR)$(UNITDIR) $(DESTDIR)$(CATALOGDIR) \
	           $(DESTDIR)$(GENERATORDIR) $(DESTDIR)$(PREFIX)/share/doc/hark/examples
	install -m 755 $(BUILD)/harkd $(DESTDIR)$(SBINDIR)/harkd
	install -m 755 $(BUILD)/hark $(DESTDIR)$(BINDIR)/hark
	install -m 755 $(BUILD)/harkd-socket-generator $(DESTDIR)$(GENERATORDIR)/harkd-socket-generator
	install -m 644 man/hark.1 $(DESTDIR)$(MANDIR)/man1/hark.1
	install -m 644 man/harkd.conf.5 $(DESTDIR)$(MANDIR)/man5/harkd.conf.5
	install -m 644 man/harkd.8 $(DESTDIR)$(MANDIR)/man8/harkd.8
	install -m 644 systemd/harkd.catalog $(DESTDIR)$(CATALOGDIR)/harkd.catalog
	install -m 644 systemd/harkd-namespace.conf systemd/harkd-tls-key.conf systemd/harkd-stored.conf \
	    $(DESTDIR)$(PREFIX)/share/doc/hark/examples/
	[ -e $(DESTDIR)$(SYSCONFDIR)/hark/harkd.conf ] || \
	    install -m 644 conf/harkd.conf $(DESTDIR)$(SYSCONFDIR)/hark/harkd.conf
	for u in $(UNITS); do \
	    n=$${u#systemd/}; n=$${n%.in}; \
	    sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	        -e '/^@SANDBOX@$$/{r systemd/sandbox.conf' -e 'd;}' $$u \
	        > $(DESTDIR)$(UNITDIR)/$$n && \
	    chmod 644 $(DESTDIR)$(UNITDIR)/$$n || exit 1; \
	done
	@echo "Installed. Then: journalctl --update-catalog; systemctl daemon-reload;" \
	      "systemctl enable --now harkd.socket"

# The config file is the admin's: uninstall leaves it in place.
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/harkd $(DESTDIR)$(BINDIR)/hark \
	      $(DESTDIR)$(GENERATORDIR)/harkd-socket-generator \
	      $(DESTDIR)$(MANDIR)/man1/hark.1 $(DESTDIR)$(MANDIR)/man5/harkd.conf.5 \
	      $(DESTDIR)$(MANDIR)/man8/harkd.8 $(DESTDIR)$(CATALOGDIR)/harkd.catalog \
	      $(DESTDIR)$(PREFIX)/share/doc/hark/examples/harkd-namespace.conf \
	      $(DESTDIR)$(PREFIX)/share/doc/hark/examples/harkd-tls-key.conf \
	      $(DESTDIR)$(PREFIX)/share/doc/hark/examples/harkd-stored.conf
	rmdir $(DESTDIR)$(PREFIX)/share/doc/hark/examples $(DESTDIR)$(PREFIX)/share/doc/hark 2>/dev/null || :
	for u in $(UNITS); do n=$${u#systemd/}; rm -f $(DESTDIR)$(UNITDIR)/$${n%.in}; done

clean:
	rm -rf $(BUILD) build

# Fuzzing with libFuzzer (clang): every tests/fuzz/fuzz_*.c is one target,
# linked with the sources its first lines name ("/* sources: src/framer.c */"),
# each run FUZZ_SECONDS on a copy of its seed corpus tests/fuzz/corpus/NAME/
# (tests/fuzz/run-fuzz); a crash fails the run and keeps its input in
# $(BUILD)/fuzz/findings/. `make fuzz FUZZ_SECONDS=10` is the short pass.
FUZZ_SECONDS ?= 60
FUZZ_CC     ?= clang
FUZZ_DEBS    = $(BUILD_DEBS) clang libclang-rt-14-dev
FUZZ_BINS    = $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_CFLAGS  = -std=gnu11 -D_GNU_SOURCE -Isrc $(WARNINGS) $(if $(WERROR),-Werror) -g -O1 \
               -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
               $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
fuzz_sources = $(shell sed -n '1,10{/sources:/{s/.*sources:[[:space:]]*//;s/[[:space:]]*\*\/.*//;p;q;}}' $(1))

.PHONY: fuzz deps-fuzz fuzz-bin
fuzz: deps-fuzz
	@$(MAKE) --no-print-directory fuzz-bin
	BUILD=$(BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run-fuzz $(FUZZ_BINS)
deps-fuzz:
	@tests/install-deps $(FUZZ_DEBS)
fuzz-bin: $(FUZZ_BINS)

$(BUILD)/fuzz/%: tests/fuzz/%.c $(wildcard src/*.c src/*.h tests/fuzz/*.h)
	@mkdir -p $(@D)
	$(if $(call fuzz_sources,$<),,$(error $< names no sources: "/* sources: src/FILE.c */" in its first lines))
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(call fuzz_sources,$<) $(shell pkg-config --libs $(PKGS) 2>/dev/null)

-include $(wildcard $(BUILD)/obj/*.d $(BUILD)/tests/*.d)
