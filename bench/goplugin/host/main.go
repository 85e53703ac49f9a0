// Command host is the Go host of the go-plugin comparison benchmark
// (`npm run bench -- goplugin`, bench/goplugin.ts). It measures, in one of
// four modes, printing one JSON object to stdout:
//
// goplugin-start: -starts times, the time a go-plugin host takes from
// asking for a plugin to the reply of its first call: plugin.NewClient,
// Client() (launches the plugin process, reads its handshake line, dials
// its socket), Dispense and one Echo/Unary. Kill() afterwards, untimed.
//
//	{"samples": [{"totalMs": 21.3, "launchMs": 18.1, "firstCallMs": 3.2}, ...]}
//
// launchMs is NewClient+Client(), firstCallMs is Dispense and the call
// (which opens go-plugin's gRPC connection).
//
// goplugin-load: starts the plugin once (untimed), then calls Echo/Unary
// from -concurrency workers on go-plugin's single gRPC connection, the
// way bench/loadgen calls Corral's stable address: the same code
// (bench/loadgen/load), so the same warm-up, measured window, payload,
// counting and report.
//
// corral-start: -starts times, on a Corral supervisor whose plugin
// -plugin is running: the admin Stop RPC (untimed), then the time from the
// admin Start RPC (which returns once the new instance is ready: the
// supervisor has issued its certificate, launched it in its sandbox, seen
// it ready over mTLS and pointed the stable address at it) to the reply of
// the first Echo/Unary on a new mTLS connection to the stable address.
// launchMs is the Start RPC, firstCallMs the call. Then, on the instance
// just started and after the same pause each, the two parts of a start
// that launch nothing: an admin call (Version, the lightest; adminRpcMs)
// and a new mTLS connection to the stable address with one call
// (warmFirstCallMs).
//
// With -automtls, the go-plugin modes turn on go-plugin's AutoMTLS (a
// certificate generated per client and per plugin process); go-plugin's
// default is plain gRPC on a Unix socket.
package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/corralhq/corral/bench/goplugin/shared"
	"github.com/corralhq/corral/bench/loadgen/load"
	"github.com/corralhq/corral/go-shim/client"
	adminv1 "github.com/corralhq/corral/proto/gen/go/corral/admin/v1"
	echov1 "github.com/corralhq/corral/test/plugins/echo/api"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("goplugin host: ")
	var (
		mode         = flag.String("mode", "", "goplugin-start, goplugin-load or corral-start")
		pluginBinary = flag.String("plugin-binary", "", "go-plugin modes: the go-plugin echo plugin")
		autoMTLS     = flag.Bool("automtls", false, "go-plugin modes: turn on go-plugin's AutoMTLS")
		starts       = flag.Int("starts", 5, "start modes: how many starts to time")
		pause        = flag.Duration("pause", 250*time.Millisecond, "start modes: pause before each start")
		concurrency  = flag.Int("concurrency", 1, "goplugin-load: workers, each making one call at a time")
		duration     = flag.Duration("duration", 5*time.Second, "goplugin-load: how long to measure")
		warmup       = flag.Duration("warmup", time.Second, "goplugin-load: how long to call before measuring")
		payload      = flag.Int("payload", 64, "bytes of payload each way per call")
		timeout      = flag.Duration("timeout", 10*time.Second, "deadline of each call")
		samples      = flag.String("latencies", "", "goplugin-load: also write every latency (µs) to this file, one a line")
		adminSocket  = flag.String("admin-socket", "", "corral-start: the supervisor's admin socket")
		adminCreds   = flag.String("admin-credentials", "", "corral-start: directory of the admin ca.pem, cert.pem, key.pem")
		target       = flag.String("target", "", "corral-start: the plugin's stable address")
		caFile       = flag.String("ca", "", "corral-start: the CA of the client certificate")
		certFile     = flag.String("cert", "", "corral-start: the client certificate")
		keyFile      = flag.String("key", "", "corral-start: its key")
		crlFile      = flag.String("crl", "", "corral-start: the CA's revocation list (optional)")
		pluginName   = flag.String("plugin", "echo", "corral-start: the plugin")
	)
	flag.Parse()
	req := &echov1.EchoRequest{Message: "loadgen", ReplySize: uint32(*payload), Payload: make([]byte, *payload)}

	var out any
	switch *mode {
	case "goplugin-start":
		if *pluginBinary == "" {
			log.Fatal("-plugin-binary is required")
		}
		var all []startSample
		for range *starts {
			time.Sleep(*pause)
			s, err := goPluginStart(*pluginBinary, *autoMTLS, req, *timeout)
			if err != nil {
				log.Fatal(err)
			}
			all = append(all, s)
		}
		out = map[string]any{"samples": all}
	case "goplugin-load":
		if *pluginBinary == "" {
			log.Fatal("-plugin-binary is required")
		}
		gp := newGoPluginClient(*pluginBinary, *autoMTLS)
		defer gp.Kill()
		echo, err := dispense(gp)
		if err != nil {
			log.Fatal(err)
		}
		// One connection, as go-plugin gives: every worker calls on it.
		call := func(ctx context.Context) error {
			_, err := echo.Unary(ctx, req)
			return err
		}
		tallies, err := load.Generate(func(int) (load.Call, error) { return call, nil }, *concurrency, *warmup, *duration, *timeout)
		if err != nil {
			log.Fatal(err)
		}
		if *samples != "" {
			if err := load.WriteLatencies(*samples, tallies); err != nil {
				log.Fatal(err)
			}
		}
		out = load.Summarize(tallies, *duration)
	case "corral-start":
		if *adminSocket == "" || *adminCreds == "" || *target == "" || *caFile == "" || *certFile == "" || *keyFile == "" {
			log.Fatal("-admin-socket, -admin-credentials, -target, -ca, -cert and -key are required")
		}
		all, err := corralStarts(*adminSocket, *adminCreds, *target, client.TLSFiles{CA: *caFile, Cert: *certFile, Key: *keyFile, CRL: *crlFile}, *pluginName, *starts, *pause, req, *timeout)
		if err != nil {
			log.Fatal(err)
		}
		out = map[string]any{"samples": all}
	default:
		log.Fatalf("unknown -mode %q: want goplugin-start, goplugin-load or corral-start", *mode)
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		log.Fatal(err)
	}
}

