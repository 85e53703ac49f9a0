package shim

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"time"
)

// An environment is what the supervisor tells an instance through its
// environment variables.
type environment struct {
	instanceDir string // CORRAL_INSTANCE_DIR: ca.pem, cert.pem, key.pem
	socket      string // CORRAL_SOCKET; default <instanceDir>/plugin.sock
	memoryLimit int64  // CORRAL_MEMORY_LIMIT in bytes; 0 if unlimited
	goMemLimit  bool   // GOMEMLIMIT is set and takes precedence

	// dataSocket is where host applications call the author's services,
	// through the plugin's stable address, which the supervisor points at
	// it; "" if the instance has none and serves them on socket only.
	dataSocket string // CORRAL_DATA_SOCKET

	// maxMessageSize bounds every message either way, on both sockets.
	maxMessageSize int // CORRAL_MAX_MESSAGE_SIZE in bytes

	// A connection older than maxConnectionAge (±10 %) is asked to go away,
	// so that its client reconnects with the certificates and revocations
	// of now; after another maxConnectionAgeGrace it is closed, with what
	// calls remain on it.
	maxConnectionAge      time.Duration // CORRAL_MAX_CONNECTION_AGE
	maxConnectionAgeGrace time.Duration // CORRAL_MAX_CONNECTION_AGE_GRACE
}

// The defaults of CORRAL_MAX_CONNECTION_AGE and
// CORRAL_MAX_CONNECTION_AGE_GRACE.
const (
	defaultMaxConnectionAge      = 10 * time.Minute
	defaultMaxConnectionAgeGrace = 30 * time.Second
)

// defaultMaxMessageSize is CORRAL_MAX_MESSAGE_SIZE's default, 4 MiB: gRPC's
// own default for the messages a server receives.
const defaultMaxMessageSize = 4 << 20

// readEnvironment reads the instance's environment through getenv.
func readEnvironment(getenv func(string) string) (environment, error) {
	env := environment{
		instanceDir: getenv("CORRAL_INSTANCE_DIR"),
		socket:      getenv("CORRAL_SOCKET"),
		goMemLimit:  getenv("GOMEMLIMIT") != "",
		dataSocket:  getenv("CORRAL_DATA_SOCKET"),
	}
	if env.instanceDir == "" {
		return env, errors.New("CORRAL_INSTANCE_DIR is not set (a plugin is started by the corral supervisor)")
	}
	if env.socket == "" {
		env.socket = filepath.Join(env.instanceDir, "plugin.sock")
	}
	if env.dataSocket != "" && filepath.Clean(env.dataSocket) == filepath.Clean(env.socket) {
		return env, fmt.Errorf("CORRAL_DATA_SOCKET=%q: the same socket as CORRAL_SOCKET", env.dataSocket)
	}
	if s := getenv("CORRAL_MEMORY_LIMIT"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return env, fmt.Errorf("CORRAL_MEMORY_LIMIT=%q: not a number of bytes", s)
		}
		env.memoryLimit = n
	}
	env.maxMessageSize = defaultMaxMessageSize
	if s := getenv("CORRAL_MAX_MESSAGE_SIZE"); s != "" {
		// A protocol buffer message is at most 2 GiB - 1 bytes long.
		n, err := strconv.ParseInt(s, 10, 32)
		if err != nil || n <= 0 {
			return env, fmt.Errorf("CORRAL_MAX_MESSAGE_SIZE=%q: not a positive number of bytes (at most %d)", s, math.MaxInt32)
		}
		env.maxMessageSize = int(n)
	}
	var err error
	if env.maxConnectionAge, err = positiveDuration(getenv, "CORRAL_MAX_CONNECTION_AGE", defaultMaxConnectionAge); err != nil {
		return env, err
	}
	if env.maxConnectionAgeGrace, err = positiveDuration(getenv, "CORRAL_MAX_CONNECTION_AGE_GRACE", defaultMaxConnectionAgeGrace); err != nil {
		return env, err
	}
	return env, nil
}

// positiveDuration reads the environment variable name, a Go duration
// ("90s", "10m"), which must be positive; def if it is not set.
func positiveDuration(getenv func(string) string, name string, def time.Duration) (time.Duration, error) {
	s := getenv(name)
	if s == "" {
		return def, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s=%q: not a positive duration (e.g. 90s, 10m)", name, s)
	}
	return d, nil
}

// softMemoryLimit is the Go runtime's soft memory limit for a hard limit of
// hard bytes: 90% of it, so the garbage collector works harder before the
// kernel's cap is reached. It returns 0 for no limit.
func softMemoryLimit(hard int64) int64 {
	return hard / 10 * 9
}
