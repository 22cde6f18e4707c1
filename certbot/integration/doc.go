// Package integration holds the end-to-end test of certificate issuance,
// storage and hot reload with real tools on loopback: pebble (ACME test
// server), certbot (through cmd/certbot-task and cmd/deploy-hook), the fake
// Secrets Manager and CloudWatch, and nginx supervised by cmd/certsync.
//
//	go test ./certbot/integration -run TestRenewalUnderLoad -v -print-load
//
// Missing tools skip the test (with the install command), or fail it when
// CI=true.
package integration
