package wechatpay

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/wechatpay-chain/wechatpay/middleware"
)

// Media is a file for a meta+file upload endpoint
// (v3/merchant/media/upload, video_upload, marketing and complaint image
// uploads, ...): Options.Media. The body is multipart: a "meta" JSON part
// with the file name and its SHA-256, then the "file" part; only the meta
// is signed.
type Media struct {
	// Filename names the file in the meta and the file part, in UTF-8.
	// Quotes and backslashes are escaped; a control character (CR, LF, ...)
	// is an error, as it would add a header to the part.
	Filename string
	// ContentType of the file part, a media type such as image/png (no
	// control characters); empty guesses from Filename (image/jpeg,
	// image/png, video/mp4, ...).
	ContentType string
	// Path reads the file from disk, streaming it (read twice: once to
	// hash it, once to send it).
	Path string
	// Reader reads the file instead: an io.ReadSeeker is streamed like a
	// path; any other reader is held in memory to hash it, unless SHA256 is
	// given.
	Reader io.Reader
	// SHA256 is the file's hex SHA-256, when already known.
	SHA256 string
	// Meta replaces the default meta {"filename": ..., "sha256": ...}, for
	// endpoints that want more fields; it is marshalled to JSON.
	Meta any
}

// Sink receives a download as it arrives (Options.Sink): bill files from a
// download_url, complaint images, statements, e-vouchers. Memory does not
// grow with the file, which Config.MaxResponseBytes does not limit (an
// error answer is read into memory, and is limited). When the check at the
// end fails (digest, or the signature of a signed download), the error
// says so and what was written must not be used.
type Sink struct {
	// Writer receives the file as it arrives (decompressed with Gunzip);
	// required. What it holds is usable only once the request succeeds.
	Writer io.Writer
	// HashType ("SHA1" or "SHA256") and HashValue come from the step that
	// gave the download_url (v3/bill/tradebill, v3/bill/fundflowbill, ...);
	// both empty skips the check, one without the other is an error. The
	// digest covers the file decompressed. Builder.DownloadBill writes a
	// bill to a file that exists only once the check has passed.
	HashType, HashValue string
	// Gunzip writes a gzip file decompressed.
	Gunzip bool
}

// doStream sends a request whose body or answer must not be held in
// memory (Options.Media, Options.Sink). It runs the same middleware stack
// on the same HTTP client as other requests, but bypasses resty, which
// reads every request body into memory; retries do not apply.
func (c *Chain) doStream(ctx context.Context, method string, o Options, stack *middleware.Stack, target string) (*Response, error) {
	fail := func(err error) (*Response, error) { return c.fail(method, err) }
	var body io.ReadCloser
	var length int64
	var getBody func() (io.ReadCloser, error)
	contentType := ""
	if o.Media != nil {
		up, err := o.Media.multipart()
		if err != nil {
			return fail(fmt.Errorf("Options.Media: %w", err))
		}
		defer up.close()
		ctx = middleware.WithSignedBody(ctx, up.meta)
		body, length, getBody, contentType = up.body, up.length, up.getBody, up.contentType
	}
	req, err := http.NewRequestWithContext(context.WithValue(ctx, stackKey{}, stack), method, target, body)
	if err != nil {
		return fail(err)
	}
	req.ContentLength, req.GetBody = length, getBody
	copyHeaders(req.Header, o.Headers)
	if contentType != "" && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", contentType)
	}
	countAttempt(ctx)
	if err := stack.HandleRequest(req); err != nil {
		return fail(err)
	}
	resp, err := c.b.client.GetClient().Do(req)
	if err != nil {
		return fail(err)
	}
	defer resp.Body.Close()

	if !success(resp.StatusCode) || o.Sink == nil {
		// Error answers and upload answers are small JSON: read them whole,
		// up to Config.MaxResponseBytes.
		data, err := c.wholeAnswer(method, stack, resp, resp.Body, c.b.limit())
		if err != nil {
			return nil, err
		}
		return &Response{http: resp, body: data}, nil
	}
	if err := c.sink(ctx, stack, resp, o.Sink); err != nil {
		return fail(err)
	}
	return &Response{http: resp}, nil
}

