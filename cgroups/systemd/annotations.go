package systemd

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	sd "github.com/coreos/go-systemd/v22/dbus"
	"github.com/godbus/dbus/v5"
)

const propertyAnnotation = "org.systemd.property."

// annotationProperties turns the config's org.systemd.property.NAME annotations into unit
// properties, with runc's rules: NAME is ASCII letters only, at least three; the value is in
// GVariant text form ("uint64 123", "'inactive-or-failed'", "true"); a NAME ending in a
// lowercase letter and "Sec" is systemd's documented seconds form of a USec property, so it
// is sent as NAMEUSec with the number converted to microseconds. They are sorted by name so
// that the unit gets them in the same order each time.
func annotationProperties(annotations map[string]string) ([]sd.Property, error) {
	var keys []string
	for k := range annotations {
		if strings.HasPrefix(k, propertyAnnotation) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var props []sd.Property
	for _, k := range keys {
		name := strings.TrimPrefix(k, propertyAnnotation)
		if err := checkPropertyName(name); err != nil {
			return nil, fmt.Errorf("annotations[%q]: property name %w", k, err)
		}
		v := annotations[k]
		value, err := dbus.ParseVariant(v, dbus.Signature{})
		if err != nil {
			return nil, fmt.Errorf("annotations[%q]: value %q is not a GVariant text value: %w", k, v, err)
		}
		if base, ok := strings.CutSuffix(name, "Sec"); ok && base[len(base)-1] >= 'a' && base[len(base)-1] <= 'z' {
			usec, err := secondsToUSec(value)
			if err != nil {
				return nil, fmt.Errorf("annotations[%q]: value %q: %w", k, v, err)
			}
			name, value = base+"USec", usec
		}
		props = append(props, sd.Property{Name: name, Value: value})
	}
	return props, nil
}

// checkPropertyName is runc's check on an annotation's property name.
func checkPropertyName(name string) error {
	if len(name) < 3 {
		return fmt.Errorf("%q is too short (3 letters at least)", name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return fmt.Errorf("%q has %q: only ASCII letters are allowed", name, c)
		}
	}
	return nil
}

// secondsToUSec converts a number of seconds, of any GVariant numeric type, to microseconds
// as systemd's uint64 ("t"). runc would wrap a negative number around; it is refused.
func secondsToUSec(v dbus.Variant) (dbus.Variant, error) {
	const usec = 1_000_000
	var n int64
	switch x := v.Value().(type) {
	case byte:
		n = int64(x)
	case int16:
		n = int64(x)
	case uint16:
		n = int64(x)
	case int32:
		n = int64(x)
	case uint32:
		n = int64(x)
	case int64:
		n = x
	case uint64:
		return dbus.MakeVariant(x * usec), nil
	case float64:
		if x < 0 {
			return v, errors.New("a property in seconds cannot be negative")
		}
		return dbus.MakeVariant(uint64(x * usec)), nil
	default:
		return v, fmt.Errorf("a property in seconds needs a number, not %s", v.Signature())
	}
	if n < 0 {
		return v, errors.New("a property in seconds cannot be negative")
	}
	return dbus.MakeVariant(uint64(n) * usec), nil
}
