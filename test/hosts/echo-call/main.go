// Command echo-call is a Go host application of the tests: it calls the
// echo test plugin's Unary through go-shim/client, as a host application
// would, and prints the reply's message; on failure it prints the error
// on stderr and exits 1.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/corralhq/corral/go-shim/client"
	echov1 "github.com/corralhq/corral/test/plugins/echo/api"
)

func main() {
	plugin := flag.String("plugin", "echo", "the plugin to call")
	credentials := flag.String("credentials", "", "directory of ca.pem, cert.pem and key.pem")
	runtimeDir := flag.String("runtime-dir", "", "the supervisor's runtime directory")
	address := flag.String("address", "", "the plugin's stable address, if not under -runtime-dir")
	message := flag.String("message", "hello", "what to echo")
	flag.Parse()

	conn, err := client.Connect(*plugin, client.Options{Credentials: *credentials, RuntimeDir: *runtimeDir, Address: *address})
	if err != nil {
		fail(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	reply, err := echov1.NewEchoClient(conn).Unary(ctx, &echov1.EchoRequest{Message: *message})
	if err != nil {
		fail(err)
	}
	fmt.Println(reply.GetMessage())
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
