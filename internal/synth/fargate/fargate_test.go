package fargate

import (
	"strings"
	"testing"
)

func TestCheckSize(t *testing.T) {
	for _, c := range []struct {
		cpu, mem int
		want     string
	}{
		{256, 512, ""}, {256, 1024, ""}, {256, 2048, ""}, {256, 1536, "512, 1024 or 2048"},
		{512, 1024, ""}, {512, 4096, ""}, {512, 512, "1024 to 4096"},
		{1024, 2048, ""}, {1024, 3072, ""}, {1024, 1024, "2048 to 8192"},
		{4096, 30720, ""}, {8192, 20480, ""}, {8192, 18432, "steps of 4096"},
		{300, 1024, "use one of 256, 512"},
	} {
		err := CheckSize(c.cpu, c.mem)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%d/%d: %v", c.cpu, c.mem, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%d/%d: error %v, want one with %q", c.cpu, c.mem, err, c.want)
		}
	}
}
