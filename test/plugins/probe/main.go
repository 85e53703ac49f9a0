// Command probe is a test plugin for the sandbox tests: each subcommand
// shows one behaviour of the sandbox from the inside.
//
//	probe sleep         sleep until SIGTERM, then print "got SIGTERM" and exit 7
//	probe exit N        exit with status N
//	probe crash-signal  die by SIGSEGV
//	probe orphan        leave a sleeping grandchild orphaned, print "orphaned", sleep
//	probe print         print what the sandbox looks like from inside, as JSON
//	probe cat           copy stdin to stdout until EOF (corral sandbox attaches stdin)
//	probe symlink-socket TARGET  put a symlink to TARGET where the plugin's socket is
//	                    ($CORRAL_SOCKET, else /corral/plugin.sock), then sleep
//	probe inotify-room  make inotify instances until refused, print how many and the error, exit
//	                    (also run on the host, as a sandbox's uid, to see what the kernel left it)
//
// and those in hardening.go.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"syscall"
	"time"
	"unsafe"
)

func main() {
	if len(os.Args) < 2 {
		fail("usage: probe sleep|exit N|crash-signal|orphan|print")
	}
	switch os.Args[1] {
	case "symlink-socket":
		socket := os.Getenv("CORRAL_SOCKET")
		if socket == "" {
			socket = "/corral/plugin.sock"
		}
		if err := os.Symlink(os.Args[2], socket); err != nil {
			fail(err.Error())
		}
		fmt.Println("planted", socket)
		select {}
	case "sleep":
		sleepUntilTerm()
	case "exit":
		code, err := strconv.Atoi(arg(2))
		if err != nil {
			fail(err.Error())
		}
		os.Exit(code)
	case "crash-signal":
		dieBy(syscall.SIGSEGV)
	case "orphan":
		orphan()
	case "orphan-middle":
		startDetached("sleep-forever")
	case "sleep-forever":
		sleepForever()
	case "print":
		printInside()
	case "cat":
		if _, err := io.Copy(os.Stdout, os.Stdin); err != nil {
			fail("cat: " + err.Error())
		}
	case "inotify-room":
		inotifyRoom()
	default:
		if !hardeningSubcommand(os.Args[1:]) {
			fail("unknown subcommand " + os.Args[1])
		}
	}
}

// inotifyRoom prints "N ERRNO": how many inotify instances it made before
// the kernel refused one, and why. Exiting closes them.
func inotifyRoom() {
	for n := 0; n < 1<<20; n++ {
		if _, err := syscall.InotifyInit1(syscall.IN_CLOEXEC); err != nil {
			why := err.Error()
			if err == syscall.EMFILE {
				why = "EMFILE"
			}
			fmt.Println(n, why)
			return
		}
	}
	fail("inotify-room: never refused")
}

func arg(i int) string {
	if len(os.Args) <= i {
		fail("missing argument")
	}
	return os.Args[i]
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "probe:", msg)
	os.Exit(2)
}

func sleepUntilTerm() {
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	fmt.Println("sleeping")
	<-term
	fmt.Println("got SIGTERM")
	os.Exit(7)
}

// dieBy kills the process with sig and its default action. The Go runtime
// catches SIGSEGV and ignores it when sent by kill, so the handler is
// reset to SIG_DFL with a raw rt_sigaction first.
func dieBy(sig syscall.Signal) {
	var act [4]uintptr // struct kernel_sigaction, all zero: SIG_DFL
	if _, _, errno := syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&act)), 0, 8, 0, 0); errno != 0 {
		fail("rt_sigaction: " + errno.Error())
	}
	_ = syscall.Kill(os.Getpid(), sig)
	time.Sleep(time.Second)
	fail("still alive after " + sig.String())
}

// orphan starts a child that starts a sleeping grandchild and exits at
// once, so the grandchild is reparented to the sandbox's init.
func orphan() {
	middle := exec.Command("/plugin", "orphan-middle")
	middle.Stdout = os.Stdout
	if err := middle.Run(); err != nil {
		fail("orphan-middle: " + err.Error())
	}
	fmt.Println("orphaned")
	sleepForever()
}

// sleepForever sleeps without tripping the runtime's deadlock detector,
// which an empty select would.
func sleepForever() {
	for {
		time.Sleep(time.Hour)
	}
}

func startDetached(sub string) {
	cmd := exec.Command("/plugin", sub)
	if err := cmd.Start(); err != nil {
		fail(err.Error())
	}
	fmt.Println("grandchild", cmd.Process.Pid)
}

// inside is what "probe print" reports.
type inside struct {
	Pid          int      `json:"pid"`
	Env          []string `json:"env"`
	Args         []string `json:"args"`
	Hostname     string   `json:"hostname"`
	UID          int      `json:"uid"`
	GID          int      `json:"gid"`
	Root         []string `json:"root"`
	Fds          []string `json:"fds"`
	Mountinfo    string   `json:"mountinfo"`
	Cgroup       string   `json:"cgroup"`
	WriteRoot    string   `json:"writeRoot"`
	WriteTmp     string   `json:"writeTmp"`
	WriteCorral  string   `json:"writeCorral"`
	LoopbackUp   bool     `json:"loopbackUp"`
	Interfaces   []string `json:"interfaces"`
	DevNullWorks bool     `json:"devNullWorks"`
}

func printInside() {
	var in inside
	in.Pid = os.Getpid()
	in.Env = os.Environ()
	in.Args = os.Args
	in.Hostname, _ = os.Hostname()
	in.UID, in.GID = os.Getuid(), os.Getgid()
	in.Root = names("/")
	in.Fds = names("/proc/self/fd")
	in.Mountinfo = readFile("/proc/self/mountinfo")
	in.Cgroup = readFile("/proc/self/cgroup")
	in.WriteRoot = tryWrite("/probe-was-here")
	in.WriteTmp = tryWrite("/tmp/probe-was-here")
	in.WriteCorral = tryWrite("/corral/probe-was-here")
	if ifs, err := net.Interfaces(); err == nil {
		for _, i := range ifs {
			in.Interfaces = append(in.Interfaces, i.Name)
			if i.Name == "lo" && i.Flags&net.FlagUp != 0 {
				in.LoopbackUp = true
			}
		}
	}
	if f, err := os.OpenFile("/dev/null", os.O_WRONLY, 0); err == nil {
		_, err = f.WriteString("x")
		in.DevNullWorks = err == nil
		f.Close()
	}
	b, err := json.Marshal(in)
	if err != nil {
		fail(err.Error())
	}
	fmt.Println(string(b))
}

func names(dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return []string{"error: " + err.Error()}
	}
	out := make([]string, 0, len(entries))
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

func readFile(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "error: " + err.Error()
	}
	return string(b)
}

// tryWrite creates and removes a file; it returns "ok" or the error.
func tryWrite(path string) string {
	if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
		return err.Error()
	}
	os.Remove(path)
	return "ok"
}
