package wechatpaytest

import (
	"compress/gzip"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// DefaultAnswerSize is the size of the HugeAnswer, HugeError and GzipBomb
// answers until SetAnswerSize changes it: larger than any real answer,
// small enough for a test.
const DefaultAnswerSize = 64 << 20

// SetAnswerSize sets how many bytes the HugeAnswer and HugeError answers
// send, and how many a GzipBomb answer inflates to.
func (s *Server) SetAnswerSize(n int64) {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.answerSize = n
	s.mu.Unlock()
}

func (s *Server) sizeOfAnswers() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.answerSize <= 0 {
		return DefaultAnswerSize
	}
	return s.answerSize
}

// filler and zeros are what the costly answers are made of: shared and
// never written to, so that serving them allocates next to nothing and a
// client's allocations can be measured in the same process.
var (
	filler = func() []byte {
		b := make([]byte, 32<<10)
		for i := range b {
			b[i] = 'x'
		}
		return b
	}()
	zeros = make([]byte, 32<<10)
)

// writeCostly sends one of the answers that cost a client what it reads
// of them. Each stops as soon as the client goes away.
func (s *Server) writeCostly(w http.ResponseWriter, r *http.Request, fault Fault) {
	size := s.sizeOfAnswers()
	h := w.Header()
	h.Set("Request-ID", "08"+strings.ToUpper(randomHex(16)))
	switch fault {
	case HugeAnswer, HugeError:
		start := []byte(`{"code":"SYSTEM_ERROR","message":"`)
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", strconv.FormatInt(size, 10))
		status := http.StatusOK
		if fault == HugeError {
			status = http.StatusInternalServerError
		}
		w.WriteHeader(status)
		if int64(len(start)) > size {
			start = start[:size]
		}
		if _, err := w.Write(start); err == nil {
			repeat(r, w, filler, size-int64(len(start)))
		}
	case EndlessAnswer:
		h.Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		repeat(r, w, filler, -1)
	case GzipBomb:
		h.Set("Content-Type", "application/json")
		h.Set("Content-Encoding", "gzip")
		w.WriteHeader(http.StatusOK)
		zw, _ := gzip.NewWriterLevel(w, gzip.BestCompression)
		if repeat(r, zw, zeros, size) {
			_ = zw.Close()
		}
	}
}

// repeat writes chunk to w again and again, n bytes in all (n < 0: for
// ever), until the client goes away; it reports whether all were written.
func repeat(r *http.Request, w io.Writer, chunk []byte, n int64) bool {
	for n != 0 {
		if r.Context().Err() != nil {
			return false
		}
		k := int64(len(chunk))
		if n > 0 && n < k {
			k = n
		}
		if _, err := w.Write(chunk[:k]); err != nil {
			return false
		}
		if n > 0 {
			n -= k
		}
	}
	return true
}