// sink streams a 2xx answer into s, checking its signature (unless it is
// one of the unsigned downloads) and its digest as it goes.
func (c *Chain) sink(ctx context.Context, stack *middleware.Stack, resp *http.Response, s *Sink) error {
	// The other response steps see the answer without its body.
	others := stack.Clone()
	if others.Has(middleware.VerifierStep) {
		_ = others.Remove(middleware.VerifierStep)
	}
	if err := others.HandleResponse(resp, nil); err != nil {
		return err
	}
	hashType, hashValue := s.HashType, s.HashValue
	verifyTo := io.Discard
	var verifyDone func() *VerificationError
	if stack.Has(middleware.VerifierStep) && !middleware.Unsigned(resp.Request.URL.EscapedPath()) {
		v := &middleware.Verifier{Keys: c.b.keys}
		if sha := resp.Header.Get("Wechatpay-Statement-Sha1"); sha != "" {
			// Overseas statements: the signature covers {"sha1":...}; the
			// file is then checked against that SHA-1.
			h := resp.Header.Clone()
			h.Del("Wechatpay-Statement-Sha1")
			if err := v.Check(ctx, h, []byte(`{"sha1":"`+sha+`"}`)); err != nil {
				err.Subject, err.StatusCode = "response", resp.StatusCode
				return err
			}
			hashType, hashValue = "SHA1", sha
		} else {
			w, done, err := v.VerifyStream(ctx, resp.Header)
			if err != nil {
				err.Subject, err.StatusCode = "response", resp.StatusCode
				return err
			}
			verifyTo, verifyDone = w, done
		}
	}
	digest, err := newDigest(hashType)
	if err != nil {
		return err
	}

	n, err := copyToSink(bufio.NewReaderSize(resp.Body, 64<<10), verifyTo, s, digest)
	if err != nil {
		return fmt.Errorf("downloading (%d bytes written, incomplete: do not use them): %w", n, err)
	}
	if verifyDone != nil {
		if err := verifyDone(); err != nil {
			err.Subject, err.StatusCode = "response", resp.StatusCode
			err.Reason += fmt.Sprintf("; %d bytes were written to the Sink: do not use them", n)
			return err
		}
	}
	return checkDigest(digest, hashType, hashValue, n)
}

// copyToSink writes an answer's body to s as it arrives: as it came, or
// decompressed when it is gzip and s.Gunzip is set. verifyTo sees every
// byte as received (the signature covers them); digest, when not nil, sees
// the file decompressed. It returns the bytes written.
func copyToSink(in *bufio.Reader, verifyTo io.Writer, s *Sink, digest hash.Hash) (int64, error) {
	magic, _ := in.Peek(2)
	raw := io.TeeReader(in, verifyTo)
	out := &countingWriter{w: s.Writer}
	file := io.Writer(out) // where the decompressed file goes
	if digest != nil {
		file = io.MultiWriter(out, digest)
	}
	isGzip := len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b
	var err error
	switch {
	case isGzip && s.Gunzip:
		err = gunzip(file, raw)
	case isGzip && digest != nil:
		// Write the gzip bytes as they are; the digest is of the file inside.
		err = gunzip(digest, io.TeeReader(raw, out))
	default:
		_, err = io.Copy(file, raw)
	}
	if err == nil {
		_, err = io.Copy(io.Discard, raw) // what follows a gzip stream still counts for the signature
	}
	return out.n, err
}

// checkDigest compares the digest of a download with the expected one.
func checkDigest(digest hash.Hash, hashType, hashValue string, written int64) error {
	if digest != nil {
		if got := hex.EncodeToString(digest.Sum(nil)); !strings.EqualFold(got, hashValue) {
			return &DigestError{HashType: strings.ToUpper(hashType), Want: strings.ToLower(hashValue), Got: got, Written: written}
		}
	}
	return nil
}

func gunzip(w io.Writer, r io.Reader) error {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return fmt.Errorf("the download looked like gzip but is not: %w", err)
	}
	if _, err := io.Copy(w, zr); err != nil {
		return err
	}
	return zr.Close()
}

