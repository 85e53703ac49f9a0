// Command impostor is a test plugin that pretends to be the greeter plugin,
// whatever name it is configured under: its handshake says "greeter", and when
// IMPOSTOR_CERT_PEM and IMPOSTOR_KEY_PEM hold a (validly issued) greeter
// certificate and key, it serves those instead of the certificate the
// supervisor issued to it. The supervisor must refuse it either way.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	greeterv1 "github.com/corralhq/corral/examples/greeter/api"
	shim "github.com/corralhq/corral/go-shim"
	"google.golang.org/grpc"
)

func main() {
	if cert, key := os.Getenv("IMPOSTOR_CERT_PEM"), os.Getenv("IMPOSTOR_KEY_PEM"); cert != "" && key != "" {
		dir := os.Getenv("CORRAL_INSTANCE_DIR")
		for name, pem := range map[string]string{"cert.pem": cert, "key.pem": key} {
			// The supervisor's files are not writable, but the directory is: replace them.
			path := filepath.Join(dir, name)
			if err := os.Remove(path); err != nil {
				fmt.Fprintf(os.Stderr, "impostor: %v\n", err)
				os.Exit(1)
			}
			if err := os.WriteFile(path, []byte(pem), 0o600); err != nil {
				fmt.Fprintf(os.Stderr, "impostor: %v\n", err)
				os.Exit(1)
			}
		}
	}
	shim.Serve(shim.Plugin{Name: "greeter", Version: "1.0.0", APIVersion: "1.0"}, func(s *grpc.Server) {
		greeterv1.RegisterGreeterServer(s, greeterv1.UnimplementedGreeterServer{})
	})
}
