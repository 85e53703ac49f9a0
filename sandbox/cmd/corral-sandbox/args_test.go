package main

import (
	"slices"
	"strings"
	"testing"
)

func TestParseArgsOwner(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		owner *ids // nil: none
		err   string
	}{
		{args: nil},
		{args: []string{"--owner", "300001:300002"}, owner: &ids{300001, 300002}},
		{args: []string{"--ids", "300001:300002"}, owner: &ids{300001, 300002}},
		{args: []string{"--ids", "300001:300001", "--owner", "300001:300001"}, err: "--owner and --ids: --ids names the owner too"},
		{args: []string{"--owner", "0:300001"}, err: "--owner: uid 0 is not an unprivileged host uid"},
		{args: []string{"--owner", "300001"}, err: `--owner "300001": want UID:GID`},
		{args: []string{"--owner", "300001:300001", "--owner", "300002:300002"}, err: "unexpected arguments"},
		{args: []string{"--owner-fd", "5"}}, // the front reads it; the owner is the spec's
		{args: []string{"--owner-fd", "3"}, err: `--owner-fd "3": want a file descriptor above 3`},
		{args: []string{"--owner-fd", "five"}, err: `--owner-fd "five": want a file descriptor above 3`},
		{args: []string{"--owner-fd", "5", "--owner", "300001:300001"}, err: "--owner-fd with --owner or --ids"},
		{args: []string{"--owner-fd", "5", "--ids", "300001:300001"}, err: "--owner-fd with --owner or --ids"},
		{args: []string{"--owner-fd", "4", "--spec-fd", "4"}, err: "--owner-fd 4 is the spec's fd"},
	} {
		opts, err := parseArgs(tc.args)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("parseArgs(%q): error %v, want one containing %q", tc.args, err, tc.err)
			}
		case err != nil:
			t.Errorf("parseArgs(%q): %v", tc.args, err)
		case tc.err == "" && opts.ownerLater != slices.Contains(tc.args, "--owner-fd"):
			t.Errorf("parseArgs(%q): ownerLater %v", tc.args, opts.ownerLater)
		case tc.owner == nil && opts.owner != nil:
			t.Errorf("parseArgs(%q): owner %v, want none", tc.args, *opts.owner)
		case tc.owner != nil && (opts.owner == nil || *opts.owner != *tc.owner):
			t.Errorf("parseArgs(%q): owner %v, want %v", tc.args, opts.owner, *tc.owner)
		}
	}
}
