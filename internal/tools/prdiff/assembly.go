package prdiff

import cloudassembly "github.com/lorawan-stack-aws/tts-ecs/internal/tools/assembly"

// The cloud assembly as package assembly reads it.
type (
	Assembly = cloudassembly.Assembly
	Stack    = cloudassembly.Stack
	Template = cloudassembly.Template
	Resource = cloudassembly.Resource
	Output   = cloudassembly.Output
)

// ReadAssembly reads the cloud assembly in dir (assembly.Read).
func ReadAssembly(dir string) (*Assembly, error) { return cloudassembly.Read(dir) }
