// Package client connects Go host applications to Corral plugins, as the
// Node client library (client/index.ts) does for Node: a gRPC client
// connection to a plugin's stable address with mTLS set up the way Corral
// expects (present the application's certificate, accept only the
// plugin's), a retry policy for UNAVAILABLE, keepalive, and a reconnect
// backoff suited to a local socket.
//
//	conn, err := client.Connect("greeter", client.Options{Credentials: "/etc/myapp/corral"})
//	if err != nil { ... }
//	defer conn.Close()
//	reply, err := greeterv1.NewGreeterClient(conn).SayHello(ctx, req)
//
// The credentials are what `corralctl certs issue --role client --plugin
// greeter --out DIR` writes: DIR/ca.pem, cert.pem and key.pem. The plugin's
// certificate is also checked against the CA's revocation list
// (Options.CRL).
package client

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"
)

// Options configure [Connect]. Only Credentials is required.
type Options struct {
	// Credentials is a directory holding ca.pem, cert.pem and key.pem.
	Credentials string
	// Address is the plugin's stable address: a Unix socket path, or
	// host:port of its TCP listener. Default:
	// <RuntimeDir>/plugins/<plugin>.sock.
	Address string
	// RuntimeDir is the supervisor's runtime directory. Default /run/corral.
	RuntimeDir string
	// CRL is the CA's revocation list: a plugin whose certificate it
	// revokes is refused (see [TLSFiles]). Default: <Credentials>/crl.pem
	// if that file exists (a host on another machine, over TCP, keeps a
	// copy there), else the crl.pem the supervisor keeps current in its
	// runtime directory: RuntimeDir, or the one Address is in
	// (<dir>/plugins/<plugin>.sock), or /run/corral. That default is left
	// out if it is not a list of the credentials' CA (another supervisor's).
	// "-" checks none.
	CRL string
	// MaxMessageSize bounds messages either way; match the plugin's
	// dataPlane.maxMessageSize. Default 4 MiB.
	MaxMessageSize int
	// MaxAttempts is how many times in all a call that fails with
	// UNAVAILABLE (the plugin is restarting, paused or being updated) is
	// tried, with backoff: 0 means 3, 1 turns retrying off (for methods
	// that are not safe to repeat), at most 5. Calls that never reached the
	// plugin are retried by gRPC anyway. A call that outlives its
	// connection's recycling (dataPlane.maxConnectionAgeGrace after the
	// connection's maxConnectionAge) fails UNAVAILABLE after the plugin may
	// have done its work, and is retried too. A call whose connection the plugin
	// refused for the application's certificate (revoked, expired, of
	// another CA) fails with UNAUTHENTICATED, naming the TLS alert.
	MaxAttempts int
	// DialOptions are added last, so they win.
	DialOptions []grpc.DialOption
}

const (
	defaultRuntimeDir     = "/run/corral"
	defaultMaxMessageSize = 4 << 20
	defaultMaxAttempts    = 3
)

// Connect returns a client connection to plugin's stable address. Like
// grpc.NewClient, it does not connect yet: the first call does. Close it
// when done.
func Connect(plugin string, opts Options) (*grpc.ClientConn, error) {
	if plugin == "" {
		return nil, errors.New("corral client: no plugin named")
	}
	if opts.Credentials == "" {
		return nil, fmt.Errorf("corral client: plugin %s: Options.Credentials names no directory", plugin)
	}
	crlPath, crlDefault := crlFile(opts)
	config, revoked, err := pluginTLS(TLSFiles{
		CA:         filepath.Join(opts.Credentials, "ca.pem"),
		Cert:       filepath.Join(opts.Credentials, "cert.pem"),
		Key:        filepath.Join(opts.Credentials, "key.pem"),
		CRL:        crlPath,
		crlDefault: crlDefault,
	}, plugin)
	if err != nil {
		return nil, fmt.Errorf("corral client: credentials %s: %w", opts.Credentials, err)
	}
	creds := credentials.NewTLS(config)
	if revoked != nil {
		creds = revoked.watched(creds)
	}
	options := append([]grpc.DialOption{grpc.WithTransportCredentials(creds)}, DialOptions(opts)...)
	return grpc.NewClient(target(plugin, opts), append(options, opts.DialOptions...)...)
}

