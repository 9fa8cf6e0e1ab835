package seccomp

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestCompileCached(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	s := loadProfile(t, "testdata/docker-default.json", dockerDefaultCaps)
	want, wantWarns, err := Compile(s)
	if err != nil {
		t.Fatal(err)
	}

	// A miss compiles and fills the cache; a hit gives the same result.
	for i := 0; i < 2; i++ {
		f, warns, err := CompileCached(s, dir)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(f.Program, want.Program) || f.Flags != want.Flags || f.Notify != want.Notify || !slices.Equal(warns, wantWarns) {
			t.Fatalf("round %d: cached result differs from Compile's (warnings %q)", i, warns)
		}
	}
	entries, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(entries) != 1 {
		t.Fatalf("cache holds %v, want one entry", entries)
	}

	// The hit really comes from the file: change the program there.
	data, _ := os.ReadFile(entries[0])
	tampered := &Filter{Program: want.Program[:8], Flags: 0}
	if err := writeCacheEntry(dir, entries[0], cacheEntry{Filter: tampered}); err != nil {
		t.Fatal(err)
	}
	if f, _, _ := CompileCached(s, dir); len(f.Program) != 8 {
		t.Fatal("the cache file was not used")
	}

	// An entry others could have written is not trusted.
	os.WriteFile(entries[0], data, 0o666)
	os.Chmod(entries[0], 0o666)
	f, warns, err := CompileCached(s, dir)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(f.Program, want.Program) || len(warns) == 0 || !strings.Contains(warns[len(warns)-1], "seccomp cache entry ignored") {
		t.Fatalf("untrusted entry used (warnings %q)", warns)
	}

	// Another profile gets another entry; no profile gets nothing.
	s2 := *s
	s2.DefaultErrnoRet = uptr(38)
	if _, _, err := CompileCached(&s2, dir); err != nil {
		t.Fatal(err)
	}
	if entries, _ := filepath.Glob(filepath.Join(dir, "*.json")); len(entries) != 2 {
		t.Fatalf("cache holds %v, want two entries", entries)
	}
	if f, w, err := CompileCached(&specs.LinuxSeccomp{}, dir); f != nil || w != nil || err != nil {
		t.Fatal("an empty section compiled to something")
	}
	// Errors are not cached.
	if _, _, err := CompileCached(&specs.LinuxSeccomp{DefaultAction: "SCMP_ACT_FOO"}, dir); err == nil {
		t.Fatal("no error for an unknown action")
	}
}

func BenchmarkCompileDockerProfile(b *testing.B) {
	s := loadProfile(b, "testdata/docker-default.json", dockerDefaultCaps)
	for b.Loop() {
		if _, _, err := Compile(s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCompileCachedDockerProfile(b *testing.B) {
	s := loadProfile(b, "testdata/docker-default.json", dockerDefaultCaps)
	dir := b.TempDir()
	for b.Loop() {
		if _, _, err := CompileCached(s, dir); err != nil {
			b.Fatal(err)
		}
	}
}
