package main

import (
	"encoding/json"
	"io"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// event is one launcher event (docs/internals.md, "Launcher events"). The
// init reports to the launcher with the same shapes.
type event struct {
	Type   string `json:"type"`
	Pid    int    `json:"pid,omitempty"`
	Code   *int   `json:"code,omitempty"`
	Signal string `json:"signal,omitempty"`
	// Syscall names the syscall for which the seccomp filter killed the
	// plugin (Signal is then SIGSYS), when the kernel's log tells (audit.go).
	Syscall string `json:"syscall,omitempty"`
	Stage   string `json:"stage,omitempty"`
	Message string `json:"message,omitempty"`
}

const (
	eventInit    = "init"
	eventStarted = "started"
	eventExited  = "exited"
	eventError   = "error"
	// eventPlaced is the init's report that it moved itself into its
	// cgroups; the launcher turns it into the init event.
	eventPlaced = "placed"
	// eventHello is the first message of an init the launcher's front
	// started, which the launcher adopts; its credentials give its pid.
	eventHello = "hello"
)

func errorEvent(stage string, err error) event {
	return event{Type: eventError, Stage: stage, Message: err.Error()}
}

// killedEvent reports the plugin as killed by sig when nothing better is known.
func killedEvent(sig syscall.Signal) event {
	return event{Type: eventExited, Signal: unix.SignalName(sig)}
}

// eventWriter writes events as JSON lines, a whole line at a time from
// any goroutine. A supervisor that stopped listening must not stop the
// sandbox, so write errors are dropped.
type eventWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func newEventWriter(w io.Writer) eventWriter {
	return eventWriter{w: w, mu: new(sync.Mutex)}
}

func (ew eventWriter) emit(e event) {
	b, err := json.Marshal(e)
	if err != nil {
		return
	}
	ew.mu.Lock()
	defer ew.mu.Unlock()
	_, _ = ew.w.Write(append(b, '\n'))
}
