package prdiff

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Finding is one change that would lose stored data.
type Finding struct {
	Stack     string
	LogicalID string
	Type      string
	Reason    string
	// Allowed is the reviewed override that accepts this change, or nil.
	Allowed *Override
}

func (f Finding) String() string {
	return fmt.Sprintf("%s %s (%s): %s", f.Stack, f.LogicalID, f.Type, f.Reason)
}

// Guard returns the data-loss findings of one stack. Replacements and
// removals come from the CDK CLI's own diff (d); the old and new templates
// are read only for what the CLI does not classify: a stateful resource whose
// DeletionPolicy or UpdateReplacePolicy stops keeping its data, whose
// deletion protection is turned off, or a log group whose retention period is
// shortened.
func Guard(stack string, d StackDiff, old, new Template) []Finding {
	var out []Finding
	for _, c := range d.Changes {
		o, hadOld := old.Resources[c.LogicalID]
		n, hasNew := new.Resources[c.LogicalID]
		oldRes, newRes := ptr(o, hadOld), ptr(n, hasNew)
		oldType := c.Type
		if hadOld {
			oldType = o.Type
		}
		stateful := IsStateful(oldType, oldRes, nil) || IsStateful(c.Type, nil, newRes)
		if !stateful {
			continue
		}
		f := Finding{Stack: stack, LogicalID: c.LogicalID, Type: oldType}
		switch c.Kind {
		case Replaced:
			f.Reason = replacementReason(c, oldRes)
		case Removed:
			if c.Impact == impactOrphan {
				f.Reason = "removed from the stack: DeletionPolicy keeps it in the account, but orphaned: no longer managed, and the app no longer uses it or its data"
			} else {
				f.Reason = "removed from the stack: CloudFormation deletes it with its data"
			}
		default:
			if hadOld && hasNew {
				out = append(out, policyFindings(stack, c.LogicalID, o, n)...)
			}
			continue
		}
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].LogicalID != out[j].LogicalID {
			return out[i].LogicalID < out[j].LogicalID
		}
		return out[i].Reason < out[j].Reason
	})
	return out
}

func ptr(r Resource, ok bool) *Resource {
	if !ok {
		return nil
	}
	return &r
}

func replacementReason(c Change, old *Resource) string {
	var why []string
	for _, p := range c.Properties {
		if strings.Contains(p, "replacement)") {
			why = append(why, p)
		}
	}
	verb := "will be replaced"
	if c.Impact == impactMayReplace {
		verb = "may be replaced (CloudFormation decides during the deployment)"
	}
	fate := "the old one is deleted with its data"
	if old != nil && keepsData(old.UpdateReplacePolicy) {
		fate = "the old one is left behind, unmanaged, with the data"
	}
	reason := verb + ": the replacement starts empty and " + fate
	if len(why) > 0 {
		reason += "; because of " + strings.Join(why, ", ")
	}
	return reason
}

// policyFindings compares what keeps the data of a resource updated in place.
func policyFindings(stack, id string, o, n Resource) []Finding {
	var out []Finding
	add := func(format string, args ...any) {
		out = append(out, Finding{Stack: stack, LogicalID: id, Type: o.Type, Reason: fmt.Sprintf(format, args...)})
	}
	if keepsData(o.DeletionPolicy) && !keepsData(n.DeletionPolicy) {
		add("DeletionPolicy %s -> %s: removing the resource or deleting the stack would delete its data", o.DeletionPolicy, policyName(n.DeletionPolicy))
	}
	if keepsData(o.UpdateReplacePolicy) && !keepsData(n.UpdateReplacePolicy) {
		add("UpdateReplacePolicy %s -> %s: a later replacement would delete the old resource with its data", o.UpdateReplacePolicy, policyName(n.UpdateReplacePolicy))
	}
	for _, key := range []string{"DeletionProtection", "DeletionProtectionEnabled"} {
		if isTrue(o.Properties[key]) && !isTrue(n.Properties[key]) {
			add("%s true -> %v: deletion protection is turned off", key, valueOrAbsent(n.Properties[key]))
		}
	}
	if o.Type == "AWS::Logs::LogGroup" {
		before, beforeSet := days(o.Properties["RetentionInDays"])
		after, afterSet := days(n.Properties["RetentionInDays"])
		if afterSet && (!beforeSet || after < before) {
			was := "never expire"
			if beforeSet {
				was = fmt.Sprintf("%d days", before)
			}
			add("RetentionInDays shortened from %s to %d days: older log events are deleted", was, after)
		}
	}
	return out
}

func policyName(p string) string {
	if p == "" {
		return "Delete (no policy)"
	}
	return p
}

func isTrue(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		return x == "true"
	}
	return false
}

func valueOrAbsent(v any) any {
	if v == nil {
		return "absent"
	}
	return v
}

// days reads a whole number of days; intrinsic functions do not count.
func days(v any) (int, bool) {
	switch x := v.(type) {
	case float64:
		return int(x), true
	case string:
		n, err := strconv.Atoi(x)
		return n, err == nil
	}
	return 0, false
}

// ApplyOverrides marks the findings that an override allows and returns the
// overrides that match no finding (stale ones, to be removed).
func ApplyOverrides(findings []Finding, overrides []Override) []Override {
	used := make([]bool, len(overrides))
	for i := range findings {
		for j, o := range overrides {
			if o.Stack == findings[i].Stack && o.LogicalID == findings[i].LogicalID {
				findings[i].Allowed = &overrides[j]
				used[j] = true
			}
		}
	}
	var unused []Override
	for j, o := range overrides {
		if !used[j] {
			unused = append(unused, o)
		}
	}
	return unused
}