// DialOptions are the options Connect uses besides the credentials:
// message limits, the retry policy, keepalive and the reconnect backoff.
// For a client built otherwise, with [PluginTLS] for instance.
func DialOptions(opts Options) []grpc.DialOption {
	size := opts.MaxMessageSize
	if size <= 0 {
		size = defaultMaxMessageSize
	}
	options := []grpc.DialOption{
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(size), grpc.MaxCallSendMsgSize(size)),
		// A connection that stops answering (its process stopped, say) fails
		// its calls within 35 s, not at their deadlines. (gRPC-Go pings no
		// more often than every 10 s; the Node client, every 2 s.)
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: 30 * time.Second, Timeout: 5 * time.Second}),
		// A refused connect to the stable address means a plugin just
		// died: for the few milliseconds until the supervisor sees it, the
		// address still leads to its closed socket. gRPC's default wait
		// before the next try (1 s, then 1.6 s, ... up to 2 min) would fail
		// every call for that long after the plugin is back; tries are
		// cheap on a local socket.
		//
		// A connection attempt (connect and TLS handshake) is bounded at 5 s:
		// a plugin's handshake takes milliseconds, and a frozen plugin's
		// socket takes the connect into its backlog and never answers, where
		// a call retried after a keepalive failure waited 20 s more.
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: time.Second},
			MinConnectTimeout: 5 * time.Second,
		}),
		// A retried call's last send on a closed stream (eof.go); a
		// connection refused for the application's certificate (refused.go).
		grpc.WithChainUnaryInterceptor(unaryRefused, unaryEOF),
		grpc.WithChainStreamInterceptor(streamRefused, streamEOF),
	}
	attempts := opts.MaxAttempts
	if attempts == 0 {
		attempts = defaultMaxAttempts
	}
	if attempts > 1 {
		options = append(options, grpc.WithDefaultServiceConfig(retryPolicy(min(attempts, 5))))
	} else {
		options = append(options, grpc.WithDisableRetry())
	}
	return options
}

// retryPolicy is a service config retrying every method on UNAVAILABLE,
// as the Node client library's does.
func retryPolicy(attempts int) string {
	return fmt.Sprintf(`{"methodConfig": [{"name": [{}], "retryPolicy": {
		"maxAttempts": %d, "initialBackoff": "0.05s", "maxBackoff": "0.5s", "backoffMultiplier": 2,
		"retryableStatusCodes": ["UNAVAILABLE"]}}]}`, attempts)
}

// crlFile is the revocation list Connect checks plugins against
// (Options.CRL), if any, and whether it is the default one.
func crlFile(opts Options) (path string, isDefault bool) {
	switch opts.CRL {
	case "-":
		return "", false
	case "":
		if own := filepath.Join(opts.Credentials, "crl.pem"); fileExists(own) {
			return own, false
		}
		return filepath.Join(publishingDir(opts), "crl.pem"), true
	}
	return opts.CRL, false
}

// publishingDir is the runtime directory whose crl.pem is the default list:
// RuntimeDir, or the one a stable address under it names, or the default.
func publishingDir(opts Options) string {
	if opts.RuntimeDir != "" {
		return opts.RuntimeDir
	}
	if dir := filepath.Dir(opts.Address); filepath.Base(dir) == "plugins" && strings.HasSuffix(opts.Address, ".sock") {
		if abs, err := filepath.Abs(filepath.Dir(dir)); err == nil {
			return abs
		}
	}
	return defaultRuntimeDir
}

func fileExists(name string) bool {
	_, err := os.Stat(name)
	return err == nil
}

func runtimeDir(opts Options) string {
	if opts.RuntimeDir == "" {
		return defaultRuntimeDir
	}
	return opts.RuntimeDir
}

// target is the gRPC target of the plugin's stable address.
func target(plugin string, opts Options) string {
	address := opts.Address
	if address == "" {
		address = filepath.Join(runtimeDir(opts), "plugins", plugin+".sock")
	}
	// A path has a slash or names a socket; host:port (IPv6 in brackets
	// too) has neither. A relative path is made absolute: gRPC would take
	// it for a host name.
	if strings.Contains(address, "/") || strings.HasSuffix(address, ".sock") {
		if abs, err := filepath.Abs(address); err == nil {
			address = abs
		}
		return "unix://" + address
	}
	return "passthrough:///" + address
}
