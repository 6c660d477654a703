package wechatpay

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Bill is where a bill file is and what its digest is: the answer of
// v3/bill/tradebill or v3/bill/fundflowbill, read with resp.Decode(&bill).
type Bill struct {
	DownloadURL string `json:"download_url"` // the file's URL, fetched with a signed GET
	HashType    string `json:"hash_type"`    // SHA1 (or SHA256)
	HashValue   string `json:"hash_value"`   // hex, over the bill decompressed
}

// DownloadBill downloads bill to the file at path in one call: streamed
// (memory does not grow with the bill) into a temporary file in the same
// directory (.<name>.<random>.part), which is synced and renamed to path
// only when the digest matches. On any failure, ErrDigestMismatch and a
// cancelled context included, the temporary file is removed and whatever
// was at path is left as it was. A gzip bill (tar_type GZIP) is written
// decompressed: the file is then exactly what the digest covers. The
// digest is required: a Bill without HashType and HashValue is refused
// before anything is sent.
//
// path names a new file, or a regular file that the caller may write: the
// new file replaces it and keeps its permission bits (a new file gets
// 0600, as a bill is confidential). Anything else at path (a directory, a
// symbolic link, which would itself be replaced rather than its target, a
// named pipe, a device, a socket) or a file that cannot be written is
// refused before anything is sent.
func (b *Builder) DownloadBill(ctx context.Context, bill Bill, path string) error {
	fail := func(err error) error { return fmt.Errorf("wechatpay: DownloadBill: %w", err) }
	switch {
	case b.ready() != nil:
		return errNotBuilt
	case bill.DownloadURL == "":
		return fail(errors.New("Bill.DownloadURL is empty: expected the download_url of the v3/bill/tradebill or v3/bill/fundflowbill answer"))
	case bill.HashType == "" || bill.HashValue == "":
		return fail(errors.New("Bill.HashType and Bill.HashValue are needed to check the file: expected the hash_type and hash_value of the v3/bill/tradebill or v3/bill/fundflowbill answer"))
	case path == "":
		return fail(errors.New("the file path is empty"))
	}
	if _, err := newDigest(bill.HashType); err != nil {
		return fail(fmt.Errorf("Bill.HashType %q: expected SHA1 or SHA256", bill.HashType))
	}
	chain := b.Chain(bill.DownloadURL)
	if err := chain.Err(); err != nil {
		return err
	}
	mode, exists, err := billTarget(path)
	if err != nil {
		return fail(err)
	}
	dir, name := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+name+".*.part")
	if err != nil {
		return fail(err)
	}
	done := false
	defer func() {
		if !done {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	_, err = chain.Get(ctx, Options{Sink: &Sink{Writer: f, HashType: bill.HashType, HashValue: bill.HashValue, Gunzip: true}})
	if err != nil {
		return err
	}
	if exists {
		if err := f.Chmod(mode); err != nil {
			return fail(err)
		}
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		return fail(err)
	}
	// What is at path may have changed during the download: check again
	// just before replacing it.
	if _, _, err := billTarget(path); err != nil {
		return fail(err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		os.Remove(f.Name())
		done = true
		return fail(err)
	}
	done = true
	// The rename lasts once the directory is synced; not every system can
	// sync a directory, and the file is already whole, so this is best effort.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// billTarget checks what is at a bill's path before anything is sent: a
// new file, or a regular file the caller may write, whose permission bits
// it returns with exists set. It opens an existing file for writing,
// without truncating it, to learn whether it may be written; anything that
// is not a regular file is never opened (a named pipe would block).
func billTarget(path string) (mode os.FileMode, exists bool, err error) {
	const want = "expected the path of a regular file to replace, or of a new file"
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if strings.HasSuffix(path, "/") || strings.HasSuffix(path, string(filepath.Separator)) {
			return 0, false, fmt.Errorf("%s ends in a path separator: %s", path, want)
		}
		return 0, false, nil
	case err != nil:
		return 0, false, fmt.Errorf("%w: %s", err, want)
	case !fi.Mode().IsRegular():
		return 0, false, fmt.Errorf("%s is %s: %s", path, fileKind(fi.Mode()), want)
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return 0, false, fmt.Errorf("the file at %s cannot be written (%w): %s that this process may write", path, err, want)
	}
	opened, err := f.Stat()
	f.Close()
	if err != nil || !os.SameFile(fi, opened) {
		return 0, false, fmt.Errorf("%s changed while it was checked: %s", path, want)
	}
	return fi.Mode().Perm(), true, nil
}

// fileKind names what a file that is not a regular file is.
func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link (replacing it would replace the link, not its target)"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "not a regular file (" + m.Type().String() + ")"
}
