// Package interop loads, checks and resolves a LoRaWAN Backend Interfaces
// "interop repository" as The Things Stack (TTS) reads it: a config.yml that
// lists Join Servers by JoinEUI prefix, each described by its own YAML file.
//
// Load checks the repository at least as strictly as TTS does when the Network
// Server (NS) or Application Server (AS) starts, and reports every problem at
// once with its file and line. Resolve answers which Join Server NS or AS
// contacts for a JoinEUI. Files lists what to upload, and Materialize is the
// deploy-time step that replaces Secrets Manager references with their values.
//
// See README.md in this directory for the supported format.
package interop
