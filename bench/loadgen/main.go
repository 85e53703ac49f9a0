// Command loadgen is the load generator of `npm run bench -- dataplane`.
//
// In its default mode, grpc, it calls corral.test.echo.v1.Echo/Unary of the
// echo test plugin (test/plugins/echo) over mTLS, as a host application
// would: from -concurrency workers, each making one call after another on a
// single shared grpc.ClientConn (gRPC multiplexes the calls on it).
//
//	loadgen -target /run/corral/plugins/echo.sock -plugin echo \
//		-ca ca.pem -cert cert.pem -key key.pem -concurrency 64 -duration 5s
//
// The target is a Unix socket path (anything starting with "/") or a
// host:port. The server is accepted only if its certificate chains to -ca
// and its only URI SAN is spiffe://<trust-domain>/plugin/<-plugin>, where
// the trust domain is that of the client's own certificate, the way the
// Node client library (client/index.ts) checks it; the host name is not
// checked, since the identity is the URI SAN.
//
// Mode raw measures the floor under any of that: a Unix-socket echo with
// neither TLS nor gRPC. Mode rawserver listens on -target and echoes every
// -payload bytes it reads back to the writer; mode raw connects to it, one
// connection per worker (there is no multiplexing without a protocol), and
// each worker writes a frame of -payload bytes and reads the echo, one
// after another.
//
//	loadgen -mode rawserver -target /tmp/floor.sock -payload 64 &
//	loadgen -mode raw -target /tmp/floor.sock -payload 64 -concurrency 64
//
// The client modes print one JSON object to stdout:
//
//	{"calls": 1234, "failed": 0, "failures": {}, "durationMs": 5000,
//	 "throughput": 246.8, "latencyUs": {"min": 120, "p50": 180, "p90": 240, "p95": 290,
//	 "p99": 410, "max": 2100}}
//
// Calls are counted if they started in the measured window, which follows
// -warmup; those still in flight at its end are waited for. Latencies are
// of the calls that succeeded; failures are counted by gRPC code and
// message (the first 10 distinct ones are listed), and throughput is calls
// that succeeded per second of the window. With -latencies FILE, the
// latency of every call that succeeded is also written to FILE, so that
// several runs can be summarized as one.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"net"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	echov1 "github.com/corralhq/corral/test/plugins/echo/api"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
)

// maxFailureKinds is how many distinct failures the report lists.
const maxFailureKinds = 10

// oidPluginID identifies the plugin-ID extension of plugin certificates
// (docs/internals.md, "Identities"): a DER UTF8String naming the plugin.
var oidPluginID = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 61734, 1, 1}

var (
	mode          = flag.String("mode", "grpc", "grpc (Echo/Unary over mTLS), raw (the Unix-socket echo floor) or rawserver (its server)")
	target        = flag.String("target", "", "Unix socket path, or host:port (grpc mode only)")
	caFile        = flag.String("ca", "", "PEM file of the CA the server's certificate must chain to")
	certFile      = flag.String("cert", "", "PEM file of the client certificate")
	keyFile       = flag.String("key", "", "PEM file of the client certificate's key")
	plugin        = flag.String("plugin", "", "the plugin the server's certificate must name")
	concurrency   = flag.Int("concurrency", 1, "workers, each making one call at a time")
	duration      = flag.Duration("duration", 5*time.Second, "how long to measure")
	warmup        = flag.Duration("warmup", time.Second, "how long to call before measuring")
	payload       = flag.Int("payload", 64, "bytes of payload each way per call (raw: the frame size, at least 1)")
	timeout       = flag.Duration("timeout", 10*time.Second, "deadline of each call")
	latenciesFile = flag.String("latencies", "", "if set, also write the latency of every call that succeeded to this file, in µs, one a line")
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("loadgen: ")
	flag.Parse()
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	if *target == "" {
		return errors.New("-target is required")
	}
	if *concurrency < 1 || *duration <= 0 || *warmup < 0 || *payload < 0 {
		return errors.New("-concurrency must be at least 1, -duration positive, -warmup and -payload not negative")
	}

	var newCall func(worker int) (func(ctx context.Context) error, error)
	switch *mode {
	case "rawserver":
		return rawServe(*target, max(*payload, 1))
	case "raw":
		newCall = rawCaller(*target, max(*payload, 1))
	case "grpc":
		if *caFile == "" || *certFile == "" || *keyFile == "" || *plugin == "" {
			return errors.New("-ca, -cert, -key and -plugin are required in grpc mode")
		}
		config, err := clientTLS(*caFile, *certFile, *keyFile, *plugin)
		if err != nil {
			return err
		}
		conn, err := grpc.NewClient(grpcTarget(*target), grpc.WithTransportCredentials(credentials.NewTLS(config)))
		if err != nil {
			return err
		}
		defer conn.Close()
		client := echov1.NewEchoClient(conn)
		req := &echov1.EchoRequest{Message: "loadgen", ReplySize: uint32(*payload), Payload: make([]byte, *payload)}
		newCall = func(int) (func(ctx context.Context) error, error) {
			return func(ctx context.Context) error {
				_, err := client.Unary(ctx, req)
				return err
			}, nil
		}
	default:
		return fmt.Errorf("unknown -mode %q: want grpc, raw or rawserver", *mode)
	}

	tallies, err := generate(newCall, *concurrency, *warmup, *duration, *timeout)
	if err != nil {
		return err
	}
	if *latenciesFile != "" {
		if err := writeLatencies(*latenciesFile, tallies); err != nil {
			return err
		}
	}
	return json.NewEncoder(os.Stdout).Encode(summarize(tallies, *duration))
}

