package libcontainer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"unicode/utf8"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// LoadSpec reads and validates <bundle>/config.json. The returned rootfs is the absolute host
// path of root.path.
func LoadSpec(bundle string) (*specs.Spec, string, error) {
	path := filepath.Join(bundle, "config.json")
	fi, err := os.Lstat(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, "", fmt.Errorf("config.json not found in bundle %s: %w", bundle, err)
		}
		return nil, "", fmt.Errorf("stat %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, "", fmt.Errorf("%s is not a regular file", path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("read %s: %w", path, err)
	}
	spec, err := ParseSpec(data)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", path, err)
	}
	rootfs := spec.Root.Path
	if !filepath.IsAbs(rootfs) {
		rootfs = filepath.Join(bundle, rootfs)
	}
	rootfs, err = filepath.Abs(rootfs)
	if err != nil {
		return nil, "", err
	}
	fi, err = os.Stat(rootfs)
	if err != nil {
		return nil, "", fmt.Errorf("root.path: rootfs %s: %w", rootfs, err)
	}
	if !fi.IsDir() {
		return nil, "", fmt.Errorf("root.path: rootfs %s is not a directory", rootfs)
	}
	return spec, rootfs, nil
}

// ParseSpec decodes config.json strictly enough to catch type errors and validates it.
func ParseSpec(data []byte) (*specs.Spec, error) {
	if !utf8.Valid(data) {
		off := 0
		for off < len(data) {
			r, n := utf8.DecodeRune(data[off:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			off += n
		}
		return nil, fmt.Errorf("parse config: invalid UTF-8 at byte %d", off)
	}
	var doc specDoc
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("parse config: %w", describeJSONError(err))
	}
	if dec.More() {
		return nil, errors.New("parse config: trailing data after the JSON object")
	}
	if err := doc.checkOtherPlatforms(); err != nil {
		return nil, fmt.Errorf("parse config: %w", describeJSONError(err))
	}
	spec := doc.spec()
	if err := Validate(spec); err != nil {
		return nil, err
	}
	return spec, nil
}

func describeJSONError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("field %q: cannot use JSON %s as %s", te.Field, te.Value, te.Type)
	}
	return err
}
