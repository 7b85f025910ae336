package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/pkg/sftp"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/archive"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// checkSource returns why a CopyToRemote source cannot be copied, or "".
func checkSource(v resource.PropertyValue) string {
	v = unsecret(v)
	switch {
	case v.ContainsUnknowns():
		return ""
	case v.IsAsset():
		if a := v.AssetValue(); !a.IsPath() && !a.IsText() {
			return "source must be a FileAsset or a StringAsset (remote assets are not supported)"
		}
	case v.IsArchive():
		if a := v.ArchiveValue(); !a.IsPath() && !a.IsAssets() {
			return "source must be a FileArchive or an AssetArchive (remote archives are not supported)"
		}
	default:
		return "source must be an asset or an archive"
	}
	return ""
}

// copy implements CopyToRemote and CopyFile over SFTP. Parent directories of remotePath are
// created. Path-based sources follow upstream's rules (a file onto an existing directory lands
// inside it; a directory lands in remotePath/<its name>, or with a trailing "/" its contents go
// into remotePath; archive files such as .tgz are copied as they are, not unpacked). A StringAsset
// is written to remotePath; an AssetArchive's members are written under the directory remotePath.
func (p *provider) copy(ctx context.Context, typ, urn string, inputs resource.PropertyMap) (resource.PropertyMap, error) {
	conn, err := parseConnection(inputs["connection"])
	if err != nil {
		return nil, err
	}
	dest := plainString(inputs["remotePath"])
	cl, err := dial(ctx, conn)
	if err != nil {
		return nil, fmt.Errorf("copy to %s: %w", dest, err)
	}
	defer cl.Close()
	sc, err := sftp.NewClient(cl.Client, sftp.UseConcurrentWrites(true))
	if err != nil {
		return nil, fmt.Errorf("copy to %s: starting SFTP on %s (is the sftp subsystem enabled?): %w", dest, conn, err)
	}
	defer func() { _ = sc.Close() }()
	up := &uploader{sc: sc, status: func(msg string) {
		p.log(ctx, pulumirpc.LogSeverity_INFO, urn, msg, true)
	}}

	src := unsecret(inputs["source"])
	switch {
	case typ == copyFile:
		err = up.copyPath(plainString(inputs["localPath"]), dest)
	case src.IsAsset() && src.AssetValue().IsPath():
		err = up.copyPath(src.AssetValue().Path, dest)
	case src.IsAsset():
		err = up.writeText(src.AssetValue().Text, dest)
	case src.IsArchive() && src.ArchiveValue().IsPath():
		err = up.copyPath(src.ArchiveValue().Path, dest)
	case src.IsArchive():
		err = up.writeArchive(src.ArchiveValue(), dest)
	default:
		err = errors.New(checkSource(src))
	}
	if err != nil {
		return nil, fmt.Errorf("copy to %s on %s: %w", dest, conn, err)
	}
	return inputs.Copy(), nil
}

type uploader struct {
	sc     *sftp.Client
	status func(string)
}

// stat returns nil, nil when the remote path does not exist.
func (u *uploader) stat(p string) (fs.FileInfo, error) {
	fi, err := u.sc.Stat(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return fi, err
}

func (u *uploader) copyPath(local, dest string) error {
	fi, err := os.Stat(local)
	if err != nil {
		return err
	}
	destInfo, err := u.stat(dest)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		if destInfo != nil && destInfo.IsDir() {
			dest = path.Join(dest, filepath.Base(local))
		}
		return u.copyFile(local, dest, fi.Mode().Perm())
	}
	if destInfo != nil && !destInfo.IsDir() {
		return fmt.Errorf("%s is a directory but the remote path exists and is not one", local)
	}
	if !strings.HasSuffix(local, "/") {
		dest = path.Join(dest, filepath.Base(local))
	}
	return filepath.WalkDir(local, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(local, p)
		target := path.Join(dest, filepath.ToSlash(rel))
		info, err := os.Stat(p) // follows symlinks: a linked file is copied as a file
		if err != nil {
			return err
		}
		if info.IsDir() {
			if d.Type()&fs.ModeSymlink != 0 {
				return nil // not followed, so a link cycle cannot recurse forever
			}
			return u.sc.MkdirAll(target)
		}
		return u.copyFile(p, target, info.Mode().Perm())
	})
}

func (u *uploader) copyFile(local, dest string, mode fs.FileMode) error {
	f, err := os.Open(local)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	u.status(fmt.Sprintf("copying %s to %s", local, dest))
	return u.write(f, dest, mode)
}

func (u *uploader) writeText(text, dest string) error {
	if fi, err := u.stat(dest); err != nil {
		return err
	} else if fi != nil && fi.IsDir() {
		return fmt.Errorf("remote path %s is a directory; for a StringAsset it must be a file path", dest)
	}
	return u.write(strings.NewReader(text), dest, 0o644)
}

func (u *uploader) writeArchive(ar *archive.Archive, dest string) error {
	r, err := ar.Open()
	if err != nil {
		return err
	}
	defer func() { _ = r.Close() }()
	for {
		name, blob, err := r.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		target := path.Join(dest, filepath.ToSlash(name))
		if !strings.HasPrefix(target, path.Clean(dest)+"/") {
			_ = blob.Close()
			return fmt.Errorf("archive member %q would land outside %s", name, dest)
		}
		err = u.write(blob, target, 0o644)
		_ = blob.Close()
		if err != nil {
			return err
		}
	}
}

// write uploads into a temporary file next to dest and renames it over dest: a reader never sees
// a half-written file, and replacing a binary that is running (k3s) works where truncating it
// fails with "text file busy".
func (u *uploader) write(r io.Reader, dest string, mode fs.FileMode) error {
	if err := u.sc.MkdirAll(path.Dir(dest)); err != nil {
		return fmt.Errorf("creating %s: %w", path.Dir(dest), err)
	}
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	tmp := fmt.Sprintf("%s.fjord-%s", dest, hex.EncodeToString(suffix))
	f, err := u.sc.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return fmt.Errorf("creating %s: %w", tmp, err)
	}
	_, err = f.ReadFrom(r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = u.sc.Chmod(tmp, mode)
	}
	if err == nil {
		err = u.sc.PosixRename(tmp, dest)
	}
	if err != nil {
		_ = u.sc.Remove(tmp)
		return fmt.Errorf("writing %s: %w", dest, err)
	}
	return nil
}