// grpcTarget is the gRPC target of a Unix socket path or a host:port.
func grpcTarget(target string) string {
	if strings.HasPrefix(target, "/") {
		return "unix://" + target
	}
	return "passthrough:///" + target
}

// clientTLS returns the TLS configuration of a client presenting the
// certificate of certFile and keyFile, which accepts a server only if its
// certificate chains to the CA of caFile, may authenticate a TLS server, and
// identifies plugin in the client certificate's own trust domain.
func clientTLS(caFile, certFile, keyFile, plugin string) (*tls.Config, error) {
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("%s: no certificate", caFile)
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	if len(cert.Leaf.URIs) != 1 || cert.Leaf.URIs[0].Scheme != "spiffe" || cert.Leaf.URIs[0].Host == "" {
		return nil, fmt.Errorf("%s: the client certificate must have exactly one URI SAN, spiffe://<trust-domain>/...", certFile)
	}
	want := "spiffe://" + cert.Leaf.URIs[0].Host + "/plugin/" + plugin

	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cert},
		// Only sent, as SNI: the server's identity is its URI SAN, which
		// the standard verification, bound to a host name, cannot check.
		// So it is turned off here and done in full by VerifyConnection,
		// which runs in every handshake, resumed ones included.
		ServerName:         plugin + ".corral.invalid",
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("the server presented no certificate")
			}
			leaf := cs.PeerCertificates[0]
			intermediates := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				intermediates.AddCert(c)
			}
			_, err := leaf.Verify(x509.VerifyOptions{
				Roots:         roots,
				Intermediates: intermediates,
				KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			})
			if err != nil {
				return err
			}
			return checkPluginIdentity(leaf, want, plugin)
		},
	}, nil
}

// checkPluginIdentity reports whether a verified server certificate is
// that of plugin: its only URI SAN is want, and its plugin-ID extension
// names plugin.
func checkPluginIdentity(cert *x509.Certificate, want, plugin string) error {
	if len(cert.URIs) != 1 || cert.URIs[0].String() != want {
		uris := make([]string, len(cert.URIs))
		for i, u := range cert.URIs {
			uris[i] = u.String()
		}
		return fmt.Errorf("the server's certificate has URI SANs %q, want exactly %q", uris, want)
	}
	for _, ext := range cert.Extensions {
		if !ext.Id.Equal(oidPluginID) {
			continue
		}
		var id string
		rest, err := asn1.UnmarshalWithParams(ext.Value, &id, "utf8")
		if err != nil || len(rest) > 0 {
			return fmt.Errorf("the server's certificate has a malformed plugin-ID extension")
		}
		if id != plugin {
			return fmt.Errorf("the server's certificate names plugin %q in its plugin-ID extension, want %q", id, plugin)
		}
		return nil
	}
	return errors.New("the server's certificate has no plugin-ID extension")
}

// rawServe listens on the Unix socket path and, on every connection, reads
// frames of size bytes and writes each back, until SIGINT or SIGTERM.
func rawServe(path string, size int) error {
	ln, err := net.Listen("unix", path)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		ln.Close() // also removes the socket file
	}()
	fmt.Printf("listening on %s\n", path)
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		go func() {
			defer conn.Close()
			frame := make([]byte, size)
			for {
				if _, err := io.ReadFull(conn, frame); err != nil {
					return
				}
				if _, err := conn.Write(frame); err != nil {
					return
				}
			}
		}()
	}
}

