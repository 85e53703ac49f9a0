// Command crasher is a test plugin that serves, then exits with status 3
// after CRASH_AFTER_MS milliseconds (default 0: right after starting), or,
// with CRASH_WHEN_FILE, as soon as that file appears. With
// CRASH_MODE=oom it instead allocates memory until the kernel kills it; with
// CRASH_MODE=spin it keeps serving and burns CPU in a busy loop (until it is
// stopped and continued, with SPIN_UNTIL_CONTINUED=1); with
// CRASH_MODE=goroutines it starts GOROUTINES (2000) goroutines that never end;
// with CRASH_MODE=fds it opens a file every 50 ms and keeps it; with
// CRASH_MODE=heap it grows a heap that the garbage collector does not give
// back (see heapGrowth); with CRASH_MODE=oom-child it starts a child copy of
// itself that allocates until the kernel kills it, and goes on serving.
// With CRASH_MODE=health it registers grpc.health.v1.Health, which go-shim
// serves itself and so refuses: Serve says why on stderr and exits 1.
package main

import (
	"cmp"
	"fmt"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"

	shim "github.com/corralhq/corral/go-shim"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

func main() {
	if os.Getenv("CRASHER_HOG") == "1" { // the child of CRASH_MODE=oom-child
		debug.SetMemoryLimit(math.MaxInt64)
		hog()
	}
	name := cmp.Or(os.Getenv("CORRAL_PLUGIN"), "crasher")
	after, err := strconv.Atoi(cmp.Or(os.Getenv("CRASH_AFTER_MS"), "0"))
	if err != nil {
		fmt.Fprintf(os.Stderr, "crasher: CRASH_AFTER_MS: %v\n", err)
		os.Exit(1)
	}
	if file := os.Getenv("CRASH_WHEN_FILE"); file != "" {
		// Exits with status 3 as soon as file appears (a test puts it in the
		// instance directory at the moment it wants the crash), whatever
		// the machine's speed made of the start.
		go func() {
			for {
				if _, err := os.Lstat(file); err == nil {
					fmt.Fprintf(os.Stderr, "crasher: crashing: %s appeared\n", file)
					os.Exit(3)
				}
				time.Sleep(time.Millisecond)
			}
		}()
		after = math.MaxInt32
	}
	time.AfterFunc(time.Duration(after)*time.Millisecond, func() {
		if os.Getenv("CRASH_MODE") == "fds" {
			fmt.Fprintf(os.Stderr, "crasher: leaking fds after %d ms\n", after)
			go leakFds()
			return
		}
		if os.Getenv("CRASH_MODE") == "goroutines" {
			n, _ := strconv.Atoi(cmp.Or(os.Getenv("GOROUTINES"), "2000"))
			fmt.Fprintf(os.Stderr, "crasher: starting %d goroutines after %d ms\n", n, after)
			storm(n)
			return
		}
		if os.Getenv("CRASH_MODE") == "heap" {
			fmt.Fprintf(os.Stderr, "crasher: growing the heap after %d ms\n", after)
			go heapGrowth(envInt("HEAP_STEP_MIB", 8), envInt("HEAP_MAX_MIB", 128), time.Duration(envInt("HEAP_CYCLE_MS", 500))*time.Millisecond)
			return
		}
		if os.Getenv("CRASH_MODE") == "spin" {
			fmt.Fprintf(os.Stderr, "crasher: spinning after %d ms\n", after)
			stop := make(chan os.Signal, 1)
			if os.Getenv("SPIN_UNTIL_CONTINUED") == "1" {
				signal.Notify(stop, syscall.SIGCONT)
			}
			go spin(stop)
			return
		}
		if os.Getenv("CRASH_MODE") == "oom-child" {
			fmt.Fprintf(os.Stderr, "crasher: starting a child that allocates until killed after %d ms\n", after)
			child := exec.Command("/proc/self/exe")
			child.Env = append(os.Environ(), "CRASHER_HOG=1")
			child.Stderr = os.Stderr
			go func() {
				err := child.Run()
				fmt.Fprintf(os.Stderr, "crasher: the child ended (%v); serving on\n", err)
			}()
			return
		}
		if os.Getenv("CRASH_MODE") == "oom" {
			fmt.Fprintf(os.Stderr, "crasher: allocating until killed after %d ms\n", after)
			debug.SetMemoryLimit(math.MaxInt64) // go past go-shim's soft limit: this plugin wants the hard one
			hog()
		}
		fmt.Fprintf(os.Stderr, "crasher: crashing after %d ms\n", after)
		os.Exit(3)
	})
	register := func(*grpc.Server) {}
	if os.Getenv("CRASH_MODE") == "health" {
		register = func(s *grpc.Server) { healthpb.RegisterHealthServer(s, health.NewServer()) }
	}
	shim.Serve(shim.Plugin{Name: name, Version: "0.0.0", APIVersion: "1.0"}, register)
}

// hog allocates and touches memory, 1 MiB at a time, and keeps it.
func hog() {
	var kept [][]byte
	for {
		b := make([]byte, 1<<20)
		for i := range b {
			b[i] = 1
		}
		kept = append(kept, b)
	}
}

// spin burns CPU until the process ends, or until stop receives.
func spin(stop <-chan os.Signal) {
	for n := 0; ; n++ {
		_ = n * n
		if n%(1<<20) == 0 {
			select {
			case <-stop:
				fmt.Fprintln(os.Stderr, "crasher: continued; spinning no more")
				return
			default:
			}
		}
	}
}

// storm starts n goroutines that block forever, as a leak would.
func storm(n int) {
	block := make(chan struct{})
	for range n {
		go func() { <-block }()
	}
}

// leakFds opens /dev/null every 50 ms and never closes it.
func leakFds() {
	var kept []*os.File
	for {
		if f, err := os.Open("/dev/null"); err == nil {
			kept = append(kept, f)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// heapGrowth runs one cycle every `cycle`: it allocates a transient batch
// `step` MiB larger than the last one (up to max MiB), touches it, drops it
// and collects it with runtime.GC, the only GC (automatic GC is off, so each
// cycle is exactly one GC and none runs while a batch is alive). The runtime
// keeps the heap it grew for every new peak: after each GC, HeapSys −
// HeapInuse is a step larger, memory the GC does not give back, until the
// peaks stop growing at max.
func heapGrowth(step, max int, cycle time.Duration) {
	debug.SetGCPercent(-1)
	for size := step; ; size = min(size+step, max) {
		batch := make([][]byte, 0, size)
		for range size {
			b := make([]byte, 1<<20)
			for i := 0; i < len(b); i += 4096 {
				b[i] = 1
			}
			batch = append(batch, b)
		}
		heapSink = batch
		heapSink = nil
		runtime.GC()
		time.Sleep(cycle)
	}
}

// heapSink keeps each batch reachable until it is dropped.
var heapSink [][]byte

func envInt(name string, fallback int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return fallback
}
