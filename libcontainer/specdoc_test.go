package libcontainer

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Every field of specs.Spec must be in specDoc under the same JSON name: with its own type if
// husk uses it, as raw JSON if it belongs to another platform. A runtime-spec upgrade that
// adds a field fails here instead of being dropped silently.
func TestSpecDocMatchesSpec(t *testing.T) {
	doc := reflect.TypeOf(specDoc{})
	raw := reflect.TypeOf(json.RawMessage{})
	linuxView := reflect.TypeOf(specs.Spec{})
	otherPlatforms := map[string]bool{"solaris": true, "windows": true, "vm": true, "zos": true, "freebsd": true}
	for i := 0; i < linuxView.NumField(); i++ {
		f := linuxView.Field(i)
		d, ok := doc.FieldByName(f.Name)
		if !ok {
			t.Errorf("specDoc has no field %s (json %q)", f.Name, f.Tag.Get("json"))
			continue
		}
		if d.Tag.Get("json") != f.Tag.Get("json") {
			t.Errorf("specDoc.%s: json tag %q, specs.Spec has %q", f.Name, d.Tag.Get("json"), f.Tag.Get("json"))
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case otherPlatforms[name] && d.Type != raw:
			t.Errorf("specDoc.%s: want json.RawMessage for another platform's section", f.Name)
		case !otherPlatforms[name] && d.Type != f.Type:
			t.Errorf("specDoc.%s is %v, specs.Spec has %v", f.Name, d.Type, f.Type)
		}
	}
	if doc.NumField() != linuxView.NumField() {
		t.Errorf("specDoc has %d fields, specs.Spec %d", doc.NumField(), linuxView.NumField())
	}
}

// A spec survives marshalSpec and specDoc.spec unchanged, and another platform's section in
// the input neither fails the decode nor reaches the Linux view.
func TestSpecDocRoundTrip(t *testing.T) {
	spec := DefaultSpec()
	spec.Hooks = &specs.Hooks{Poststop: []specs.Hook{{Path: "/bin/true", Args: []string{"true"}}}}
	spec.Annotations = map[string]string{"a": "b"}
	data, err := marshalSpec(spec)
	if err != nil {
		t.Fatal(err)
	}
	var doc specDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(doc.spec(), spec) {
		t.Fatalf("round trip changed the spec:\n%s", data)
	}
	var withWindows map[string]any
	json.Unmarshal(data, &withWindows)
	withWindows["windows"] = map[string]any{"layerFolders": []string{`C:\x`}}
	data, _ = json.Marshal(withWindows)
	got, err := ParseSpec(data)
	if err != nil {
		t.Fatalf("ParseSpec with a windows section: %v", err)
	}
	if got.Windows != nil {
		t.Fatal("the windows section reached the Linux view")
	}
}

// Another platform's section is not used on Linux but still has to be well formed.
func TestParseSpecRefusesMalformedOtherPlatform(t *testing.T) {
	for _, sec := range []string{"solaris", "windows", "vm", "zos", "freebsd"} {
		var doc map[string]any
		data, _ := marshalSpec(DefaultSpec())
		json.Unmarshal(data, &doc)
		doc[sec] = 5
		data, _ = json.Marshal(doc)
		_, err := ParseSpec(data)
		if want := `field "` + sec + `": cannot use JSON number`; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: 5 gave %v, want %q", sec, err, want)
		}
	}
}
