package shim

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
)

// An environment is what the supervisor tells an instance through its
// environment variables.
type environment struct {
	instanceDir string // CORRAL_INSTANCE_DIR: ca.pem, cert.pem, key.pem
	socket      string // CORRAL_SOCKET; default <instanceDir>/plugin.sock
	memoryLimit int64  // CORRAL_MEMORY_LIMIT in bytes; 0 if unlimited
	goMemLimit  bool   // GOMEMLIMIT is set and takes precedence
}

// readEnvironment reads the instance's environment through getenv.
func readEnvironment(getenv func(string) string) (environment, error) {
	env := environment{
		instanceDir: getenv("CORRAL_INSTANCE_DIR"),
		socket:      getenv("CORRAL_SOCKET"),
		goMemLimit:  getenv("GOMEMLIMIT") != "",
	}
	if env.instanceDir == "" {
		return env, errors.New("CORRAL_INSTANCE_DIR is not set (a plugin is started by the corral supervisor)")
	}
	if env.socket == "" {
		env.socket = filepath.Join(env.instanceDir, "plugin.sock")
	}
	if s := getenv("CORRAL_MEMORY_LIMIT"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return env, fmt.Errorf("CORRAL_MEMORY_LIMIT=%q: not a number of bytes", s)
		}
		env.memoryLimit = n
	}
	return env, nil
}

// softMemoryLimit is the Go runtime's soft memory limit for a hard limit of
// hard bytes: 90% of it, so the garbage collector works harder before the
// kernel's cap is reached. It returns 0 for no limit.
func softMemoryLimit(hard int64) int64 {
	return hard / 10 * 9
}
