package main

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// traceEnv, set to anything non-empty in the launcher's environment, makes
// the launcher and the init print when they reach each step of a start, to
// stderr, as "corral-sandbox trace ROLE STEP NS" lines, NS the
// CLOCK_MONOTONIC time in nanoseconds (the clock Node's
// process.hrtime.bigint() reads, so the lines line up with the supervisor's
// own marks). For profiling a start; off by default.
const traceEnv = "CORRAL_SANDBOX_TRACE"

// tracing is read once, at the earliest point the binary runs Go code.
var tracing = os.Getenv(traceEnv) != ""

// processStart is when this process's Go code began to run (the runtime is
// up by then).
var processStart = monotonicNow()

func monotonicNow() int64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano()
}

// trace prints one trace line when tracing is on.
func trace(role, step string) {
	if tracing {
		traceAt(role, step, monotonicNow())
	}
}

func traceAt(role, step string, ns int64) {
	if !tracing {
		return
	}
	line := "corral-sandbox trace " + role + " " + step + " " + strconv.FormatInt(ns, 10) + "\n"
	_, _ = unix.Write(2, []byte(line))
}
