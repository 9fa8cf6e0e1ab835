// Command standin stands in for the programs that the images of the CRI validation suite
// (critest) ship and Debian's busybox lacks, so that tests/cri can build those images offline.
// Like busybox it is one static binary, installed in an image under several names, and it
// does what the name it was called by says:
//
//	pause   a pod sandbox's process: reaps every child (it is PID 1 of a shared PID
//	        namespace) and exits on SIGINT or SIGTERM, as Kubernetes' pause
//	nginx   a web server on $STANDIN_LISTEN (default :80) that writes its pid to
//	        /var/run/nginx.pid and runs with nginx's master process title as its command
//	        line ("nginx: master process nginx -g daemon off;"): critest looks for both
//	httpd   a web server on $STANDIN_LISTEN (default :80) that logs "httpd: ..." on start
//	nnp     prints "Effective uid: N"; installed setuid root, it shows whether
//	        no_new_privs kept the container from gaining uid 0 (the nonewprivs image)
//	ipcs    "ipcs -m": the System V shared memory segments of its IPC namespace
//	pgrep   "pgrep PATTERN": the pids of the processes whose name matches PATTERN
package main

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// nginxTitle is the command line nginx's master process gives itself.
const nginxTitle = "nginx: master process nginx -g daemon off;"

func main() {
	name := filepath.Base(os.Args[0])
	var err error
	switch {
	case name == "pause":
		err = pause()
	case strings.HasPrefix(name, "nginx"):
		err = nginx()
	case name == "httpd":
		err = httpd()
	case name == "nnp":
		fmt.Printf("Effective uid: %d\n", os.Geteuid())
	case name == "ipcs":
		err = ipcs(os.Args[1:])
	case name == "pgrep":
		var found bool
		found, err = pgrep(os.Args[1:])
		if err == nil && !found {
			os.Exit(1)
		}
	default:
		err = fmt.Errorf("called as %q: want one of pause, nginx, httpd, nnp, ipcs, pgrep", name)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(2)
	}
}

// pause waits for SIGINT or SIGTERM and reaps every child that exits meanwhile.
func pause() error {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, unix.SIGINT, unix.SIGTERM, unix.SIGCHLD)
	for sig := range sigs {
		if sig != unix.SIGCHLD {
			return nil
		}
		for {
			var ws unix.WaitStatus
			pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
	return nil
}

func nginx() error {
	if os.Args[0] != nginxTitle {
		// Start again under the master process title. Executing the binary by its path keeps
		// the process name (comm) "nginx", which pidof matches.
		self, err := os.Executable()
		if err != nil {
			return fmt.Errorf("find own binary: %w", err)
		}
		return unix.Exec(self, []string{nginxTitle}, os.Environ())
	}
	if err := os.MkdirAll("/var/run", 0o755); err != nil {
		return err
	}
	if err := os.WriteFile("/var/run/nginx.pid", []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return err
	}
	return serve("Welcome to nginx!")
}

func httpd() error {
	return serve("It works!")
}

// serve answers every request with a small HTML page titled title.
func serve(title string) error {
	addr := os.Getenv("STANDIN_LISTEN")
	if addr == "" {
		addr = ":80"
	}
	page := "<html><head><title>" + title + "</title></head><body><h1>" + title + "</h1></body></html>\n"
	fmt.Fprintf(os.Stderr, "%s: serving on %s\n", filepath.Base(os.Args[0]), addr)
	return http.ListenAndServe(addr, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, page)
	}))
}

// ipcs prints /proc/sysvipc/shm (the segments of the reader's IPC namespace) in the layout of
// util-linux's "ipcs -m".
func ipcs(args []string) error {
	if len(args) != 1 || args[0] != "-m" {
		return fmt.Errorf("only \"ipcs -m\" is supported, got %q", args)
	}
	f, err := os.Open("/proc/sysvipc/shm")
	if err != nil {
		return err
	}
	defer f.Close()
	fmt.Printf("\n------ Shared Memory Segments --------\n")
	fmt.Printf("%-10s %-10s %-10s %-10s %-10s %-10s\n", "key", "shmid", "owner", "perms", "bytes", "nattch")
	sc := bufio.NewScanner(f)
	sc.Scan() // header: key shmid perms size cpid lpid nattch uid ...
	for sc.Scan() {
		v := strings.Fields(sc.Text())
		if len(v) < 8 {
			continue
		}
		key, _ := strconv.ParseInt(v[0], 10, 64) // decimal there, hex in ipcs
		// perms is octal there, as here
		fmt.Printf("0x%08x %-10s %-10s %-10s %-10s %-10s\n", uint32(key), v[1], v[7], v[2], v[3], v[6])
	}
	return sc.Err()
}

// pgrep prints the pids (other than its own) whose name (/proc/PID/comm) matches the pattern.
func pgrep(args []string) (bool, error) {
	if len(args) != 1 {
		return false, fmt.Errorf("usage: pgrep PATTERN")
	}
	re, err := regexp.Compile(args[0])
	if err != nil {
		return false, err
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return false, err
	}
	found := false
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		comm, err := os.ReadFile("/proc/" + e.Name() + "/comm")
		if err != nil {
			continue // exited meanwhile
		}
		if re.MatchString(strings.TrimSuffix(string(comm), "\n")) {
			fmt.Println(pid)
			found = true
		}
	}
	return found, nil
}
