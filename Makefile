# medreach — one non-recursive Makefile.
#
#   make run     install what is missing, build, serve the UI and API on http://127.0.0.1:8080
#   make test    install what is missing, build, run every test (unit, unit under ASan+UBSan,
#                API on SQLite and PostgreSQL, browser)
#   make bench   benchmarks with their peers, report in bench/RESULTS.md format
#   make lint    clang-tidy, cppcheck and the banned-call check
#   make fuzz    build the libFuzzer harnesses and run each for FUZZ_SECONDS

CC       ?= cc
# The build directory: `make B=/tmp/other unit` builds elsewhere (parallel work trees).
B        ?= build
PKGS     := libmicrohttpd jansson libsodium sqlite3 libpq icu-uc icu-i18n xlsxwriter libcrypto expat zlib yajl
COMMIT   := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
# Recursive (=), so pkg-config runs after scripts/setup.sh has installed the packages.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS))
WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
            -Wvla -Wpointer-arith -Wundef -Werror
CPPFLAGS := -D_GNU_SOURCE -DMR_COMMIT='"$(COMMIT)"' -Isrc
CFLAGS   ?= -O2 -g
ALL_CFLAGS = -std=c11 $(WARN) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) -MMD -MP
SAN      := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDLIBS    = $(PKG_LIBS) -lroaring -lpthread -lm

SRC      := $(filter-out src/main.c,$(wildcard src/*/*.c src/*/*/*.c))
SCHEMA   := $(sort $(wildcard src/store/schema/*.sql))
OBJ      := $(SRC:src/%.c=$(B)/obj/%.o) $(B)/obj/gen/schema.o
ASAN_OBJ := $(SRC:src/%.c=$(B)/asan/%.o) $(B)/asan/gen/schema.o
UNIT     := $(basename $(notdir $(wildcard tests/unit/test_*.c)))
FUZZ     := $(basename $(notdir $(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_SECONDS ?= 20

# Quiet by default; `make V=1` shows the commands.
ifeq ($(V),1)
Q :=
else
Q := @
endif

.PHONY: all build run test unit unit-asan api browser bench lint fuzz clean setup-test web-vendor
all: build
build: $(B)/medreach web-vendor

$(B)/medreach: $(B)/obj/main.o $(B)/libmedreach.a
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(B)/libmedreach.a: $(OBJ)
	@rm -f $@
	@echo "  AR      $@"
	$(Q)ar rcs $@ $^

$(B)/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/gen/schema.c: $(SCHEMA) scripts/embed-sql.sh
	@mkdir -p $(dir $@)
	@echo "  GEN     $@"
	$(Q)scripts/embed-sql.sh $@ $(SCHEMA)

$(B)/obj/gen/schema.o: $(B)/gen/schema.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The same sources under AddressSanitizer and UBSan, for the unit tests.
$(B)/asan/%.o: src/%.c
	@mkdir -p $(dir $@)
	@echo "  CC asan $<"
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN) -O1 -c -o $@ $<

$(B)/asan/gen/schema.o: $(B)/gen/schema.c
	@mkdir -p $(dir $@)
	@echo "  CC asan $<"
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN) -O1 -c -o $@ $<

$(B)/libmedreach-asan.a: $(ASAN_OBJ)
	@rm -f $@
	@echo "  AR      $@"
	$(Q)ar rcs $@ $^

$(B)/tests/%: tests/unit/%.c tests/unit/unit.h $(B)/libmedreach.a
	@mkdir -p $(dir $@)
	@echo "  TEST    $@"
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/unit -o $@ $< $(B)/libmedreach.a $(LDLIBS) -lcmocka

$(B)/tests-asan/%: tests/unit/%.c tests/unit/unit.h $(B)/libmedreach-asan.a
	@mkdir -p $(dir $@)
	@echo "  TEST    $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN) -O1 -Itests/unit -o $@ $< $(B)/libmedreach-asan.a $(LDLIBS) -lcmocka

# The UI's third-party modules, copied from node_modules (pinned by package-lock.json).
web-vendor: web/vendor/echarts.esm.min.js
web/vendor/echarts.esm.min.js: package-lock.json
	@if [ ! -f node_modules/echarts/dist/echarts.esm.min.js ]; then scripts/setup.sh run; fi
	@mkdir -p web/vendor
	cp node_modules/echarts/dist/echarts.esm.min.js $@

run:
	@scripts/setup.sh run
	@$(MAKE) --no-print-directory build
	@mkdir -p var
	$(B)/medreach demo --if-empty --hcps $${MEDREACH_DEMO_HCPS:-35000} --db $${MEDREACH_DB:-sqlite:var/medreach.db}
	$(B)/medreach serve --db $${MEDREACH_DB:-sqlite:var/medreach.db} --listen $${MEDREACH_LISTEN:-127.0.0.1:8080} --web web

setup-test:
	@scripts/setup.sh test

test: setup-test
	@$(MAKE) --no-print-directory build $(UNIT:%=$(B)/tests/%) $(UNIT:%=$(B)/tests-asan/%)
	@scripts/run-tests.sh all

unit: build $(UNIT:%=$(B)/tests/%)
	@scripts/run-tests.sh unit

unit-asan: build $(UNIT:%=$(B)/tests-asan/%)
	@scripts/run-tests.sh unit-asan

api: build
	@scripts/run-tests.sh api

browser: build
	@scripts/run-tests.sh browser

bench:
	@scripts/setup.sh bench
	@$(MAKE) --no-print-directory build
	@bench/run.sh
	@bench/dedupe.sh
	@if [ -x bench/masterdata.sh ]; then bench/masterdata.sh; fi
	@bench/events.sh
	@bench/engine.sh
	@if [ -x bench/nba.sh ]; then bench/nba.sh; fi
	@bench/nba-uplift.sh

lint:
	@scripts/setup.sh lint
	@$(MAKE) --no-print-directory $(B)/gen/schema.c
	@scripts/lint.sh

$(B)/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz.h $(SRC) $(B)/gen/schema.c
	@mkdir -p $(dir $@)
	clang -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined $(CPPFLAGS) $(PKG_CFLAGS) \
	  -o $@ $< $(SRC) $(B)/gen/schema.c $(LDLIBS)

fuzz:
	@scripts/setup.sh fuzz
	@$(MAKE) --no-print-directory $(FUZZ:%=$(B)/fuzz/%)
	@scripts/run-fuzz.sh $(FUZZ_SECONDS) $(FUZZ)

clean:
	rm -rf $(B) web/vendor

-include $(OBJ:.o=.d) $(ASAN_OBJ:.o=.d) $(B)/obj/main.d
