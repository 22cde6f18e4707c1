// Command rehearse runs a synthesized cloud assembly on this machine: the
// data tier, the deploy-time handlers and every container ECS would start,
// with the real The Things Stack binary, then the smoke scenario. It prints
// what passed and every substitution, and exits 1 when anything failed.
//
//	go run ./internal/tools/cmd/rehearse -assembly cdk.out [-tts ttn-lw-stack] [-frequency-plans DIR] [-secret NAME=VALUE]... [-keep] [-v]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"

	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/rehearse"
)

func main() {
	os.Exit(run())
}

func run() int {
	assembly := flag.String("assembly", "cdk.out", "the synthesized cloud assembly (make synth)")
	tts := flag.String("tts", "", "the ttn-lw-stack binary (default: $TTS_BINARY, then PATH)")
	fp := flag.String("frequency-plans", os.Getenv("TTS_FREQUENCY_PLANS"), "the frequency plans folder (the image's /srv/ttn-lorawan/lorawan-frequency-plans; default $TTS_FREQUENCY_PLANS)")
	keep := flag.Bool("keep", false, "keep the work folder (logs, data) for debugging")
	verbose := flag.Bool("v", false, "print every process's output")
	outside := secretFlags{}
	flag.Var(outside, "secret", "NAME=VALUE of a secret the operator creates outside the stacks, e.g. the Packet Broker API key: "+
		`-secret 'tts/packet-broker-api-key={"id":"k","secret":"s"}' (repeatable)`)
	flag.Parse()
	if *tts == "" {
		*tts = os.Getenv("TTS_BINARY")
	}
	if *tts == "" {
		if p, err := exec.LookPath("ttn-lw-stack"); err == nil {
			*tts = p
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rp, err := rehearse.Run(ctx, rehearse.Options{
		Assembly: *assembly, TTS: *tts, FrequencyPlans: *fp, Keep: *keep, Verbose: *verbose, Out: os.Stderr,
		OutsideSecrets: outside,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "rehearse:", err)
		return 1
	}
	rp.Print(os.Stdout)
	if !rp.OK() {
		return 1
	}
	return 0
}

// secretFlags collects -secret NAME=VALUE.
type secretFlags map[string]string

func (s secretFlags) String() string { return fmt.Sprint(len(s), " secrets") }

func (s secretFlags) Set(v string) error {
	name, value, ok := strings.Cut(v, "=")
	if !ok || name == "" {
		return fmt.Errorf("want NAME=VALUE")
	}
	s[name] = value
	return nil
}
