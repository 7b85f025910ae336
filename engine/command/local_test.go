package main

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

func str(s string) resource.PropertyValue { return resource.NewStringProperty(s) }

func TestDiff(t *testing.T) {
	conn := func(host, key string) resource.PropertyValue {
		return resource.MakeSecret(resource.NewObjectProperty(resource.PropertyMap{
			"host": str(host), "port": resource.NewNumberProperty(22), "user": str("root"), "privateKey": str(key),
		}))
	}
	base := resource.PropertyMap{
		"connection": conn("10.0.0.1", "k1"), "create": str("c"), "update": str("u"), "stdin": str("script"),
		"triggers": resource.NewArrayProperty([]resource.PropertyValue{str("h1")}),
	}
	with := func(k resource.PropertyKey, v resource.PropertyValue) resource.PropertyMap {
		m := base.Copy()
		if v.IsNull() {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	cases := []struct {
		name         string
		olds, news   resource.PropertyMap
		changes      pulumirpc.DiffResponse_DiffChanges
		replaces     []string
		deleteBefore bool
	}{
		{"unchanged", base, base.Copy(), pulumirpc.DiffResponse_DIFF_NONE, nil, false},
		{"secret vs plain is no change", base, with("stdin", resource.MakeSecret(str("script"))),
			pulumirpc.DiffResponse_DIFF_NONE, nil, false},
		{"stdin with update runs update", base, with("stdin", str("new")), pulumirpc.DiffResponse_DIFF_SOME, nil, false},
		{"triggers replace", base, with("triggers", resource.NewArrayProperty([]resource.PropertyValue{str("h2")})),
			pulumirpc.DiffResponse_DIFF_SOME, []string{"triggers"}, false},
		{"another host replaces", base, with("connection", conn("10.0.0.2", "k1")),
			pulumirpc.DiffResponse_DIFF_SOME, []string{"connection"}, false},
		{"a new key re-runs nothing", base, with("connection", conn("10.0.0.1", "k2")),
			pulumirpc.DiffResponse_DIFF_SOME, nil, false},
		{"replace with a delete command deletes first", with("delete", str("undo")),
			with("triggers", resource.NewArrayProperty(nil)), pulumirpc.DiffResponse_DIFF_SOME,
			[]string{"triggers"}, true},
	}
	for _, c := range cases {
		d := diff(remoteCommand, c.olds, c.news, nil)
		if d.GetChanges() != c.changes || strings.Join(d.GetReplaces(), ",") != strings.Join(c.replaces, ",") ||
			d.GetDeleteBeforeReplace() != c.deleteBefore {
			t.Errorf("%s: got changes=%v replaces=%v dbr=%v", c.name, d.GetChanges(), d.GetReplaces(),
				d.GetDeleteBeforeReplace())
		}
	}
	noUpdate := with("update", resource.NewNullProperty())
	changedStdin := noUpdate.Copy()
	changedStdin["stdin"] = str("new")
	if d := diff(remoteCommand, noUpdate, changedStdin, nil); strings.Join(d.GetReplaces(), ",") != "stdin" {
		t.Errorf("stdin change without update: replaces=%v", d.GetReplaces())
	}
	if d := diff(remoteCommand, base, with("stdin", resource.MakeComputed(str(""))), nil); d.GetChanges() !=
		pulumirpc.DiffResponse_DIFF_SOME {
		t.Errorf("unknown stdin: %v", d.GetChanges())
	}
	copyOld := resource.PropertyMap{"connection": conn("h", "k"), "remotePath": str("/a"), "source": str("x")}
	copyNew := copyOld.Copy()
	copyNew["remotePath"] = str("/b")
	if d := diff(copyToRemote, copyOld, copyNew, nil); strings.Join(d.GetReplaces(), ",") != "remotePath" {
		t.Errorf("copy remotePath change: replaces=%v", d.GetReplaces())
	}
}

func TestLocalCommand(t *testing.T) {
	dir := t.TempDir()
	c := newCaptured()
	state, err := c.create(t, localCommand, resource.PropertyMap{
		"create":       str(`printf 'hi %s ' "$WHO"; cat; mkdir -p out/sub; echo a >out/a.txt; echo b >out/sub/b.txt; echo s >out/secret.txt`),
		"dir":          str(dir),
		"stdin":        str("in"),
		"environment":  resource.NewObjectProperty(resource.PropertyMap{"WHO": str("fjord")}),
		"assetPaths":   resource.NewArrayProperty([]resource.PropertyValue{str("out/**"), str("!**secret.*")}),
		"archivePaths": resource.NewArrayProperty([]resource.PropertyValue{str("out/*.txt")}),
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := plainString(state["stdout"]); got != "hi fjord in" {
		t.Errorf("stdout = %q", got)
	}
	var assets []string
	for k := range state["assets"].ObjectValue() {
		assets = append(assets, string(k))
	}
	sort.Strings(assets)
	if strings.Join(assets, ",") != "out/a.txt,out/sub/b.txt" {
		t.Errorf("assets = %v", assets)
	}
	members, _ := state["archive"].ArchiveValue().GetAssets()
	if len(members) != 2 { // out/a.txt, out/secret.txt (`*` does not cross `/`)
		t.Errorf("archive members = %v", members)
	}

	_, err = c.create(t, localCommand, resource.PropertyMap{
		"create": str("echo 'fjord: it broke' >&2; exit 4"), "dir": str(dir),
	})
	if err == nil || !strings.Contains(err.Error(), "exit code 4") || !strings.Contains(err.Error(), "fjord: it broke") {
		t.Fatalf("error = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "out/a.txt")); err != nil {
		t.Fatal(err)
	}
}

func TestGlobs(t *testing.T) {
	rules, err := compileGlobs([]string{"assets/**", "src/**.js", "!**secret.*", "{a,b}/?.[ch]"})
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]bool{
		"assets/logos/logo.svg": true, "src/index.js": true, "src/secret.js": false, "src/x/y.js": true,
		"other.js": false, "a/x.c": true, "b/y.h": true, "c/x.c": false, "a/xy.c": false,
	} {
		if rules.match(path) != want {
			t.Errorf("%s: got %v", path, !want)
		}
	}
}

func TestLineLogAndRedaction(t *testing.T) {
	var got []string
	l := &lineLog{emit: func(s string) { got = append(got, s) }}
	_, _ = l.Write([]byte("one\ntw"))
	_, _ = l.Write([]byte("o\r\nthree"))
	l.flush()
	if strings.Join(got, "|") != "one|two|three" {
		t.Errorf("lines = %q", got)
	}
	r := newRedactor(resource.PropertyMap{
		"environment": resource.NewObjectProperty(resource.PropertyMap{
			"A": resource.MakeSecret(str("topsecret")), "B": str("public"), "C": resource.MakeSecret(str("ab")),
		}),
		"connection": resource.MakeSecret(resource.NewObjectProperty(resource.PropertyMap{"password": str("hunter22")})),
	})
	if got := r.apply("topsecret public hunter22 ab"); got != "[secret] public [secret] ab" {
		t.Errorf("redacted = %q", got)
	}
}
