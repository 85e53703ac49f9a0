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
// the init is in its cgroups, which also releases the init; the init sends
// back what the launcher turns into events.
//
// A unix socket rather than a pipe because of SCM_CREDENTIALS: the init
// attaches the plugin's pid to its "started" report, and the kernel
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

func (c channel) close() error {
	return unix.Close(c.fd)
}

// send sends v as one message.
func (c channel) send(v any) error {
	return c.sendAs(v, nil)
}

// sendWithPid sends v with pid (a pid of the sender's namespace) as the
// message's credentials; the receiver sees it in its own namespace.
func (c channel) sendWithPid(v any, pid int) error {
	cred := unix.UnixCredentials(&unix.Ucred{Pid: int32(pid), Uid: uint32(os.Getuid()), Gid: uint32(os.Getgid())})
	return c.sendAs(v, cred)
}

func (c channel) sendAs(v any, oob []byte) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode message: %w", err)
	}
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

// receive returns the next message and the pid from its credentials, 0 if
// it carried none. It returns io.EOF once the other end is closed.
func (c channel) receive() (msg []byte, pid int, err error) {
	buf := make([]byte, maxSpecBytes+1)
	oob := make([]byte, unix.CmsgSpace(unix.SizeofUcred))
	var n, oobn, flags int
	for {
		n, oobn, flags, _, err = unix.Recvmsg(c.fd, buf, oob, unix.MSG_CMSG_CLOEXEC)
		if err != unix.EINTR {
			break
		}
	}
	switch {
	case err != nil:
		return nil, 0, fmt.Errorf("receive message: %w", err)
	case n == 0:
		return nil, 0, io.EOF
	case flags&unix.MSG_TRUNC != 0 || n > maxSpecBytes:
		return nil, 0, errors.New("receive message: message too long")
	}
	if oobn > 0 {
		if pid, err = credentialsPid(oob[:oobn]); err != nil {
			return nil, 0, err
		}
	}
	return buf[:n], pid, nil
}

func credentialsPid(oob []byte) (int, error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return 0, fmt.Errorf("parse control message: %w", err)
	}
	for _, m := range msgs {
		if m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SCM_CREDENTIALS {
			cred, err := unix.ParseUnixCredentials(&m)
			if err != nil {
				return 0, fmt.Errorf("parse credentials: %w", err)
			}
			return int(cred.Pid), nil
		}
	}
	return 0, nil
}