type startSample struct {
	TotalMs     float64 `json:"totalMs"`
	LaunchMs    float64 `json:"launchMs"`
	FirstCallMs float64 `json:"firstCallMs"`
	// corral-start only.
	AdminRPCMs      float64 `json:"adminRpcMs,omitempty"`
	WarmFirstCallMs float64 `json:"warmFirstCallMs,omitempty"`
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/float64(time.Microsecond)) / 1000 }

// newGoPluginClient is a go-plugin client of the echo plugin at binary, as
// a host application would make it: gRPC only, a logger at info level
// (go-plugin's default logs at trace level to stderr; a host would not).
//
// The plugin is killed when the host ends, however it ends: a go-plugin
// plugin does not watch its parent, and a host ended by a signal or by
// log.Fatal runs no deferred Kill, which left plugins running.
func newGoPluginClient(binary string, autoMTLS bool) *plugin.Client {
	cmd := exec.Command(binary)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  shared.Handshake,
		Plugins:          shared.Plugins(nil),
		Cmd:              cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         autoMTLS,
		Logger:           hclog.New(&hclog.LoggerOptions{Name: "plugin", Output: io.Discard, Level: hclog.Info}),
	})
}

// dispense launches the plugin (if not yet) and returns its Echo client.
func dispense(gp *plugin.Client) (echov1.EchoClient, error) {
	rpc, err := gp.Client()
	if err != nil {
		return nil, err
	}
	raw, err := rpc.Dispense("echo")
	if err != nil {
		return nil, err
	}
	return raw.(echov1.EchoClient), nil
}

