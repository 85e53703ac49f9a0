package shim

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// A handshakeListener closes, when it is closed, the connections it
// accepted whose handshake has not finished: their TLS handshake, and then
// the client's HTTP/2 preface. gRPC's Stop and GracefulStop close only
// connections past both, and wait for the others (up to gRPC's connection
// timeout): one client that connects and never sends a ClientHello, or
// never sends its preface after the TLS handshake, would otherwise hold a
// drain past its deadline, and a park's unpark, that long.
//
// It also holds at most maxPendingHandshakes of them from any one user (the
// peer's uid, SO_PEERCRED): past it, that user's oldest is closed. The
// sockets are open to every local user (access is by certificate, which
// comes at the end of the handshake), and one who held a thousand
// connections without a handshake took the plugin's fds, and legitimate
// calls timed out. Counted per user, so that a flood evicts only its own
// connections: one cap for all let a single process dialling 40 000 times
// a second evict every other user's handshakes before they could finish.
//
// Inside Corral's sandbox that is one bucket all the same: its user
// namespace maps the plugin's own uid alone, and SO_PEERCRED gives every
// other host user, root included, as the overflow uid (65534). There the
// bound holds the plugin's fds, and evicting the oldest (rather than
// refusing the newest, which a flooder that holds its connections quietly
// would turn into a refusal of everyone) lets a client whose handshake is
// under way finish unless 256 others arrive meanwhile.
type handshakeListener struct {
	net.Listener

	mu      sync.Mutex
	pending map[*pendingConn]struct{}
	next    uint64 // the order of the next accepted connection
	closed  bool
}

// maxPendingHandshakes is how many connections of one user a listener
// holds in their TLS handshake at once: a quarter of a sandbox's 1024 fds,
// and more than the host applications of one user that reconnect at once
// after a restart are likely to be.
const maxPendingHandshakes = 256

func newHandshakeListener(l net.Listener) *handshakeListener {
	return &handshakeListener{Listener: l, pending: map[*pendingConn]struct{}{}}
}

func (l *handshakeListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	pc := &pendingConn{Conn: c, l: l, uid: peerUID(c)}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		c.Close()
		return nil, net.ErrClosed
	}
	pc.order = l.next
	l.next++
	l.pending[pc] = struct{}{}
	var evicted *pendingConn
	same := 0
	for p := range l.pending {
		if p.uid != pc.uid {
			continue
		}
		same++
		if evicted == nil || p.order < evicted.order {
			evicted = p
		}
	}
	if same > maxPendingHandshakes {
		delete(l.pending, evicted)
	} else {
		evicted = nil
	}
	l.mu.Unlock()
	if evicted != nil {
		evicted.Conn.Close() // its handshake fails, and gRPC lets it go
	}
	return pc, nil
}

// Close closes the listener and every connection still in its handshake.
func (l *handshakeListener) Close() error {
	err := l.Listener.Close()
	l.mu.Lock()
	l.closed = true
	pending := l.pending
	l.pending = map[*pendingConn]struct{}{}
	l.mu.Unlock()
	for pc := range pending {
		pc.Conn.Close()
	}
	return err
}

func (l *handshakeListener) settled(pc *pendingConn) {
	l.mu.Lock()
	delete(l.pending, pc)
	l.mu.Unlock()
}

// A pendingConn is a connection of a [handshakeListener], which forgets it
// once its handshake is done ([handshaken]) or it is closed.
type pendingConn struct {
	net.Conn
	l     *handshakeListener
	order uint64
	uid   int64 // the peer's, or -1
}

// handshaken tells the listener that conn's handshake has finished: its TLS
// and the client's HTTP/2 preface (a connection of another listener is left
// as it is).
func handshaken(conn net.Conn) {
	if pc, ok := conn.(*pendingConn); ok {
		pc.l.settled(pc)
	}
}

func (c *pendingConn) Close() error {
	c.l.settled(c)
	return c.Conn.Close()
}

// SyscallConn is the socket's: the revoker looks through it (see
// [trackedConn.closed]).
func (c *pendingConn) SyscallConn() (syscall.RawConn, error) {
	if sc, ok := c.Conn.(syscall.Conn); ok {
		return sc.SyscallConn()
	}
	return nil, errors.New("not a socket")
}

// refusalLinger is how long a connection whose handshake was refused is
// read from, at most refusalReadLimit of it, before it is closed.
const (
	refusalLinger    = time.Second
	refusalReadLimit = 64 << 10
)

// readWhileRefused reads what the client sends after its handshake was
// refused (a revoked, expired or unknown certificate), until it closes the
// connection or for refusalLinger. In TLS 1.3 the client's certificate comes
// last: the client deems the handshake done and writes its first request at
// once. Closed under it, that write failed (EPIPE: "broken pipe") in 15-40 %
// of refusals, and the client never read the alert that says why.
func readWhileRefused(raw net.Conn) {
	if err := raw.SetReadDeadline(time.Now().Add(refusalLinger)); err != nil {
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(raw, refusalReadLimit))
}

// A closeHeld is a connection whose Close does nothing until release: from
// then on it closes.
type closeHeld struct {
	net.Conn
	released atomic.Bool
}

func (c *closeHeld) release() { c.released.Store(true) }

func (c *closeHeld) Close() error {
	if !c.released.Load() {
		return nil
	}
	return c.Conn.Close()
}
