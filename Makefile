# The CDK CLI is pinned and run through npx, never installed into this folder
# (its node_modules would hold Go files that break `go test ./...`).
CDK_VERSION := 2.1148.1
CDK := npx -y aws-cdk@$(CDK_VERSION)
ARGS ?=

export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_VERSION_CHECK := true

.PHONY: synth test vet docs clean

## synth: synthesize every stack into cdk.out (no AWS account or credentials needed).
##        make synth ARGS='-c env=NAME -c SupportProxyTLS=true'
synth:
	$(CDK) synth --quiet $(ARGS)

## test: the whole test suite (vet, unit, template and integration tests).
test:
	go vet ./...
	go test -count=1 -timeout 40m ./...

## docs: regenerate the generated sections of README.md.
docs:
	go run ./cmd/gendocs README.md

clean:
	rm -rf cdk.out
