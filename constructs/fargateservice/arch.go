package fargateservice

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecrassets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
)

// Architecture is the CPU architecture of a task (its runtime platform) and of
// the images built for it.
type Architecture string

// Architectures Fargate runs on Linux.
const (
	ARM64  Architecture = "ARM64"
	X86_64 Architecture = "X86_64"
)

// Valid reports whether a is one of the architectures.
func (a Architecture) Valid() bool { return a == ARM64 || a == X86_64 }

func (a Architecture) cpu() awsecs.CpuArchitecture {
	if a == ARM64 {
		return awsecs.CpuArchitecture_ARM64()
	}
	return awsecs.CpuArchitecture_X86_64()
}

// Platform is the platform a container image asset is built for, to run on
// tasks of this architecture.
func (a Architecture) Platform() awsecrassets.Platform {
	if a == ARM64 {
		return awsecrassets.Platform_LINUX_ARM64()
	}
	return awsecrassets.Platform_LINUX_AMD64()
}