func newDigest(hashType string) (hash.Hash, error) {
	switch strings.ToUpper(hashType) {
	case "":
		return nil, nil
	case "SHA1":
		return sha1.New(), nil
	case "SHA256":
		return sha256.New(), nil
	}
	return nil, fmt.Errorf("Options.Sink.HashType %q: expected SHA1 or SHA256", hashType)
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// upload is a prepared multipart body.
type upload struct {
	meta        []byte
	body        io.ReadCloser
	length      int64 // -1 when unknown
	getBody     func() (io.ReadCloser, error)
	contentType string
	close       func()
}

// multipart prepares the body: the meta part, then the file part streamed
// from its source, then the closing boundary.
func (m *Media) multipart() (*upload, error) {
	if m.Filename == "" {
		return nil, errors.New("Filename is empty")
	}
	// Both go into part headers: a CR or LF would start a header of its own.
	if err := checkHeaderText("Filename", m.Filename, "a file name such as logo.png"); err != nil {
		return nil, err
	}
	if !utf8.ValidString(m.Filename) {
		// The meta's JSON would carry U+FFFD, the part header the raw bytes.
		return nil, fmt.Errorf("Filename %q is not UTF-8: expected a file name in UTF-8 text", m.Filename)
	}
	if m.ContentType != "" {
		if err := checkHeaderText("ContentType", m.ContentType, "a media type such as image/png"); err != nil {
			return nil, err
		}
		// ParseMediaType also takes a bare word (it parses dispositions too).
		mt, _, err := mime.ParseMediaType(m.ContentType)
		if typ, sub, ok := strings.Cut(mt, "/"); err == nil && (!ok || typ == "" || sub == "") {
			err = errors.New("no type/subtype")
		}
		if err != nil {
			return nil, fmt.Errorf("ContentType %q is not a media type (%v): expected a media type such as image/png", m.ContentType, err)
		}
	}
	if (m.Path == "") == (m.Reader == nil) {
		return nil, errors.New("set Path or Reader, one of them")
	}
	if nilInside(m.Reader) {
		return nil, fmt.Errorf("Reader is a nil %T: expected a reader holding the file", m.Reader)
	}
	open, size, sum, reopenable, err := m.source()
	if err != nil {
		return nil, err
	}
	if m.SHA256 != "" {
		sum = strings.ToLower(m.SHA256)
	}
	var meta []byte
	if m.Meta != nil {
		meta, err = json.Marshal(m.Meta)
	} else {
		meta, err = json.Marshal(map[string]string{"filename": m.Filename, "sha256": sum})
	}
	if err != nil {
		return nil, fmt.Errorf("Meta: %w", err)
	}
	contentType := m.ContentType
	if contentType == "" {
		if contentType = mime.TypeByExtension(filepath.Ext(m.Filename)); contentType == "" {
			contentType = "application/octet-stream"
		}
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	boundary := hex.EncodeToString(b[:])
	head := []byte("--" + boundary + "\r\n" +
		"Content-Disposition: form-data; name=\"meta\"\r\nContent-Type: application/json\r\n\r\n" + string(meta) + "\r\n" +
		"--" + boundary + "\r\n" +
		"Content-Disposition: form-data; name=\"file\"; filename=\"" + escapeQuotes(m.Filename) + "\"\r\nContent-Type: " + contentType + "\r\n\r\n")
	tail := []byte("\r\n--" + boundary + "--\r\n")

	var opened []io.Closer
	body := func() (io.ReadCloser, error) {
		f, err := open()
		if err != nil {
			return nil, err
		}
		opened = append(opened, f)
		return struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(head), f, bytes.NewReader(tail)), f}, nil
	}
	first, err := body()
	if err != nil {
		return nil, err
	}
	up := &upload{meta: meta, body: first, length: -1, contentType: "multipart/form-data; boundary=" + boundary,
		close: func() {
			for _, c := range opened {
				c.Close()
			}
		}}
	if size >= 0 {
		up.length = int64(len(head)) + size + int64(len(tail))
	}
	if reopenable {
		up.getBody = body // a second attempt (failover) reads the file again
	}
	return up, nil
}

// source returns how to open the file, its size (-1 when unknown), its
// SHA-256 (unless Media.SHA256 or Meta is given) and whether it can be read
// again for a second attempt.
func (m *Media) source() (open func() (io.ReadCloser, error), size int64, sum string, reopenable bool, err error) {
	needSum := m.SHA256 == "" && m.Meta == nil
	switch r := m.Reader.(type) {
	case nil:
		open = func() (io.ReadCloser, error) { return os.Open(m.Path) }
		fi, err := os.Stat(m.Path)
		if err != nil {
			return nil, 0, "", false, err
		}
		size = fi.Size()
	case io.ReadSeeker:
		start, err := r.Seek(0, io.SeekCurrent)
		if err != nil {
			return nil, 0, "", false, err
		}
		end, err := r.Seek(0, io.SeekEnd)
		if err != nil {
			return nil, 0, "", false, err
		}
		open = func() (io.ReadCloser, error) {
			_, err := r.Seek(start, io.SeekStart)
			return io.NopCloser(r), err
		}
		size = end - start
	default:
		if !needSum {
			// Streamed once, as it comes: it cannot be sent again.
			return func() (io.ReadCloser, error) { return io.NopCloser(r), nil }, -1, "", false, nil
		}
		// A one-way reader: held in memory to hash it before sending.
		data, err := io.ReadAll(r)
		if err != nil {
			return nil, 0, "", false, err
		}
		open = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
		size = int64(len(data))
	}
	if needSum {
		if sum, err = hashOf(open); err != nil {
			return nil, 0, "", false, err
		}
	}
	return open, size, sum, true, nil
}

func hashOf(open func() (io.ReadCloser, error)) (string, error) {
	f, err := open()
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

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

// escapeQuotes escapes a file name for its quoted-string in the part's
// Content-Disposition, as mime/multipart does.
func escapeQuotes(s string) string { return quoteEscaper.Replace(s) }

var quoteEscaper = strings.NewReplacer("\\", "\\\\", `"`, "\\\"")

// checkHeaderText refuses control characters (CR and LF above all) in a
// Media field that goes into a part header.
func checkHeaderText(field, v, want string) error {
	for i := 0; i < len(v); i++ {
		if ch := v[i]; ch < 0x20 || ch == 0x7f {
			return fmt.Errorf("%s %q holds the control character %q at byte %d: it would break or add part headers; expected %s, one line without control characters", field, v, ch, i, want)
		}
	}
	return nil
}
