package shim

import (
	"context"
	"crypto/tls"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/corralhq/corral/go-shim/client"
	"github.com/corralhq/corral/go-shim/internal/crl"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// hostCredentials writes what `corralctl certs issue --role client
// --plugin greeter --out DIR` writes, of in's CA, into a new directory.
func hostCredentials(t *testing.T, in *instance) string {
	t.Helper()
	dir := t.TempDir()
	l := in.ca.issue(t, leafSpec{uris: []string{"spiffe://corral.test/client/web"}, scope: []string{"greeter"}})
	for name, data := range map[string][]byte{"ca.pem": in.ca.pem, "cert.pem": l.certPEM, "key.pem": l.keyPEM} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestClientRefusesARevokedPlugin checks that a host application refuses a
// plugin whose certificate the CA's revocation list revokes: the list the
// supervisor publishes in its runtime directory by default, or the one in
// the application's credentials directory, read again when it changes.
func TestClientRefusesARevokedPlugin(t *testing.T) {
	in := startInstance(t)
	own, err := crl.ReadCertificates(filepath.Join(in.dir, "cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pluginSerial := own[0].SerialNumber
	revokedMessage := "the plugin's certificate (serial " + crl.SerialHex(pluginSerial) + ") is revoked"
	creds := hostCredentials(t, in)
	runtimeDir := t.TempDir()
	ctx := context.Background()

	call := func(step string, opts client.Options) error {
		t.Helper()
		opts.Credentials, opts.Address, opts.MaxAttempts = creds, filepath.Join(in.dir, "plugin.sock"), 1
		if opts.RuntimeDir == "" {
			opts.RuntimeDir = runtimeDir
		}
		conn, err := client.Connect("greeter", opts)
		if err != nil {
			t.Fatalf("%s: Connect: %v", step, err)
		}
		defer conn.Close()
		return sleep(ctx, conn, 0)
	}
	if err := call("no list anywhere", client.Options{}); err != nil {
		t.Fatalf("no list anywhere: %v", err)
	}

	// The supervisor publishes <runtime dir>/crl.pem.
	replaceFile(t, filepath.Join(runtimeDir, "crl.pem"), in.ca.crl(t, serial(t)))
	if err := call("a list revoking another serial", client.Options{}); err != nil {
		t.Fatalf("a list revoking another serial: %v", err)
	}
	replaceFile(t, filepath.Join(runtimeDir, "crl.pem"), in.ca.crl(t, pluginSerial))
	if err := call("the runtime directory's list revokes the plugin", client.Options{}); err == nil || !strings.Contains(err.Error(), revokedMessage) {
		t.Errorf("the runtime directory's list revokes the plugin: %v; want %q", err, revokedMessage)
	}
	if err := call("checking turned off", client.Options{CRL: "-"}); err != nil {
		t.Errorf("with CRL \"-\": %v", err)
	}
	// A copy in the credentials directory (a host on another machine) comes first.
	replaceFile(t, filepath.Join(creds, "crl.pem"), in.ca.crl(t))
	if err := call("the credentials directory's list does not revoke it", client.Options{}); err != nil {
		t.Errorf("the credentials directory's list does not revoke it: %v", err)
	}

	// One configuration, the list changing under it.
	config, err := client.PluginTLS(client.TLSFiles{
		CA: filepath.Join(creds, "ca.pem"), Cert: filepath.Join(creds, "cert.pem"), Key: filepath.Join(creds, "key.pem"),
		CRL: filepath.Join(creds, "crl.pem"),
	}, "greeter")
	if err != nil {
		t.Fatal(err)
	}
	handshake := func() error {
		conn, err := tls.Dial("unix", filepath.Join(in.dir, "plugin.sock"), config)
		if err == nil {
			conn.Close()
		}
		return err
	}
	if err := handshake(); err != nil {
		t.Fatalf("before the revocation: %v", err)
	}
	replaceFile(t, filepath.Join(creds, "crl.pem"), in.ca.crl(t, pluginSerial))
	if err := handshake(); err == nil || !strings.Contains(err.Error(), revokedMessage) {
		t.Errorf("after the list in place revoked the plugin: %v; want %q", err, revokedMessage)
	}
	// An older list of the CA, served again, leaves the one in force (it would lift the revocation).
	replaceFile(t, filepath.Join(creds, "crl.pem"), in.ca.numberedCRL(t, 1))
	if err := handshake(); err == nil || !strings.Contains(err.Error(), revokedMessage) {
		t.Errorf("after an older list of the CA: %v; want the revocation kept", err)
	}
	// A list that does not verify leaves the one in force.
	replaceFile(t, filepath.Join(creds, "crl.pem"), newTestCA(t, "another CA").crl(t))
	if err := handshake(); err == nil || !strings.Contains(err.Error(), revokedMessage) {
		t.Errorf("after a list of another CA: %v; want the revocation kept", err)
	}

	// ... and is refused when it is there from the start.
	_, err = client.Connect("greeter", client.Options{Credentials: creds, RuntimeDir: runtimeDir})
	if err == nil || !strings.Contains(err.Error(), "revocation list: "+filepath.Join(creds, "crl.pem")+" is not signed by the CA of "+filepath.Join(creds, "ca.pem")) {
		t.Errorf("Connect with a list of another CA: %v", err)
	}
}

// TestClientClosesARevokedPluginsConnection checks that a connection made
// before the list revoked its plugin's certificate is closed within a look
// at the list, and that the next call is refused.
func TestClientClosesARevokedPluginsConnection(t *testing.T) {
	in := startInstance(t)
	own, err := crl.ReadCertificates(filepath.Join(in.dir, "cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	runtimeDir := t.TempDir()
	conn, err := client.Connect("greeter", client.Options{Credentials: hostCredentials(t, in), Address: filepath.Join(in.dir, "plugin.sock"), RuntimeDir: runtimeDir, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := context.Background()
	if err := sleep(ctx, conn, 0); err != nil {
		t.Fatalf("before the revocation: %v", err)
	}
	replaceFile(t, filepath.Join(runtimeDir, "crl.pem"), in.ca.crl(t, own[0].SerialNumber))
	revokedAt := time.Now()
	for sleep(ctx, conn, 0) == nil {
		if time.Since(revokedAt) > 3*time.Second {
			t.Fatal("the connection made before the revocation still serves after 3 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	took := time.Since(revokedAt)
	if err := sleep(ctx, conn, 0); err == nil || !strings.Contains(err.Error(), "the plugin's certificate (serial "+crl.SerialHex(own[0].SerialNumber)+") is revoked") {
		t.Errorf("the next call: %v, want it refused naming the revocation", err)
	}
	t.Logf("closed %v after the revocation", took)
}

// TestClientBoundsTheHandshake checks that a connection attempt to a socket
// that takes the connect into its backlog and never answers (a frozen
// plugin's) fails within the client's 5 s bound: the call fails
// UNAVAILABLE before its 15 s deadline, rather than waiting it out.
func TestClientBoundsTheHandshake(t *testing.T) {
	in := newInstance(t)
	socket := filepath.Join(in.dir, "frozen.sock")
	frozen, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	defer frozen.Close() // never accepts
	conn, err := client.Connect("greeter", client.Options{Credentials: hostCredentials(t, in), Address: socket, CRL: "-", MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	start := time.Now()
	err = sleep(ctx, conn, 0)
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("a call to a socket that never answers: %v after %v, want Unavailable within the handshake bound", err, time.Since(start))
	}
	t.Logf("failed after %v: %v", time.Since(start), err)
}
