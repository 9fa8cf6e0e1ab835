// Package nsenter runs before the Go runtime starts in `husk init`: the kernel lets only a
// single-threaded process join a mount or user namespace with setns(2) or unshare them, and a
// new PID or time namespace only takes effect for children, so this work happens in a cgo
// constructor (nsenter.c) before the Go runtime creates its threads. Importing the package is
// enough; outside `husk init` the constructor returns after one getenv.
package nsenter

/*
#cgo CFLAGS: -Wall -Wextra -O2
extern void husk_nsenter(void);
void __attribute__((constructor)) husk_nsenter_ctor(void) { husk_nsenter(); }
*/
import "C"
