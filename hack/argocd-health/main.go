// argocd-health: runs Argo CD resource-customization health tests without Argo CD.
//
// For each folder given (Argo CD's layout: health.lua, health_test.yaml, testdata/), it runs
// health.lua on every test's inputPath with gopher-lua, the Lua engine Argo CD embeds, set up
// as Argo CD's util/lua does it (only the package, base and table libraries; the object in the
// global `obj`; a 1 s time limit), and compares the returned status and message with the
// test's healthStatus. Prints one line per test; exits 1 on any mismatch or error.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	lua "github.com/yuin/gopher-lua"
	"sigs.k8s.io/yaml"
)

type healthStatus struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

type testFile struct {
	Tests []struct {
		HealthStatus healthStatus `json:"healthStatus"`
		InputPath    string       `json:"inputPath"`
	} `json:"tests"`
}

// Argo CD's health codes (gitops-engine health.HealthStatusCode).
var knownStatus = map[string]bool{
	"Healthy": true, "Progressing": true, "Degraded": true, "Suspended": true, "Missing": true, "Unknown": true,
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: argocd-health <resource-customization folder>...")
		os.Exit(2)
	}
	failed := 0
	for _, dir := range os.Args[1:] {
		failed += runFolder(dir)
	}
	if failed > 0 {
		fmt.Printf("FAIL: %d test(s)\n", failed)
		os.Exit(1)
	}
	fmt.Println("PASS")
}

func runFolder(dir string) int {
	script, err := os.ReadFile(filepath.Join(dir, "health.lua"))
	if err != nil {
		fmt.Printf("FAIL %s: %v\n", dir, err)
		return 1
	}
	var tests testFile
	if err := readYAML(filepath.Join(dir, "health_test.yaml"), &tests); err != nil || len(tests.Tests) == 0 {
		fmt.Printf("FAIL %s: no tests in health_test.yaml (%v)\n", dir, err)
		return 1
	}
	failed := 0
	for _, t := range tests.Tests {
		var obj map[string]interface{}
		if err := readYAML(filepath.Join(dir, t.InputPath), &obj); err != nil {
			fmt.Printf("FAIL %s %s: %v\n", dir, t.InputPath, err)
			failed++
			continue
		}
		got, err := health(string(script), obj)
		switch {
		case err != nil:
			fmt.Printf("FAIL %s %s: %v\n", dir, t.InputPath, err)
			failed++
		case *got != t.HealthStatus:
			fmt.Printf("FAIL %s %s: got %+v, want %+v\n", dir, t.InputPath, *got, t.HealthStatus)
			failed++
		default:
			fmt.Printf("ok   %s %s: %s %q\n", dir, t.InputPath, got.Status, got.Message)
		}
	}
	return failed
}

func readYAML(path string, into interface{}) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return yaml.UnmarshalStrict(data, into)
}

func health(script string, obj map[string]interface{}) (*healthStatus, error) {
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{{lua.LoadLibName, lua.OpenPackage}, {lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}} {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(lib.open), Protect: true}, lua.LString(lib.name)); err != nil {
			return nil, err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	l.SetContext(ctx)
	l.SetGlobal("obj", toLua(l, obj))
	if err := l.DoString(script); err != nil {
		return nil, err
	}
	table, ok := l.Get(-1).(*lua.LTable)
	if !ok {
		return nil, fmt.Errorf("health.lua returned %s, not a table", l.Get(-1).Type())
	}
	raw, err := json.Marshal(fromLua(table))
	if err != nil {
		return nil, err
	}
	var hs healthStatus
	if err := json.Unmarshal(raw, &hs); err != nil {
		return nil, err
	}
	if !knownStatus[hs.Status] {
		return nil, fmt.Errorf("health.lua returned an invalid health status %q", hs.Status)
	}
	return &hs, nil
}

// toLua converts decoded JSON as Argo CD's decodeValue does: objects and arrays to tables.
func toLua(l *lua.LState, value interface{}) lua.LValue {
	switch v := value.(type) {
	case map[string]interface{}:
		t := l.NewTable()
		for k, item := range v {
			t.RawSetString(k, toLua(l, item))
		}
		return t
	case []interface{}:
		t := l.NewTable()
		for _, item := range v {
			t.Append(toLua(l, item))
		}
		return t
	case string:
		return lua.LString(v)
	case bool:
		return lua.LBool(v)
	case float64:
		return lua.LNumber(v)
	case nil:
		return lua.LNil
	default:
		return lua.LString(fmt.Sprint(v))
	}
}

func fromLua(t *lua.LTable) map[string]interface{} {
	out := map[string]interface{}{}
	t.ForEach(func(k, v lua.LValue) {
		switch x := v.(type) {
		case lua.LString:
			out[k.String()] = string(x)
		case *lua.LTable:
			out[k.String()] = fromLua(x)
		default:
			out[k.String()] = x.String()
		}
	})
	return out
}
