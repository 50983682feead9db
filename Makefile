# Fuji build and test entry points.
GO ?= go

.PHONY: test vet conformance oracle

test:
	$(GO) vet ./...
	$(GO) test ./...

# The long runs: the host-CPU oracle with 100000 random cases per form
# (FUJI_ORACLE_CASES; `make test` runs 1000 per form).
conformance:
	FUJI_ORACLE_CASES=$${FUJI_ORACLE_CASES:-100000} $(GO) test -count=1 -timeout 0 -v -run 'X87|SSE|Integer' ./conformance/oracle/
	$(GO) test -count=1 ./conformance/

oracle:
	$(GO) test -count=1 -v -run 'X87|SSE|Integer' ./conformance/oracle/ 2>&1 | grep -E 'family|total|skipping|FAIL|ok'
