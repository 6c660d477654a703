package wechatpaytest

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"unicode/utf8"
)

// HandlerV2 answers an APIv2 request: it gets the request's parameters and
// returns the answer's fields. The server adds return_code SUCCESS (and
// result_code SUCCESS) when missing, nonce_str and sign.
type HandlerV2 func(params map[string]string) map[string]string

// HandleV2 registers h for an APIv2 path relative to the base path, without
// "v2/": "/pay/micropay". It replaces an earlier handler for that path.
// Handle also serves APIv2 paths ("POST /pay/downloadbill"), for answers
// that are not signed XML; the request's sign is checked first either way.
// A Server that NewServer did not start ignores h.
func (s *Server) HandleV2(path string, h HandlerV2) {
	if !s.running() {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handlersV2["/"+strings.TrimPrefix(path, "/")] = h
}

// serveV2 checks an APIv2 request as WeChat Pay does (client certificate
// where mutual TLS is required, then the sign: over the XML body, or for a
// GET over every query parameter, each given once) and answers with signed
// XML.
func (s *Server) serveV2(w http.ResponseWriter, r *http.Request, body []byte, path string, fault Fault) {
	var params map[string]string
	var parseErr, queryErr error
	if r.Method == http.MethodGet {
		// The query string holds the signed parameters, once each.
		q, err := url.ParseQuery(r.URL.RawQuery)
		queryErr = err
		params = map[string]string{}
		for k, vs := range q {
			if len(vs) > 1 {
				queryErr = fmt.Errorf("the parameter %s appears %d times", k, len(vs))
			}
			params[k] = vs[0]
		}
	} else {
		params, parseErr = readXMLV2(body)
	}
	entry := received(r, body)
	entry.Params = params

	var reply map[string]string
	switch {
	case parseErr != nil:
		entry.Rejected = "the body is not XML: " + parseErr.Error()
		reply = map[string]string{"return_code": "FAIL", "return_msg": "XML格式错误"}
	case queryErr != nil:
		entry.Rejected = "the query is not APIv2 parameters: " + queryErr.Error()
		reply = map[string]string{"return_code": "FAIL", "return_msg": "参数格式错误"}
	case needsCertificate(path) && entry.ClientCertificate == nil:
		entry.Rejected = "this endpoint needs the merchant API certificate (mutual TLS)"
		reply = map[string]string{"return_code": "FAIL", "return_msg": "证书错误: " + entry.Rejected}
	case params["sign"] == "":
		entry.Rejected = "the request has no sign"
		reply = map[string]string{"return_code": "FAIL", "return_msg": "缺少参数 sign"}
	case params["sign"] != signV2(params, s.Secret, params["sign_type"]):
		entry.Rejected = "sign not match"
		reply = map[string]string{"return_code": "FAIL", "return_msg": "签名错误"}
	}
	s.mu.Lock()
	s.requests = append(s.requests, entry)
	h := s.handlersV2[path]
	s.mu.Unlock()

	if reply == nil {
		// A handler from Handle answers as it likes (raw bytes, gzip).
		if m, r2 := s.userHandler(r); m != nil && h == nil {
			// The body was read to check the sign: the handler reads it again.
			r2.Body = io.NopCloser(bytes.NewReader(body))
			m.ServeHTTP(w, r2)
			return
		}
		if text, ok := downloads[path]; ok && h == nil {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = w.Write([]byte(text))
			return
		}
		reply = s.answerV2(path, params, h, fault)
	}
	switch fault {
	case BrokenXML:
		_, _ = w.Write([]byte("<xml><return_code><![CDATA[SUCCESS]]></return_code><result_"))
		return
	case HTMLPage:
		writeHTMLPage(w)
		return
	}
	out, err := writeXMLV2(reply)
	if err != nil {
		http.Error(w, "wechatpaytest: the HandlerV2 answer cannot be sent as XML: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	_, _ = w.Write(out)
}

// downloads are the default answers of the plain-text download endpoints.
var downloads = map[string]string{
	"/pay/downloadbill":     "交易时间,公众账号ID,商户号,总金额\n`2026-11-27 10:00:00,`wx1,`1900000001,`1.00\n",
	"/pay/downloadfundflow": "记账时间,微信支付业务单号,资金流水单号\n`2026-11-27 10:00:00,`5000,`4200\n",
}

// answerV2 runs the handler (or the default answer: SUCCESS with the path
// and the request's appid, mch_id and out_trade_no), then signs.
func (s *Server) answerV2(path string, params map[string]string, h HandlerV2, fault Fault) map[string]string {
	var reply map[string]string
	if h != nil {
		reply = h(params)
	}
	if reply == nil {
		reply = map[string]string{"path": path}
		for _, k := range []string{"appid", "mch_id", "sub_mch_id", "out_trade_no"} {
			if v := params[k]; v != "" {
				reply[k] = v
			}
		}
	}
	if reply["return_code"] == "" {
		reply["return_code"], reply["return_msg"] = "SUCCESS", "OK"
		if reply["result_code"] == "" {
			reply["result_code"] = "SUCCESS"
		}
	}
	switch fault {
	case ReturnCodeFail:
		return map[string]string{"return_code": "FAIL", "return_msg": "系统繁忙,请稍后再试"}
	case ResultCodeFail:
		reply["result_code"], reply["err_code"], reply["err_code_des"] = "FAIL", "SYSTEMERROR", "系统错误"
	}
	if reply["return_code"] != "SUCCESS" || unsignedV2(path) {
		return reply
	}
	reply["nonce_str"] = randomHex(16)
	reply["sign"] = signV2(reply, s.Secret, params["sign_type"])
	switch fault {
	case TamperedBody:
		reply["tampered"] = "yes"
	case MissingSignature:
		delete(reply, "sign")
	}
	return reply
}

func writeHTMLPage(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("<!DOCTYPE html><html><head><title>504 Gateway Time-out</title></head><body>504</body></html>"))
}

// signV2 is WeChat Pay's APIv2 sign of params: every pair but "sign" and
// the empty values, keys in byte order, joined "k=v&k=v", then "&key=" and
// the secret; MD5, or HMAC-SHA256 keyed with the secret when signType is
// HMAC-SHA256; upper-case hex.
func signV2(params map[string]string, secret, signType string) string {
	keys := make([]string, 0, len(params))
	for k, v := range params {
		if k != "sign" && v != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var msg strings.Builder
	for _, k := range keys {
		msg.WriteString(k + "=" + params[k] + "&")
	}
	msg.WriteString("key=" + secret)
	var sum []byte
	if signType == "HMAC-SHA256" {
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte(msg.String()))
		sum = m.Sum(nil)
	} else {
		d := md5.Sum([]byte(msg.String()))
		sum = d[:]
	}
	return strings.ToUpper(hex.EncodeToString(sum))
}

// readXMLV2 reads an APIv2 request body as WeChat Pay does: one root
// element of any name ("xml", "root") holding flat fields, each once. It
// uses encoding/xml, which knows no entities beyond XML's own, resolves
// nothing outside the body and refuses encodings other than UTF-8; a
// DOCTYPE is refused outright, so XXE payloads fail.
func readXMLV2(body []byte) (map[string]string, error) {
	d := xml.NewDecoder(bytes.NewReader(body))
	fields := map[string]string{}
	var field string
	var text strings.Builder
	depth, roots := 0, 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			depth++
			name := tok.Name.Local
			if tok.Name.Space != "" {
				name = tok.Name.Space + ":" + name
			}
			switch depth {
			case 1:
				if roots++; roots > 1 {
					return nil, errors.New("the document has more than one root element")
				}
			case 2:
				if _, dup := fields[name]; dup {
					return nil, fmt.Errorf("the field <%s> appears twice", name)
				}
				field = name
				text.Reset()
			default:
				return nil, fmt.Errorf("the field <%s> holds an element <%s>: APIv2 requests are flat", field, name)
			}
		case xml.EndElement:
			if depth == 2 {
				fields[field] = text.String()
			}
			depth--
		case xml.CharData:
			if depth == 2 {
				text.Write(tok)
			} else if t := bytes.Trim(tok, " \t\r\n"); len(t) > 0 {
				return nil, fmt.Errorf("text outside fields: %q", t)
			}
		case xml.Directive:
			return nil, fmt.Errorf("the document has a DOCTYPE or other directive (<!%.20s...>), which APIv2 messages never carry", tok)
		}
	}
	if roots == 0 {
		return nil, errors.New("unexpected EOF: the document has no root element")
	}
	return fields, nil
}

