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
// that succeeded per second of the window (package load measures; bench/goplugin's
// host measures go-plugin with the same code). With -latencies FILE, the
// latency of every call that succeeded is also written to FILE, so that
// several runs can be summarized as one.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/corralhq/corral/bench/loadgen/load"
	"github.com/corralhq/corral/go-shim/client"
	echov1 "github.com/corralhq/corral/test/plugins/echo/api"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

var (
	mode          = flag.String("mode", "grpc", "grpc (Echo/Unary over mTLS), raw (the Unix-socket echo floor) or rawserver (its server)")
	target        = flag.String("target", "", "Unix socket path, or host:port (grpc mode only)")
	caFile        = flag.String("ca", "", "PEM file of the CA the server's certificate must chain to")
	certFile      = flag.String("cert", "", "PEM file of the client certificate")
	keyFile       = flag.String("key", "", "PEM file of the client certificate's key")
	crlFile       = flag.String("crl", "", "the CA's revocation list the server's certificate is checked against, as go-shim/client's Connect does (optional)")
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

	var newCall func(worker int) (load.Call, error)
	switch *mode {
	case "rawserver":
		return rawServe(*target, max(*payload, 1))
	case "raw":
		newCall = rawCaller(*target, max(*payload, 1))
	case "grpc":
		if *caFile == "" || *certFile == "" || *keyFile == "" || *plugin == "" {
			return errors.New("-ca, -cert, -key and -plugin are required in grpc mode")
		}
		config, err := client.PluginTLS(client.TLSFiles{CA: *caFile, Cert: *certFile, Key: *keyFile, CRL: *crlFile}, *plugin)
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
		newCall = func(int) (load.Call, error) {
			return func(ctx context.Context) error {
				_, err := client.Unary(ctx, req)
				return err
			}, nil
		}
	default:
		return fmt.Errorf("unknown -mode %q: want grpc, raw or rawserver", *mode)
	}

	tallies, err := load.Generate(newCall, *concurrency, *warmup, *duration, *timeout)
	if err != nil {
		return err
	}
	if *latenciesFile != "" {
		if err := load.WriteLatencies(*latenciesFile, tallies); err != nil {
			return err
		}
	}
	return json.NewEncoder(os.Stdout).Encode(load.Summarize(tallies, *duration))
}

// grpcTarget is the gRPC target of a Unix socket path or a host:port.
func grpcTarget(target string) string {
	if strings.HasPrefix(target, "/") {
		return "unix://" + target
	}
	return "passthrough:///" + target
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
func rawCaller(path string, size int) func(worker int) (load.Call, error) {
	return func(int) (load.Call, error) {
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
