package wechatpay

import (
	"bufio"
	"compress/gzip"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"strings"
)

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