// rawCaller returns, for each worker, a call on a connection of its own to
// the echo server at path: write a frame of size bytes, read it back.
func rawCaller(path string, size int) func(worker int) (func(ctx context.Context) error, error) {
	return func(int) (func(ctx context.Context) error, error) {
		conn, err := net.Dial("unix", path)
		if err != nil {
			return nil, err
		}
		out := bytes.Repeat([]byte{'x'}, size)
		in := make([]byte, size)
		return func(ctx context.Context) error {
			if deadline, ok := ctx.Deadline(); ok {
				conn.SetDeadline(deadline)
			}
			if _, err := conn.Write(out); err != nil {
				return err
			}
			if _, err := io.ReadFull(conn, in); err != nil {
				return err
			}
			if !bytes.Equal(in, out) {
				return errors.New("the echo differs from the frame sent")
			}
			return nil
		}, nil
	}
}

// A report is what a run measured, as printed.
type report struct {
	Calls      int            `json:"calls"`
	Failed     int            `json:"failed"`
	Failures   map[string]int `json:"failures"`
	DurationMs float64        `json:"durationMs"`
	Throughput float64        `json:"throughput"`
	LatencyUs  latencies      `json:"latencyUs"`
}

type latencies struct {
	Min float64 `json:"min"`
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// A tally is what one worker saw in the measured window.
type tally struct {
	latencies []time.Duration // of the calls that succeeded
	failures  []error
}

// generate runs concurrency workers, each making the calls newCall returns
// for it one after another, each with the given deadline: warmup long
// without measuring, then duration long measured. It returns what each
// worker saw in the measured window.
func generate(newCall func(worker int) (func(ctx context.Context) error, error), concurrency int, warmup, duration, timeout time.Duration) ([]tally, error) {
	calls := make([]func(ctx context.Context) error, concurrency)
	for i := range calls {
		call, err := newCall(i)
		if err != nil {
			return nil, err
		}
		calls[i] = call
	}

	start := time.Now().Add(warmup)
	end := start.Add(duration)
	tallies := make([]tally, concurrency)
	var wg sync.WaitGroup
	for i, call := range calls {
		wg.Go(func() {
			t := &tallies[i]
			for {
				t0 := time.Now()
				if !t0.Before(end) {
					return
				}
				ctx, cancel := context.WithTimeout(context.Background(), timeout)
				err := call(ctx)
				elapsed := time.Since(t0)
				cancel()
				if t0.Before(start) {
					continue
				}
				if err != nil {
					t.failures = append(t.failures, err)
				} else {
					t.latencies = append(t.latencies, elapsed)
				}
			}
		})
	}
	wg.Wait()
	return tallies, nil
}

// writeLatencies writes the latencies of the tallies to the named file, in
// µs, one a line.
func writeLatencies(name string, tallies []tally) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for _, t := range tallies {
		for _, d := range t.latencies {
			w.WriteString(strconv.FormatFloat(micros(d), 'f', -1, 64))
			w.WriteByte('\n')
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// summarize merges the workers' tallies into a report.
func summarize(tallies []tally, duration time.Duration) *report {
	var all []time.Duration
	r := &report{Failures: map[string]int{}, DurationMs: float64(duration.Milliseconds())}
	for _, t := range tallies {
		all = append(all, t.latencies...)
		for _, err := range t.failures {
			r.Failed++
			key := failureKey(err)
			if _, seen := r.Failures[key]; seen || len(r.Failures) < maxFailureKinds {
				r.Failures[key]++
			}
		}
	}
	r.Calls = len(all) + r.Failed
	r.Throughput = round(float64(len(all)) / duration.Seconds())
	slices.Sort(all)
	r.LatencyUs = latencies{
		Min: micros(percentile(all, 0)),
		P50: micros(percentile(all, 0.50)),
		P90: micros(percentile(all, 0.90)),
		P95: micros(percentile(all, 0.95)),
		P99: micros(percentile(all, 0.99)),
		Max: micros(percentile(all, 1)),
	}
	return r
}

// failureKey is "<code>: <message>" of a gRPC status, or the error's text.
func failureKey(err error) string {
	if s, ok := status.FromError(err); ok {
		return fmt.Sprintf("%s: %s", s.Code(), s.Message())
	}
	return err.Error()
}

// percentile returns the q-th quantile (nearest rank) of sorted durations,
// 0 if there are none.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func micros(d time.Duration) float64 { return round(float64(d) / float64(time.Microsecond)) }

// round rounds to one decimal.
func round(v float64) float64 { return math.Round(v*10) / 10 }
