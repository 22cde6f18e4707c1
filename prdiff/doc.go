// Package prdiff compares two revisions of the app offline, for review: it
// synthesizes every environment at both (the base in a temporary git
// worktree, with that revision's own Makefile), diffs every stack with the
// CDK CLI's own template diff (`cdk diff --template`, run without AWS
// credentials), and guards against changes that would lose stored data:
// replacing or removing a stateful resource, or turning off what keeps its
// data. Reviewed exceptions live in params/NAME.dataloss.yaml. cmd/prdiff
// is the command (`make diff`).
package prdiff
