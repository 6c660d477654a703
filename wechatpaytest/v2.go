package wechatpaytest

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/wechatpay-chain/wechatpay/apiv2"
	"github.com/wechatpay-chain/wechatpay/catalog"
)

// HandlerV2 answers an APIv2 request: it gets the request's parameters and
// returns the answer's fields. The server adds return_code SUCCESS (and
// result_code SUCCESS) when missing, nonce_str and sign.
type HandlerV2 func(params map[string]string) map[string]string

// HandleV2 registers h for an APIv2 path relative to the base path, without
// "v2/": "/pay/micropay". It replaces an earlier handler for that path.
// Handle also serves APIv2 paths ("POST /pay/downloadbill"), for answers
// that are not signed XML; the request's sign is checked first either way.
func (s *Server) HandleV2(path string, h HandlerV2) {
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
		params, parseErr = apiv2.Decode(body)
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
	case s.needsCertificate(path) && entry.ClientCertificate == nil:
		entry.Rejected = "this endpoint needs the merchant API certificate (mutual TLS)"
		reply = map[string]string{"return_code": "FAIL", "return_msg": "证书错误: " + entry.Rejected}
	case params["sign"] == "":
		entry.Rejected = "the request has no sign"
		reply = map[string]string{"return_code": "FAIL", "return_msg": "缺少参数 sign"}
	case params["sign"] != apiv2.Sign(params, s.Secret, params["sign_type"]):
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
	out, err := apiv2.Encode(reply)
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
	if reply["return_code"] != "SUCCESS" || apiv2.Unsigned(path) {
		return reply
	}
	reply["nonce_str"] = randomHex(16)
	reply["sign"] = apiv2.Sign(reply, s.Secret, params["sign_type"])
	switch fault {
	case TamperedBody:
		reply["tampered"] = "yes"
	case MissingSignature:
		delete(reply, "sign")
	}
	return reply
}

// needsCertificate: WeChat Pay asks for the merchant certificate on
// secapi/* and on the endpoints the catalog marks "security".
func (s *Server) needsCertificate(path string) bool {
	if strings.HasPrefix(path, "/secapi/") {
		return true
	}
	for _, e := range catalog.Match("v2" + path) {
		if e.Security() {
			return true
		}
	}
	return false
}

func writeHTMLPage(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("<!DOCTYPE html><html><head><title>504 Gateway Time-out</title></head><body>504</body></html>"))
}
