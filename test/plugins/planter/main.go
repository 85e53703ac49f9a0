// Command planter is a test plugin that uses what a plugin owns, its
// instance directory (/corral inside), to try to make the supervisor, which
// is root on the host, write or connect where the plugin points. The
// symlinks it plants name host paths under PLANT_TARGET, which the plugin
// itself cannot see:
//
//   - key.pem.tmp, cert.pem.tmp and crl.pem.tmp (where a renewal or a CRL
//     publication was once written before its rename), and crl.pem itself,
//     each to PLANT_TARGET/<name>-target;
//   - once /corral/plant-data appears, data.sock, in the place of its own
//     data socket (renamed data-real.sock, where it still serves), to
//     PLANT_TARGET/victim.sock, for host applications dialing the stable
//     address, and the TCP relay, to follow ("planted data");
//   - once /corral/plant-control appears, plugin.sock, its instance socket
//     (renamed plugin-real.sock), to PLANT_TARGET/victim.sock, for the
//     supervisor's next Control connection to follow ("planted control").
//
// It also copies its own binary to /corral/tool, setuid and setgid: a host
// user who ran it there would become the plugin's uid ("planter whoami"
// prints the effective ids it runs with).
//
// It prints "planted" once the files are in place.
//
// With PLANT_DEEP set it plants something else: directories nested deeper
// than PATH_MAX (20 names of 250 bytes) with a file at the bottom and a
// symlink there to PLANT_TARGET, for the supervisor's removal of the
// directory to follow; it prints "planted deep".
package main

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	shim "github.com/corralhq/corral/go-shim"
	"google.golang.org/grpc"
)

const dir = "/corral"

func main() {
	if len(os.Args) == 2 && os.Args[1] == "whoami" {
		fmt.Printf("%d:%d\n", os.Geteuid(), os.Getegid())
		return
	}
	if os.Getenv("PLANT_DEEP") != "" {
		go plantDeep(os.Getenv("PLANT_TARGET"))
	} else {
		go plant(os.Getenv("PLANT_TARGET"))
	}
	shim.Serve(shim.Plugin{Name: cmp.Or(os.Getenv("CORRAL_PLUGIN"), "planter"), Version: "0.0.0", APIVersion: "1.0"}, func(*grpc.Server) {})
}

func plant(target string) {
	self, err := os.ReadFile("/proc/self/exe")
	must(err)
	tool := filepath.Join(dir, "tool")
	must(os.WriteFile(tool, self, 0o755))
	must(os.Chmod(tool, 0o755|os.ModeSetuid|os.ModeSetgid))
	for _, name := range []string{"key.pem", "cert.pem", "crl.pem"} {
		must(os.Symlink(filepath.Join(target, name+"-target"), filepath.Join(dir, name+".tmp")))
	}
	must(os.Remove(filepath.Join(dir, "crl.pem")))
	must(os.Symlink(filepath.Join(target, "crl.pem-target"), filepath.Join(dir, "crl.pem")))
	fmt.Println("planted")

	// Each once told (the file plant-data or plant-control appears, put
	// there by the test once the instance is ready), in either order: its
	// data socket, which the stable address has led to since, and its
	// instance socket, for the supervisor's next Control connection (after
	// a certificate rotation).
	sockets := map[string]string{"plant-data": "data.sock", "plant-control": "plugin.sock"}
	for len(sockets) > 0 {
		for told, socket := range sockets {
			if _, err := os.Lstat(filepath.Join(dir, told)); err != nil {
				continue
			}
			name := filepath.Join(dir, socket)
			must(os.Rename(name, filepath.Join(dir, strings.TrimSuffix(socket, ".sock")+"-real.sock")))
			must(os.Symlink(filepath.Join(target, "victim.sock"), name))
			fmt.Println("planted " + strings.TrimSuffix(strings.TrimPrefix(told, "plant-"), ".sock"))
			delete(sockets, told)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func plantDeep(target string) {
	// Relative to the working directory, as no path can name the bottom.
	must(os.Chdir(dir))
	name := strings.Repeat("d", 250)
	for range 20 {
		must(os.Mkdir(name, 0o755))
		must(os.Chdir(name))
	}
	must(os.WriteFile("payload", []byte("at the bottom\n"), 0o644))
	must(os.Symlink(target, "host"))
	fmt.Println("planted deep")
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "planter:", err)
		os.Exit(1)
	}
}
