package core

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	mesosmaster "github.com/mesos/mesos-go/api/v1/lib/master"
)

// dataKeys are the objects whose keys are data (attribute names, roles,
// resource names of a role's quantities), not field names: their keys
// are compared as "*".
var dataKeys = []string{".slaves[].attributes", ".slaves[].reserved_resources", ".slaves[].reserved_resources_full", ".flags",
	".roles[].quota.guarantee", ".roles[].quota.limit", ".roles[].quota.consumed", ".roles[].resources", ".roles[].allocated", ".roles[].offered", ".roles[].reserved"}

// jsonType names a decoded JSON value's type.
func jsonType(v any) string {
	switch v.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	}
	return "null"
}

// fieldTypes records every path of a JSON document (arrays' elements as
// [], data keys as *) with its types.
func fieldTypes(v any, path string, into map[string]map[string]bool) {
	if into[path] == nil {
		into[path] = map[string]bool{}
	}
	into[path][jsonType(v)] = true
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if slices.Contains(dataKeys, path) {
				k = "*"
			}
			fieldTypes(x, path+"."+k, into)
		}
	case []any:
		for _, x := range v {
			fieldTypes(x, path+"[]", into)
		}
	}
}

func readJSON(t *testing.T, path string) any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

// Every field the golden files of the read-only endpoints hold is a
// field Mesos writes there, with the same JSON type (reference/ holds
// trimmed real answers of Mesos masters; SOURCES.md says whence).
func TestMesosFieldsMatchMesos(t *testing.T) {
	for golden, reference := range map[string]string{
		"master_state.json": "master_state.json", "master_frameworks.json": "master_state.json",
		"master_slaves.json": "master_slaves.json", "master_tasks.json": "master_tasks.json", "master_roles.json": "master_roles.json",
	} {
		want, got := map[string]map[string]bool{}, map[string]map[string]bool{}
		fieldTypes(readJSON(t, filepath.Join("testdata", "mesos", "reference", reference)), "", want)
		fieldTypes(readJSON(t, filepath.Join("testdata", "mesos", golden)), "", got)
		for _, path := range sortedKeys(got) {
			w, ok := want[path]
			if !ok {
				t.Errorf("%s: %s is no field of Mesos' %s", golden, path, reference)
				continue
			}
			for _, typ := range sortedKeys(got[path]) {
				if !w[typ] {
					t.Errorf("%s: %s is a %s; Mesos writes %v", golden, path, typ, sortedKeys(w))
				}
			}
		}
	}
}

// Every metric of /metrics/snapshot has a Mesos metric's name.
func TestMesosMetricNames(t *testing.T) {
	var names []*regexp.Regexp
	for name := range readJSON(t, filepath.Join("testdata", "mesos", "reference", "metrics_snapshot.json")).(map[string]any) {
		pattern := regexp.QuoteMeta(name)
		pattern = strings.NewReplacer("<role>", ".+", "<resource>", "[a-z_]+").Replace(pattern)
		names = append(names, regexp.MustCompile("^"+pattern+"$"))
	}
	got := readJSON(t, filepath.Join("testdata", "mesos", "metrics_snapshot.json")).(map[string]any)
	for _, name := range sortedKeys(got) {
		if !slices.ContainsFunc(names, func(re *regexp.Regexp) bool { return re.MatchString(name) }) {
			t.Errorf("%s is no metric of Mesos'", name)
		}
		if jsonType(got[name]) != "number" {
			t.Errorf("%s is a %s, not a number", name, jsonType(got[name]))
		}
	}
}

// Every operator response decodes with mesos-go's types of master.proto
// (its own JSON decoder), and every field of it is a field of
// master.proto's Response at that place, of a compatible type.
func TestOperatorResponsesMatchMasterProto(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "mesos", "operator", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no operator golden files: %v", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var resp mesosmaster.Response
		if err := json.Unmarshal(data, &resp); err != nil {
			t.Errorf("%s: mesos-go cannot decode it: %v", f, err)
		}
		if want := strings.TrimSuffix(filepath.Base(f), ".json"); resp.Type.String() != want {
			t.Errorf("%s: decoded as a Response of type %s", f, resp.Type)
		}
		var v any
		_ = json.Unmarshal(data, &v)
		for _, e := range protoMismatches(v, reflect.TypeOf(resp), "") {
			t.Errorf("%s: %s", f, e)
		}
	}
}

// protoMismatches walks a decoded JSON value along the Go type mesos-go
// generated for its message, and lists what does not fit.
func protoMismatches(v any, typ reflect.Type, path string) []string {
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	want := func(kinds ...string) []string {
		if slices.Contains(kinds, jsonType(v)) {
			return nil
		}
		return []string{fmt.Sprintf("%s is a %s; master.proto has a %s (%s)", path, jsonType(v), strings.Join(kinds, " or "), typ)}
	}
	if reflect.PointerTo(typ).Implements(reflect.TypeFor[json.Unmarshaler]()) && typ.Kind() == reflect.Int32 { // an enum, by name
		if errs := want("string"); errs != nil {
			return errs
		}
		e := reflect.New(typ).Interface().(json.Unmarshaler)
		if err := e.UnmarshalJSON(mustJSON(v)); err != nil {
			return []string{fmt.Sprintf("%s: %v", path, err)}
		}
		return nil
	}
	switch typ.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return want("object")
		}
		fields := map[string]reflect.Type{}
		for i := range typ.NumField() {
			name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
			fields[name] = typ.Field(i).Type
		}
		var errs []string
		for _, k := range sortedKeys(obj) {
			ft, ok := fields[k]
			if !ok {
				errs = append(errs, fmt.Sprintf("%s.%s is no field of %s", path, k, typ))
				continue
			}
			errs = append(errs, protoMismatches(obj[k], ft, path+"."+k)...)
		}
		return errs
	case reflect.Slice:
		if typ.Elem().Kind() == reflect.Uint8 {
			return want("string") // bytes, in base64
		}
		list, ok := v.([]any)
		if !ok {
			return want("array")
		}
		var errs []string
		for _, x := range list {
			errs = append(errs, protoMismatches(x, typ.Elem(), path+"[]")...)
		}
		return errs
	case reflect.Map:
		obj, ok := v.(map[string]any)
		if !ok {
			return want("object")
		}
		var errs []string
		for _, k := range sortedKeys(obj) {
			errs = append(errs, protoMismatches(obj[k], typ.Elem(), path+"."+k)...)
		}
		return errs
	case reflect.String:
		return want("string")
	case reflect.Bool:
		return want("bool")
	case reflect.Float32, reflect.Float64, reflect.Int32, reflect.Int64, reflect.Uint32, reflect.Uint64:
		return want("number")
	}
	return []string{fmt.Sprintf("%s: unexpected type %s", path, typ)}
}
