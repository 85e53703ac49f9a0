package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// channel is the launcher's private line to the init: a SOCK_SEQPACKET
// socketpair, one JSON message per packet. The launcher sends the spec once
// the init is in its cgroups, which also releases the init; with it go the
// mount sources it opened for the init (sources.go), as SCM_RIGHTS. The init
// sends back what the launcher turns into events.
//
// A unix socket rather than a pipe because of SCM_RIGHTS and SCM_CREDENTIALS:
// the init attaches the plugin's pid to its "started" report, and the kernel
// translates that pid into the launcher's pid namespace. That needs no
// /proc scan and works even if the plugin has already exited, since the
// init has not reaped it yet.
type channel struct {
	fd int
}

// initChannelFd is where the init finds its end of the channel.
const initChannelFd = 3

// newChannelPair returns the launcher's end, ready to receive credentials,
// and the init's end as a file to pass to the child.
func newChannelPair() (channel, *os.File, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return channel{}, nil, fmt.Errorf("socketpair: %w", err)
	}
	if err := unix.SetsockoptInt(fds[0], unix.SOL_SOCKET, unix.SO_PASSCRED, 1); err != nil {
		unix.Close(fds[0])
		unix.Close(fds[1])
		return channel{}, nil, fmt.Errorf("set SO_PASSCRED: %w", err)
	}
	return channel{fd: fds[0]}, os.NewFile(uintptr(fds[1]), "init-channel"), nil
}

// close closes the launcher's end; a channel with fd -1 is closed already.
func (c channel) close() error {
	if c.fd < 0 {
		return nil
	}
	return unix.Close(c.fd)
}

// send sends v as one message, passing fds along with it. The receiver
// gets its own copies: the caller still owns fds.
func (c channel) send(v any, fds ...int) error {
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	return c.sendAs(v, oob)
}

// sendBytes sends b as one message, passing fds along with it.
func (c channel) sendBytes(b []byte, fds ...int) error {
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	return c.sendRaw(b, oob)
}

func (c channel) sendAs(v any, oob []byte) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode message: %w", err)
	}
	return c.sendRaw(b, oob)
}

func (c channel) sendRaw(b []byte, oob []byte) error {
	var err error
	for {
		err = unix.Sendmsg(c.fd, b, oob, nil, 0)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("send message: %w", err)
	}
	return nil
}

// message is one message received on a channel.
type message struct {
	data []byte
	pid  int   // from the message's credentials; 0 if it carried none
	fds  []int // passed with it, close-on-exec; the receiver owns them
}

// errBadMessage marks a message that was received but is unusable; the
// channel itself is still good.
var errBadMessage = errors.New("bad message")

// receive returns the next message, which may carry at most maxFds fds.
// It returns io.EOF once the other end is closed, and an error wrapping
// errBadMessage for a message it drops.
//
// fds the caller does not expect are closed here, never left open: the
// launcher is host root, and fds the init might pass up with a report must
// neither leak into it nor pile up in it.
func (c channel) receive(maxFds int) (message, error) {
	buf := make([]byte, maxSpecBytes+1)
	// Room for credentials and the fds wanted. fds that do not fit the
	// kernel discards, and says so with MSG_CTRUNC.
	oobSize := unix.CmsgSpace(unix.SizeofUcred)
	if maxFds > 0 {
		oobSize += unix.CmsgSpace(4 * maxFds)
	}
	oob := make([]byte, oobSize)
	var n, oobn, flags int
	var err error
	for {
		n, oobn, flags, _, err = unix.Recvmsg(c.fd, buf, oob, unix.MSG_CMSG_CLOEXEC)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return message{}, fmt.Errorf("receive message: %w", err)
	}
	if n == 0 && oobn == 0 {
		return message{}, io.EOF
	}
	m, err := parseControl(oob[:oobn])
	if err == nil {
		switch {
		case flags&unix.MSG_CTRUNC != 0:
			err = fmt.Errorf("more than %d fds", len(m.fds))
		case len(m.fds) > maxFds:
			err = fmt.Errorf("%d fds, want at most %d", len(m.fds), maxFds)
		case flags&unix.MSG_TRUNC != 0 || n > maxSpecBytes:
			err = fmt.Errorf("longer than %d bytes", maxSpecBytes)
		}
	}
	if err != nil {
		closeFds(m.fds)
		return message{}, fmt.Errorf("receive message: %w: %w", errBadMessage, err)
	}
	m.data = buf[:n]
	return m, nil
}

// parseControl takes the fds and the credentials' pid from a message's
// control data. It returns the fds it found even with an error, for the
// caller to close.
func parseControl(oob []byte) (message, error) {
	var m message
	if len(oob) == 0 {
		return m, nil
	}
	cmsgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		// The kernel wrote it, so this does not happen; were it to, fds it
		// carries could not even be found to be closed.
		return m, fmt.Errorf("parse control data: %w", err)
	}
	for _, cm := range cmsgs {
		if cm.Header.Level == unix.SOL_SOCKET && cm.Header.Type == unix.SCM_RIGHTS {
			fds, err := unix.ParseUnixRights(&cm)
			if err != nil {
				return m, fmt.Errorf("parse fds: %w", err)
			}
			m.fds = append(m.fds, fds...)
		}
	}
	for _, cm := range cmsgs {
		if cm.Header.Level == unix.SOL_SOCKET && cm.Header.Type == unix.SCM_CREDENTIALS {
			cred, err := unix.ParseUnixCredentials(&cm)
			if err != nil {
				return m, fmt.Errorf("parse credentials: %w", err)
			}
			m.pid = int(cred.Pid)
		}
	}
	return m, nil
}
