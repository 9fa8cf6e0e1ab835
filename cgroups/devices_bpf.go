package cgroups

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// deviceFilter compiles the v1 state of the rules (emulateV1) into a
// BPF_PROG_TYPE_CGROUP_DEVICE program that decides as the v1 controller does: with a default
// of deny, a request is allowed when one exception covers all of the access it asks for; with
// a default of allow, it is refused when an exception shares any of that access.
//
// The program reads struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; } where
// access_type is (access << 16) | device type.
func deviceFilter(state v1Devices) (asm.Instructions, error) {
	insts := asm.Instructions{
		asm.LoadMem(asm.R2, asm.R1, 0, asm.Word),
		asm.And.Imm32(asm.R2, 0xFFFF), // R2 = type
		asm.LoadMem(asm.R3, asm.R1, 0, asm.Word),
		asm.RSh.Imm32(asm.R3, 16),                // R3 = requested access
		asm.LoadMem(asm.R4, asm.R1, 4, asm.Word), // R4 = major
		asm.LoadMem(asm.R5, asm.R1, 8, asm.Word), // R5 = minor
	}
	for i, r := range state.exceptions {
		next := "block-" + strconv.Itoa(i+1)
		var b asm.Instructions
		switch r.typ {
		case 'b':
			b = append(b, asm.JNE.Imm(asm.R2, int32(unix.BPF_DEVCG_DEV_BLOCK), next))
		case 'c':
			b = append(b, asm.JNE.Imm(asm.R2, int32(unix.BPF_DEVCG_DEV_CHAR), next))
		default:
			return nil, fmt.Errorf("linux.resources.devices: internal error: device exception of type %q", r.typ)
		}
		if r.major != wildcard {
			b = append(b, asm.JNE.Imm(asm.R4, int32(uint32(r.major)), next))
		}
		if r.minor != wildcard {
			b = append(b, asm.JNE.Imm(asm.R5, int32(uint32(r.minor)), next))
		}
		acc := accessMask(r.access)
		if state.defaultAllow {
			// Refused when the request shares any access with the exception.
			b = append(b,
				asm.Mov.Reg32(asm.R1, asm.R3),
				asm.And.Imm32(asm.R1, acc),
				asm.JEq.Imm(asm.R1, 0, next))
		} else if r.access != "rwm" {
			// Allowed when every requested bit is in the exception.
			b = append(b,
				asm.Mov.Reg32(asm.R1, asm.R3),
				asm.And.Imm32(asm.R1, acc),
				asm.JNE.Reg(asm.R1, asm.R3, next))
		}
		b = append(b, asm.Mov.Imm32(asm.R0, boolImm(!state.defaultAllow)), asm.Return())
		b[0] = b[0].WithSymbol("block-" + strconv.Itoa(i))
		insts = append(insts, b...)
	}
	insts = append(insts,
		asm.Mov.Imm32(asm.R0, boolImm(state.defaultAllow)).WithSymbol("block-"+strconv.Itoa(len(state.exceptions))),
		asm.Return())
	return insts, nil
}

// accessMask is an access string as the BPF_DEVCG_ACC_* bits of bpf_cgroup_dev_ctx.
func accessMask(access string) int32 {
	var acc int32
	for _, c := range access {
		switch c {
		case 'r':
			acc |= unix.BPF_DEVCG_ACC_READ
		case 'w':
			acc |= unix.BPF_DEVCG_ACC_WRITE
		case 'm':
			acc |= unix.BPF_DEVCG_ACC_MKNOD
		}
	}
	return acc
}

func boolImm(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

// setDevicesBPF loads the filter and attaches it to the cgroup at dir,
// replacing the one attached before in a single step where the kernel can
// (BPF_F_REPLACE), so there is no moment without a filter.
func setDevicesBPF(dir string, devices []specs.LinuxDeviceCgroup) error {
	rules, err := deviceRules(devices)
	if err != nil {
		return err
	}
	insts, err := deviceFilter(emulateV1(rules))
	if err != nil {
		return err
	}
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Name:         devicesProgName,
		Type:         ebpf.CGroupDevice,
		Instructions: insts,
		License:      "Apache",
	})
	if err != nil {
		return fmt.Errorf("linux.resources.devices: load device filter: %w", err)
	}
	// The attachment holds its own reference; our fd is not needed after.
	defer prog.Close()

	d, err := os.OpenFile(dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("linux.resources.devices: open cgroup %s: %w", dir, unwrapPathError(err))
	}
	defer d.Close()
	fd := int(d.Fd())

	old, err := attachedDevicePrograms(fd)
	if err != nil {
		return fmt.Errorf("linux.resources.devices: query device filters of %s: %w", dir, err)
	}
	defer func() {
		for _, p := range old {
			p.Close()
		}
	}()

	opts := link.RawAttachProgramOptions{
		Target:  fd,
		Program: prog,
		Attach:  ebpf.AttachCGroupDevice,
		Flags:   unix.BPF_F_ALLOW_MULTI,
	}
	if len(old) == 1 {
		opts.Anchor = link.ReplaceProgram(old[0])
		err := link.RawAttachProgram(opts)
		if err == nil {
			return nil
		}
		if !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("linux.resources.devices: replace device filter on %s: %w", dir, err)
		}
		// Kernels before 5.6 lack BPF_F_REPLACE: attach, then detach the old.
		opts.Anchor = nil
	}
	if err := link.RawAttachProgram(opts); err != nil {
		return fmt.Errorf("linux.resources.devices: attach device filter to %s: %w", dir, err)
	}
	for _, p := range old {
		err := link.RawDetachProgram(link.RawDetachProgramOptions{
			Target:  fd,
			Program: p,
			Attach:  ebpf.AttachCGroupDevice,
		})
		if err != nil {
			return fmt.Errorf("linux.resources.devices: detach old device filter from %s: %w", dir, err)
		}
	}
	return nil
}

// devicesProgName names husk's device filters in the kernel (bpftool shows it).
const devicesProgName = "husk_devices"

// systemdProgPrefix starts the names of the programs systemd attaches itself ("sd_devices"
// for a unit's DeviceAllow=, with the systemd cgroup driver).
const systemdProgPrefix = "sd_"

// attachedDevicePrograms returns the device programs attached directly to the cgroup (not
// inherited ones) that are husk's to replace: all but systemd's. With the systemd cgroup
// driver systemd attaches its own filter from the unit's DeviceAllow= next to husk's; both
// must allow an access, and systemd's is built to allow at least what husk's does, so it
// stays.
func attachedDevicePrograms(fd int) ([]*ebpf.Program, error) {
	res, err := link.QueryPrograms(link.QueryOptions{Target: fd, Attach: ebpf.AttachCGroupDevice})
	if err != nil {
		return nil, err
	}
	var progs []*ebpf.Program
	closeAll := func() {
		for _, q := range progs {
			q.Close()
		}
	}
	for _, ap := range res.Programs {
		p, err := ebpf.NewProgramFromID(ap.ID)
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("open attached program %d: %w", ap.ID, err)
		}
		info, err := p.Info()
		if err != nil {
			p.Close()
			closeAll()
			return nil, fmt.Errorf("attached program %d: %w", ap.ID, err)
		}
		if strings.HasPrefix(info.Name, systemdProgPrefix) {
			p.Close()
			continue
		}
		progs = append(progs, p)
	}
	return progs, nil
}

func (m *fs2Manager) setDevices(r *specs.LinuxResources) error {
	if r.Devices == nil {
		return nil
	}
	return setDevicesBPF(m.dir, r.Devices)
}
