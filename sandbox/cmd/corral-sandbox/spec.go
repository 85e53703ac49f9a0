package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
)

// Spec is what the supervisor asks of one sandbox. Its fields are those of
// the spec table in docs/internals.md; sandbox/spec.ts is its TypeScript twin.
type Spec struct {
	Binary      string            `json:"binary"`
	Args        []string          `json:"args"`
	Env         map[string]string `json:"env"`
	InstanceDir string            `json:"instanceDir"`
	// PrivateInstanceDir makes /corral a tmpfs of the sandbox's own, owned
	// by its root, rather than InstanceDir: for `corral sandbox`, whose
	// instance directory no host application looks into. Its files are
	// charged to the sandbox's memory cgroup, and go with its mount
	// namespace; InstanceDir's file system (the runtime directory's) is left
	// alone.
	PrivateInstanceDir bool     `json:"privateInstanceDir"`
	Hostname           string   `json:"hostname"`
	UID                int      `json:"uid"`
	GID                int      `json:"gid"`
	WorkspaceBytes     int64    `json:"workspaceBytes"`
	CgroupProcs        []string `json:"cgroupProcs"`
	// Network is "none" (a new network namespace with only lo) or "host"
	// (the host's network namespace, an explicit opt-in).
	Network string `json:"network"`
	// ReadOnlyPaths are host paths granted to the sandbox read-only, at the
	// same path inside (e.g. the libraries of a dynamically linked binary).
	ReadOnlyPaths []string `json:"readOnlyPaths"`
	// Stdin is "null" (/dev/null, for plugins) or "inherit" (the
	// launcher's stdin, for `corral sandbox`).
	Stdin   string  `json:"stdin"`
	Rlimits Rlimits `json:"rlimits"`
}

// Rlimits are the plugin's resource limits (soft = hard). RLIMIT_CORE is
// always 0: a core dump would write the plugin's memory, keys included,
// somewhere it does not control.
type Rlimits struct {
	NoFile     uint64 `json:"nofile"`
	NProc      uint64 `json:"nproc"`
	FSizeBytes uint64 `json:"fsizeBytes"`
}

// maxSpecBytes bounds what the launcher reads from stdin and sends to the
// init in one message.
const maxSpecBytes = 64 << 10

// decodeSpec parses and validates one JSON spec. Unknown fields are errors:
// the spec is an internal contract, and a misspelt field must not be
// silently ignored.
func decodeSpec(data []byte) (*Spec, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var s Spec
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("decode spec: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("decode spec: trailing data after the JSON object")
	}
	if err := s.validate(); err != nil {
		return nil, fmt.Errorf("invalid spec: %w", err)
	}
	return &s, nil
}

// maxID is the largest valid id: (uid_t)-1 means "no id".
const maxID = 1<<32 - 2

func (s *Spec) validate() error {
	switch {
	case !filepath.IsAbs(s.Binary):
		return fmt.Errorf("binary %q is not an absolute path", s.Binary)
	case !filepath.IsAbs(s.InstanceDir):
		return fmt.Errorf("instanceDir %q is not an absolute path", s.InstanceDir)
	case s.Hostname == "" || len(s.Hostname) > 64:
		return fmt.Errorf("hostname %q must have 1 to 64 bytes", s.Hostname)
	case checkIDs(s.UID, s.GID) != nil:
		return checkIDs(s.UID, s.GID)
	case s.WorkspaceBytes <= 0:
		return fmt.Errorf("workspaceBytes %d must be positive", s.WorkspaceBytes)
	case s.Network != "none" && s.Network != "host":
		return fmt.Errorf("network %q must be \"none\" or \"host\"", s.Network)
	case s.Stdin != "null" && s.Stdin != "inherit":
		return fmt.Errorf("stdin %q must be \"null\" or \"inherit\"", s.Stdin)
	case s.Rlimits.NoFile == 0 || s.Rlimits.NProc == 0 || s.Rlimits.FSizeBytes == 0:
		return fmt.Errorf("rlimits %+v: nofile, nproc and fsizeBytes must be positive", s.Rlimits)
	}
	if err := checkGrants(s.ReadOnlyPaths); err != nil {
		return err
	}
	if err := checkProcsFiles(s.CgroupProcs); err != nil {
		return err
	}
	for k, v := range s.Env {
		if k == "" || strings.ContainsAny(k, "=\x00") || strings.ContainsRune(v, 0) {
			return fmt.Errorf("env entry %q is not a valid variable", k)
		}
	}
	for _, a := range s.Args {
		if strings.ContainsRune(a, 0) {
			return fmt.Errorf("argument %q contains a NUL byte", a)
		}
	}
	return nil
}

// maxGrants bounds readOnlyPaths: each is one fd passed to the init with
// the spec, and SCM_RIGHTS carries at most 253 in one message.
const maxGrants = 64

// reservedPaths are the sandbox's own mounts: a grant at, above or below one
// would hide it or be hidden by it.
var reservedPaths = []string{pluginPath, "/corral", "/tmp", "/proc", "/dev"}

// checkGrants refuses read-only grants that are not clean absolute paths,
// that overlap the sandbox's own mounts, or that overlap each other: a grant
// is a recursive mount already, and one nested in another would need its
// mountpoint made inside a mount that is read-only by then.
func checkGrants(grants []string) error {
	if len(grants) > maxGrants {
		return fmt.Errorf("readOnlyPaths: %d entries, at most %d", len(grants), maxGrants)
	}
	for i, p := range grants {
		if !filepath.IsAbs(p) || filepath.Clean(p) != p || p == "/" {
			return fmt.Errorf("readOnlyPaths entry %q is not a clean absolute path below /", p)
		}
		for _, r := range reservedPaths {
			if overlaps(p, r) {
				return fmt.Errorf("readOnlyPaths entry %q overlaps the sandbox's %s", p, r)
			}
		}
		for _, q := range grants[:i] {
			if overlaps(p, q) {
				return fmt.Errorf("readOnlyPaths entries %q and %q overlap", q, p)
			}
		}
	}
	return nil
}

// overlaps tells whether one of two clean absolute paths is the other or
// lies beneath it.
func overlaps(a, b string) bool {
	return a == b || strings.HasPrefix(a, b+"/") || strings.HasPrefix(b, a+"/")
}

// environ returns the plugin's whole environment, sorted so that two
// launches of one spec see the same order.
func (s *Spec) environ() []string {
	env := make([]string, 0, len(s.Env))
	for k, v := range s.Env {
		env = append(env, k+"="+v)
	}
	slices.Sort(env)
	return env
}

// checkIDs refuses host ids that are not unprivileged: root inside a sandbox
// must never be root (or any id below 1) outside.
func checkIDs(uid, gid int) error {
	switch {
	case uid <= 0 || uid > maxID:
		return fmt.Errorf("uid %d is not an unprivileged host uid", uid)
	case gid <= 0 || gid > maxID:
		return fmt.Errorf("gid %d is not an unprivileged host gid", gid)
	}
	return nil
}

// checkProcsFiles refuses anything but absolute paths of cgroup.procs files.
func checkProcsFiles(files []string) error {
	for _, f := range files {
		if !filepath.IsAbs(f) || filepath.Base(f) != "cgroup.procs" || strings.Contains(f, ",") {
			return fmt.Errorf("cgroupProcs entry %q is not an absolute path to a cgroup.procs file", f)
		}
	}
	return nil
}
