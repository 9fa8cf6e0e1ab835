package seccomp

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"
)

// sockFilterSize is sizeof(struct sock_filter): code u16, jt u8, jf u8, k u32.
const sockFilterSize = 8

// maxInsns is BPF_MAXINSNS: the kernel refuses longer programs.
const maxInsns = 4096

// Offsets in struct seccomp_data.
const (
	offNr   = 0
	offArch = 4
)

func stmt(code uint16, k uint32) unix.SockFilter { return unix.SockFilter{Code: code, K: k} }

func jump(code uint16, k uint32, jt, jf uint8) unix.SockFilter {
	return unix.SockFilter{Code: code, Jt: jt, Jf: jf, K: k}
}

// encode lays a program out as the kernel reads it: host byte order, which is
// also what libseccomp's seccomp_export_bpf writes.
func encode(prog []unix.SockFilter) []byte {
	b := make([]byte, 0, len(prog)*sockFilterSize)
	for _, in := range prog {
		b = binary.NativeEndian.AppendUint16(b, in.Code)
		b = append(b, in.Jt, in.Jf)
		b = binary.NativeEndian.AppendUint32(b, in.K)
	}
	return b
}

// decode is the inverse of encode.
func decode(b []byte) ([]unix.SockFilter, error) {
	if len(b) == 0 || len(b)%sockFilterSize != 0 {
		return nil, fmt.Errorf("seccomp program of %d bytes is not a whole number of %d-byte instructions", len(b), sockFilterSize)
	}
	prog := make([]unix.SockFilter, len(b)/sockFilterSize)
	for i := range prog {
		in := b[i*sockFilterSize:]
		prog[i] = unix.SockFilter{
			Code: binary.NativeEndian.Uint16(in),
			Jt:   in[2],
			Jf:   in[3],
			K:    binary.NativeEndian.Uint32(in[4:]),
		}
	}
	return prog, nil
}