func goPluginStart(binary string, autoMTLS bool, req *echov1.EchoRequest, timeout time.Duration) (startSample, error) {
	t0 := time.Now()
	gp := newGoPluginClient(binary, autoMTLS)
	defer gp.Kill()
	rpc, err := gp.Client()
	if err != nil {
		return startSample{}, err
	}
	t1 := time.Now()
	raw, err := rpc.Dispense("echo")
	if err != nil {
		return startSample{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if _, err := raw.(echov1.EchoClient).Unary(ctx, req); err != nil {
		return startSample{}, fmt.Errorf("first call: %w", err)
	}
	t2 := time.Now()
	return startSample{TotalMs: ms(t2.Sub(t0)), LaunchMs: ms(t1.Sub(t0)), FirstCallMs: ms(t2.Sub(t1))}, nil
}

// corralStarts stops and starts the plugin through the admin API, timing
// each Start and the first call after it on a new connection.
func corralStarts(adminSocket, adminCreds, target string, files client.TLSFiles, pluginName string, starts int, pause time.Duration, req *echov1.EchoRequest, timeout time.Duration) ([]startSample, error) {
	adminTLS, err := client.SupervisorTLS(filepath.Join(adminCreds, "ca.pem"), filepath.Join(adminCreds, "cert.pem"), filepath.Join(adminCreds, "key.pem"))
	if err != nil {
		return nil, err
	}
	adminConn, err := grpc.NewClient("unix://"+adminSocket, grpc.WithTransportCredentials(credentials.NewTLS(adminTLS)))
	if err != nil {
		return nil, err
	}
	defer adminConn.Close()
	admin := adminv1.NewAdminClient(adminConn)
	pluginTLS, err := client.PluginTLS(files, pluginName)
	if err != nil {
		return nil, err
	}
	rpc := func(call func(context.Context, *adminv1.PluginRequest, ...grpc.CallOption) (*adminv1.PluginStatus, error)) (*adminv1.PluginStatus, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		return call(ctx, &adminv1.PluginRequest{Plugin: pluginName})
	}

	var all []startSample
	for range starts {
		if s, err := rpc(admin.Stop); err != nil {
			return nil, fmt.Errorf("stop: %w", err)
		} else if s.GetState() != "stopped" {
			return nil, fmt.Errorf("stop: the plugin is %s", s.GetState())
		}
		time.Sleep(pause)

		t0 := time.Now()
		s, err := rpc(admin.Start)
		if err != nil {
			return nil, fmt.Errorf("start: %w", err)
		}
		if s.GetState() != "ready" {
			return nil, fmt.Errorf("start: the plugin is %s: %s", s.GetState(), s.GetReason())
		}
		t1 := time.Now()
		if err := callOnNewConnection(target, pluginTLS, req, timeout); err != nil {
			return nil, fmt.Errorf("first call: %w", err)
		}
		t2 := time.Now()
		sample := startSample{TotalMs: ms(t2.Sub(t0)), LaunchMs: ms(t1.Sub(t0)), FirstCallMs: ms(t2.Sub(t1))}

		time.Sleep(pause)
		t3 := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		_, err = admin.Version(ctx, &adminv1.VersionRequest{})
		cancel()
		if err != nil {
			return nil, fmt.Errorf("version: %w", err)
		}
		sample.AdminRPCMs = ms(time.Since(t3))

		time.Sleep(pause)
		t4 := time.Now()
		if err := callOnNewConnection(target, pluginTLS, req, timeout); err != nil {
			return nil, fmt.Errorf("call to the running instance: %w", err)
		}
		sample.WarmFirstCallMs = ms(time.Since(t4))
		all = append(all, sample)
	}
	return all, nil
}

// callOnNewConnection makes one Echo/Unary on a new mTLS connection to
// target, and closes it.
func callOnNewConnection(target string, pluginTLS *tls.Config, req *echov1.EchoRequest, timeout time.Duration) error {
	conn, err := grpc.NewClient("unix://"+target, grpc.WithTransportCredentials(credentials.NewTLS(pluginTLS)))
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	_, err = echov1.NewEchoClient(conn).Unary(ctx, req)
	return err
}
