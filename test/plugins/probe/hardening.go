package main

// Subcommands that try what the sandbox's hardening forbids or limits:
//
//	probe syscall NAME [ARG...]  make syscall NAME with numeric ARGs (0x for hex), raw;
//	                             print "syscall NAME: <errno>" if it returns
//	probe connect ADDR           dial tcp ADDR; print "connect: ok" or "connect: <error>"
//	probe stdin                  print "stdin: " and what stdin held, up to EOF
//	probe write PATH             create PATH; print "write PATH: ok" or the error
//	probe read PATH              print "read PATH: " and the file's first line, or the error

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// probeSyscalls are the syscalls "probe syscall" knows by name.
var probeSyscalls = map[string]uintptr{
	"getpid":            unix.SYS_GETPID,
	"mount":             unix.SYS_MOUNT,
	"umount2":           unix.SYS_UMOUNT2,
	"pivot_root":        unix.SYS_PIVOT_ROOT,
	"chroot":            unix.SYS_CHROOT,
	"unshare":           unix.SYS_UNSHARE,
	"setns":             unix.SYS_SETNS,
	"clone":             unix.SYS_CLONE,
	"clone3":            unix.SYS_CLONE3,
	"ptrace":            unix.SYS_PTRACE,
	"process_vm_readv":  unix.SYS_PROCESS_VM_READV,
	"keyctl":            unix.SYS_KEYCTL,
	"add_key":           unix.SYS_ADD_KEY,
	"bpf":               unix.SYS_BPF,
	"perf_event_open":   unix.SYS_PERF_EVENT_OPEN,
	"init_module":       unix.SYS_INIT_MODULE,
	"finit_module":      unix.SYS_FINIT_MODULE,
	"kexec_load":        unix.SYS_KEXEC_LOAD,
	"reboot":            unix.SYS_REBOOT,
	"settimeofday":      unix.SYS_SETTIMEOFDAY,
	"clock_settime":     unix.SYS_CLOCK_SETTIME,
	"swapon":            unix.SYS_SWAPON,
	"open_by_handle_at": unix.SYS_OPEN_BY_HANDLE_AT,
	"userfaultfd":       unix.SYS_USERFAULTFD,
	"io_uring_setup":    unix.SYS_IO_URING_SETUP,
	"personality":       unix.SYS_PERSONALITY,
	"iopl":              unix.SYS_IOPL,
	"ioctl":             unix.SYS_IOCTL,
	"socket":            unix.SYS_SOCKET,
	"socketpair":        unix.SYS_SOCKETPAIR,
	"setrlimit":         unix.SYS_SETRLIMIT,
}

// dial connects to address and closes the connection, printing "NAME: OK"
// or why it could not.
func dial(name, network, address, ok string) {
	conn, err := net.DialTimeout(network, address, 2*time.Second)
	if err != nil {
		fmt.Println(name+":", err)
		return
	}
	conn.Close()
	fmt.Println(name+":", ok)
}

// hardeningSubcommand runs one of the subcommands above; false if args
// name none of them.
func hardeningSubcommand(args []string) bool {
	switch args[0] {
	case "syscall":
		rawSyscall(args[1:])
	case "connect":
		dial("connect", "tcp", arg(2), "ok")
	case "dial-unix":
		// connect(2) to a Unix socket.
		dial("dial-unix", "unix", arg(2), "connected")
	case "stdin":
		b, err := io.ReadAll(os.Stdin)
		if err != nil {
			fail("stdin: " + err.Error())
		}
		fmt.Printf("stdin: %s\n", b)
	case "write":
		path := arg(2)
		err := os.WriteFile(path, []byte("x"), 0o644)
		if err == nil {
			fmt.Printf("write %s: ok\n", path)
			return true
		}
		fmt.Printf("write %s: %v\n", path, unwrap(err))
	case "read":
		path := arg(2)
		f, err := os.Open(path)
		if err != nil {
			fmt.Printf("read %s: %v\n", path, unwrap(err))
			return true
		}
		defer f.Close()
		line, _ := bufio.NewReader(f).ReadString('\n')
		fmt.Printf("read %s: %s\n", path, strings.TrimSuffix(line, "\n"))
	default:
		return false
	}
	return true
}

func rawSyscall(args []string) {
	if len(args) == 0 || len(args) > 7 {
		fail("usage: probe syscall NAME [ARG...]")
	}
	nr, ok := probeSyscalls[args[0]]
	if !ok {
		fail("unknown syscall " + args[0])
	}
	var a [6]uintptr
	for i, s := range args[1:] {
		v, err := strconv.ParseUint(s, 0, 64)
		if err != nil {
			fail("argument " + s + ": " + err.Error())
		}
		a[i] = uintptr(v)
	}
	fmt.Printf("calling %s\n", args[0])
	_, _, errno := syscall.RawSyscall6(nr, a[0], a[1], a[2], a[3], a[4], a[5])
	fmt.Printf("syscall %s: %s\n", args[0], errnoName(errno))
}

// errnoName is errno's symbolic name ("OK" for none), which tests compare
// more reliably than its message.
func errnoName(errno syscall.Errno) string {
	if errno == 0 {
		return "OK"
	}
	return unix.ErrnoName(errno)
}

// unwrap gives a path error's errno name.
func unwrap(err error) string {
	if pe, ok := err.(*os.PathError); ok {
		if errno, ok := pe.Err.(syscall.Errno); ok {
			return errnoName(errno)
		}
	}
	return err.Error()
}