// writeXMLV2 writes fields as WeChat Pay writes its answers: headless
// <xml>, keys in byte order, every value in CDATA. A CR cannot stand in
// CDATA (every XML reader turns it into LF, and the sign would no longer
// match), so it is written as the reference &#13; between two sections;
// "]]>" is split across two sections. A name that is not an APIv2 field
// name or a value XML cannot carry is an error naming the field.
func writeXMLV2(fields map[string]string) ([]byte, error) {
	keys := make([]string, 0, len(fields))
	for k, v := range fields {
		if !isFieldNameV2(k) {
			return nil, fmt.Errorf("%q is not an APIv2 field name (a letter or \"_\", then letters, digits and \"_\")", k)
		}
		if !utf8.ValidString(v) {
			return nil, fmt.Errorf("field %q is not valid UTF-8", k)
		}
		for _, r := range v {
			if !(r == '\t' || r == '\n' || r == '\r' || 0x20 <= r && r <= 0xD7FF || 0xE000 <= r && r <= 0xFFFD || 0x10000 <= r) {
				return nil, fmt.Errorf("field %q holds U+%04X, which XML cannot carry", k, r)
			}
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	b.WriteString("<xml>")
	for _, k := range keys {
		b.WriteString("<" + k + ">")
		if v := fields[k]; v != "" {
			b.WriteString("<![CDATA[")
			for i := 0; i < len(v); i++ {
				switch {
				case v[i] == '\r':
					b.WriteString("]]>&#13;<![CDATA[")
				case strings.HasPrefix(v[i:], "]]>"):
					b.WriteString("]]]]><![CDATA[>")
					i += len("]]>") - 1
				default:
					b.WriteByte(v[i])
				}
			}
			b.WriteString("]]>")
		}
		b.WriteString("</" + k + ">")
	}
	b.WriteString("</xml>")
	return b.Bytes(), nil
}

// isFieldNameV2 reports whether s is an APIv2 field name: a letter or
// "_", then letters, digits and "_".
func isFieldNameV2(s string) bool {
	for i, c := range s {
		if !(c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9') {
			return false
		}
	}
	return s != ""
}
