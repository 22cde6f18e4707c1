package interop

import (
	"fmt"
	"strings"
)

// headerValueProblem returns "" when Go's HTTP client sends v as a header
// value, else what is wrong with it. net/http refuses a request whose header
// value holds a control character other than a horizontal tab (bytes below
// 0x20, and DEL 0x7F) with "net/http: invalid header field value"; the rule
// is golang.org/x/net/http/httpguts.ValidHeaderFieldValue, which the
// Transport applies to every header. The description names characters and
// positions only, never the value.
func headerValueProblem(v string) string {
	trimmed := strings.TrimRight(v, "\r\n")
	if trimmed != v && headerValueProblem(trimmed) == "" {
		return "ends with a line break"
	}
	for i := 0; i < len(v); i++ {
		b := v[i]
		if (b >= 0x20 || b == '\t') && b != 0x7f {
			continue
		}
		var what string
		switch b {
		case '\n':
			what = "a line break (LF)"
		case '\r':
			what = "a carriage return (CR)"
		case 0:
			what = "a NUL byte"
		case 0x7f:
			what = "a DEL character (0x7F)"
		default:
			what = fmt.Sprintf("the control character 0x%02X", b)
		}
		return fmt.Sprintf("contains %s at byte %d of %d", what, i+1, len(v))
	}
	return ""
}

// headerValueFix says how to store a value that headerValueProblem refused.
func headerValueFix(problem string) string {
	if problem == "ends with a line break" {
		return "store it without the trailing newline (for example with --secret-string \"$(cat FILE)\", which drops it, rather than file://FILE, which keeps it)"
	}
	return "store it without line breaks or other control characters"
}
