// Command corral-notify sends sd_notify(3) datagrams for the supervisor.
//
// Node has no AF_UNIX datagram sockets, so the supervisor starts this helper
// once and writes it one message a line:
//
//	corral-notify --socket $NOTIFY_SOCKET --pid SUPERVISOR_PID
//
// Each line on stdin is a JSON string: the datagram's payload, newline
// separated assignments such as "READY=1\nSTATUS=serving". Each gets one line
// back on stdout, in order: "ok", or "error: TEXT", or "ok-as-helper: TEXT"
// when it went out under the helper's own pid (see below). The helper exits
// when stdin closes, so it never outlives the supervisor, and ignores the
// termination signals meant for the supervisor (a Ctrl-C reaches the whole
// process group), so a STOPPING=1 written during shutdown still goes out.
//
// The datagram carries SCM_CREDENTIALS naming the supervisor's pid, not the
// helper's: the kernel allows that to a process with CAP_SYS_ADMIN (the
// supervisor runs as root), and it lets systemd accept the message with
// NotifyAccess=main, as though the supervisor had sent it itself. Without the
// privilege the message is sent under the helper's own pid, which systemd
// accepts only with NotifyAccess=all.
//
// NOTIFY_SOCKET may be a path or, with a leading '@', an abstract socket.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

func main() {
	socket := flag.String("socket", "", "the notification socket: a path, or @NAME for an abstract socket")
	pid := flag.Int("pid", 0, "the pid to send on behalf of (default: the helper's parent)")
	flag.Parse()
	if *socket == "" || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: corral-notify --socket PATH|@NAME [--pid PID]   (JSON string messages on stdin, one a line)")
		os.Exit(2)
	}
	if *pid == 0 {
		*pid = os.Getppid()
	}
	signal.Ignore(syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	// Stdin's end is the usual way out; this covers a parent that dies
	// with a child of its own holding the pipe's write end.
	_ = unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0)

	sender, err := newSender(*socket, *pid)
	if err != nil {
		fmt.Fprintf(os.Stderr, "corral-notify: %v\n", err)
		os.Exit(1)
	}
	out := bufio.NewWriter(os.Stdout)
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 64*1024), 1024*1024)
	for in.Scan() {
		var payload string
		reply := "ok"
		if err := json.Unmarshal(in.Bytes(), &payload); err != nil {
			reply = "error: not a JSON string: " + err.Error()
		} else if err := sender.send(payload); err != nil {
			var fallback *sentAsHelper
			if errors.As(err, &fallback) {
				reply = "ok-as-helper: " + fallback.Error()
			} else {
				reply = "error: " + err.Error()
			}
		}
		// One line per message, whatever the error says.
		fmt.Fprintln(out, strings.ReplaceAll(reply, "\n", " "))
		if err := out.Flush(); err != nil {
			os.Exit(0) // the supervisor is gone
		}
	}
}

// sendTimeoutSeconds bounds one send (see newSender).
const sendTimeoutSeconds = 5

type sender struct {
	fd   int
	addr *unix.SockaddrUnix
	pid  int
	// onBehalf is cleared after the kernel refused to send with the
	// supervisor's pid: later messages go out under the helper's own.
	onBehalf bool
}

// sentAsHelper reports a message that went out, but under the helper's pid.
type sentAsHelper struct{ cause error }

func (e *sentAsHelper) Error() string {
	return fmt.Sprintf("sent with the helper's own pid (credentials for pid as the supervisor's refused: %v); systemd accepts it only with NotifyAccess=all", e.cause)
}

func newSender(socket string, pid int) (*sender, error) {
	if !strings.HasPrefix(socket, "/") && !strings.HasPrefix(socket, "@") {
		return nil, fmt.Errorf("NOTIFY_SOCKET %q: only a path or an @abstract name is supported", socket)
	}
	if len(socket) > 108 {
		return nil, fmt.Errorf("NOTIFY_SOCKET %q: longer than a socket address allows", socket)
	}
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socket: %w", err)
	}
	// A datagram send blocks while the receiver's queue is full: a stuck
	// service manager must not stall the helper (and the watchdog) for good.
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_SNDTIMEO, &unix.Timeval{Sec: sendTimeoutSeconds}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("SO_SNDTIMEO: %w", err)
	}
	// The Go runtime turns a leading '@' into the abstract namespace's NUL.
	return &sender{fd: fd, addr: &unix.SockaddrUnix{Name: socket}, pid: pid, onBehalf: pid != os.Getpid()}, nil
}

// send sends one datagram, unconnected, so a socket that systemd re-created
// (daemon-reexec) is found again by its address.
func (s *sender) send(payload string) error {
	if !s.onBehalf {
		return s.sendmsg(payload, nil)
	}
	creds := unix.UnixCredentials(&unix.Ucred{Pid: int32(s.pid), Uid: uint32(os.Getuid()), Gid: uint32(os.Getgid())})
	err := s.sendmsg(payload, creds)
	if !errors.Is(err, unix.EPERM) {
		return err
	}
	s.onBehalf = false
	if err := s.sendmsg(payload, nil); err != nil {
		return err
	}
	return &sentAsHelper{cause: err}
}

func (s *sender) sendmsg(payload string, oob []byte) error {
	for {
		err := unix.Sendmsg(s.fd, []byte(payload), oob, s.addr, unix.MSG_NOSIGNAL)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}
