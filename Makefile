# The CDK CLI is pinned and run through npx, never installed into this folder
# (its node_modules would hold Go files that break `go test ./...`).
CDK_VERSION := 2.1148.1
CDK := npx -y aws-cdk@$(CDK_VERSION)
ARGS ?=
# make diff: the revision to compare with (empty: origin/main, or HEAD~1 when
# there is no origin/main), and more flags of internal/tools/cmd/prdiff (-summary FILE, -full).
BASE ?=
PRDIFF_ARGS ?=
# make cost: more flags of internal/tools/cmd/cost (-env NAME, -assembly DIR).
COST_ARGS ?=

export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_VERSION_CHECK := true

.PHONY: synth rehearse test lint docs diff cost snapshots interop exec clean

## synth: synthesize every stack into cdk.out (no AWS account or credentials needed).
##        make synth ARGS='-c env=NAME -c SupportProxyTLS=true'
synth:
	$(CDK) synth --quiet $(ARGS)

## rehearse: run the synthesized assembly on this machine (PostgreSQL, Redis, nginx and the
##           ttn-lw-stack binary of TTS_BINARY) and a smoke scenario; see README.
rehearse:
	go run ./internal/tools/cmd/rehearse -assembly cdk.out

## test: the whole test suite (vet, staticcheck, unit, template and integration tests).
test: lint
	go test -count=1 -timeout 40m ./...

## lint: gofmt, go vet and staticcheck (pinned in go.mod as a tool). ST1005 is off: error
##       messages here start with product names (PostgreSQL, Fargate, The Things Stack).
lint:
	@unformatted="$$(gofmt -l .)"; if [ -n "$$unformatted" ]; then echo "not gofmt-formatted (run gofmt -w on them):"; echo "$$unformatted"; exit 1; fi
	go vet ./...
	go tool staticcheck -checks 'inherit,-ST1005' ./...

## diff: synthesize every environment at BASE and in the working tree, offline, and
##       print per stack what is added, modified, replaced and removed; fails when
##       a change would lose stored data. make diff BASE=origin/main
diff:
	go run ./internal/tools/cmd/prdiff -base '$(BASE)' -cdk '$(CDK)' -cdk-version $(CDK_VERSION) $(PRDIFF_ARGS)

## cost: the estimated monthly cost of every environment, synthesized offline, per stack and
##       kind of cost, from internal/tools/cost/prices.yaml. make cost COST_ARGS='-env NAME'
cost:
	go run ./internal/tools/cmd/cost -cdk '$(CDK)' $(COST_ARGS)

## interop: check an interop repository (and more: ARGS='help').
##          make interop ARGS='check params/example-interop'
interop:
	go run ./internal/tools/cmd/interop $(ARGS)

## exec: a shell, or one command, in a running task of a service of The Things Stack
##       (ECS Exec; needs OpsAccess, the AWS CLI and the Session Manager plugin; see README, Ops access).
##       make exec ENV=prod SERVICE=is [CMD='ttn-lw-stack is-db --help'] [TASK=id]
ENV ?= example
SERVICE ?=
CMD ?=
TASK ?=
exec:
	go run ./internal/tools/cmd/opsexec -env '$(ENV)' -service '$(SERVICE)' $(if $(CMD),-command '$(CMD)') $(if $(TASK),-task '$(TASK)')

## snapshots: rewrite the template snapshots of test/snapshots after an intended change.
snapshots:
	UPDATE_SNAPSHOTS=1 go test -count=1 -run 'TestSnapshots' ./test

## docs: regenerate the generated sections of README.md.
docs:
	go run ./internal/tools/cmd/gendocs README.md

clean:
	rm -rf cdk.out
