// sdnotify sends its arguments, joined by newlines, as one datagram to $NOTIFY_SOCKET, like
// systemd-notify. The tests copy it into container rootfses (it is static).
package main

import (
	"fmt"
	"net"
	"os"
	"strings"
)

func main() {
	path := os.Getenv("NOTIFY_SOCKET")
	if path == "" || len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: NOTIFY_SOCKET=path sdnotify VAR=value...")
		os.Exit(2)
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		fmt.Fprintln(os.Stderr, "sdnotify:", err)
		os.Exit(1)
	}
	if _, err := conn.Write([]byte(strings.Join(os.Args[1:], "\n"))); err != nil {
		fmt.Fprintln(os.Stderr, "sdnotify:", err)
		os.Exit(1)
	}
}
