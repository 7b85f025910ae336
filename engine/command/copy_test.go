package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/archive"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/asset"
)

// The test server runs on this machine, so "remote" paths are local paths under a temp dir.
func TestCopyToRemote(t *testing.T) {
	s := newSshd(t)
	s.start()
	c := newCaptured()
	local, remote := t.TempDir(), t.TempDir()
	write := func(rel, text string, mode os.FileMode) string {
		p := filepath.Join(local, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	read := func(rel string) string {
		b, err := os.ReadFile(filepath.Join(remote, rel))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	copyTo := func(source resource.PropertyValue, dest string) error {
		_, err := c.create(t, copyToRemote, resource.PropertyMap{
			"connection": s.connection(nil), "source": source,
			"remotePath": resource.NewStringProperty(filepath.Join(remote, dest)),
		})
		return err
	}
	fileAsset := func(p string) resource.PropertyValue {
		a, err := asset.FromPath(p)
		if err != nil {
			t.Fatal(err)
		}
		return resource.NewAssetProperty(a)
	}

	// A file into missing parent directories, keeping its mode; then overwritten.
	bin := write("k3s", "binary v1", 0o755)
	if err := copyTo(fileAsset(bin), "var/tmp/airgap/k3s"); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(remote, "var/tmp/airgap/k3s")); err != nil || fi.Mode().Perm() != 0o755 {
		t.Fatalf("copied file: %v %v", fi, err)
	}
	write("k3s", "binary v2", 0o755)
	if err := copyTo(fileAsset(bin), "var/tmp/airgap/k3s"); err != nil || read("var/tmp/airgap/k3s") != "binary v2" {
		t.Fatalf("overwrite: %v", err)
	}
	// A file onto an existing directory lands inside it.
	if err := copyTo(fileAsset(bin), "var/tmp"); err != nil || read("var/tmp/k3s") != "binary v2" {
		t.Fatalf("into a directory: %v", err)
	}

	// A StringAsset.
	text, _ := asset.FromText("hello\n")
	if err := copyTo(resource.NewAssetProperty(text), "etc/greeting"); err != nil || read("etc/greeting") != "hello\n" {
		t.Fatalf("string asset: %v", err)
	}

	// A directory (FileArchive of a path), recursively, as remotePath/<name>.
	write("site/index.html", "<h1>", 0o644)
	write("site/css/main.css", "body{}", 0o600)
	dir, err := archive.FromPath(filepath.Join(local, "site"))
	if err != nil {
		t.Fatal(err)
	}
	if err := copyTo(resource.NewArchiveProperty(dir), "srv"); err != nil {
		t.Fatal(err)
	}
	if read("srv/site/index.html") != "<h1>" || read("srv/site/css/main.css") != "body{}" {
		t.Error("directory copy incomplete")
	}
	if fi, _ := os.Stat(filepath.Join(remote, "srv/site/css/main.css")); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode of a copied dir member = %v", fi.Mode())
	}

	// An AssetArchive: members under remotePath.
	a1, _ := asset.FromText("one")
	ar, err := archive.FromAssets(map[string]any{"a/one.txt": a1, "two.txt": fileAsset(bin).AssetValue()})
	if err != nil {
		t.Fatal(err)
	}
	if err := copyTo(resource.NewArchiveProperty(ar), "bundle"); err != nil {
		t.Fatal(err)
	}
	if read("bundle/a/one.txt") != "one" || read("bundle/two.txt") != "binary v2" {
		t.Error("asset archive copy incomplete")
	}

	// CopyFile (deprecated): localPath to remotePath.
	if _, err := c.create(t, copyFile, resource.PropertyMap{
		"connection": s.connection(nil), "localPath": resource.NewStringProperty(bin),
		"remotePath": resource.NewStringProperty(filepath.Join(remote, "copyfile/k3s")),
	}); err != nil || read("copyfile/k3s") != "binary v2" {
		t.Fatalf("CopyFile: %v", err)
	}

	// No temporary files are left behind.
	_ = filepath.Walk(remote, func(p string, _ os.FileInfo, _ error) error {
		if strings.Contains(filepath.Base(p), ".fjord-") {
			t.Errorf("left behind: %s", p)
		}
		return nil
	})
}

func TestCopyChecksTheSource(t *testing.T) {
	c := newCaptured()
	_, err := c.create(t, copyToRemote, resource.PropertyMap{
		"connection": resource.NewObjectProperty(resource.PropertyMap{"host": resource.NewStringProperty("127.0.0.1")}),
		"source":     resource.NewStringProperty("/etc/hostname"),
		"remotePath": resource.NewStringProperty("/tmp/x"),
	})
	if err == nil || !strings.Contains(err.Error(), "asset or an archive") {
		t.Fatalf("error = %v", err)
	}
}
