package wechatpaytest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// defaultHandlers answer the basic payment endpoints, so that a client can
// place, query, close and refund an order without registering anything:
//
//	POST /v3/pay/transactions/native                      {"code_url": ...}
//	POST /v3/pay/transactions/jsapi                       {"prepay_id": ...}
//	GET  /v3/pay/transactions/id/{transaction_id}         the transaction (query mchid required)
//	GET  /v3/pay/transactions/out-trade-no/{out_trade_no} the transaction (query mchid required)
//	POST /v3/pay/transactions/out-trade-no/{out_trade_no}/close  204
//	POST /v3/refund/domestic/refunds                      the refund
//	GET  /v3/certificates, /v3/global/certificates        the platform certificates, encrypted
//	POST /v3/merchant/media/upload, video_upload, ...     {"media_id": ...} after checking the file's sha256
//
// Orders are checked as WeChat checks them (required fields, the merchant
// id), and answered 400 PARAM_ERROR otherwise.
func (s *Server) defaultHandlers() *http.ServeMux {
	mux := http.NewServeMux()
	for _, p := range []string{"/v3/merchant/media/upload", "/v3/merchant/media/video_upload",
		"/v3/marketing/favor/media/image-upload", "/v3/merchant-service/images/upload"} {
		mux.HandleFunc("POST "+p, uploaded)
	}
	mux.HandleFunc("GET /v3/certificates", s.certificates)
	mux.HandleFunc("GET /v3/global/certificates", s.certificates)
	mux.HandleFunc("POST /v3/pay/transactions/native", func(w http.ResponseWriter, r *http.Request) {
		if s.checkOrder(w, r) {
			JSON(w, http.StatusOK, map[string]string{"code_url": "weixin://wxpay/bizpayurl?pr=" + randomHex(5)})
		}
	})
	mux.HandleFunc("POST /v3/pay/transactions/jsapi", func(w http.ResponseWriter, r *http.Request) {
		if s.checkOrder(w, r) {
			JSON(w, http.StatusOK, map[string]string{"prepay_id": "wx" + time.Now().Format("20060102150405") + randomHex(8)})
		}
	})
	transaction := func(w http.ResponseWriter, r *http.Request) {
		if mchid := query(r).Get("mchid"); mchid != s.MchID {
			Error(w, http.StatusBadRequest, "PARAM_ERROR", fmt.Sprintf("query mchid %q is not the merchant %s", mchid, s.MchID))
			return
		}
		tx := map[string]any{
			"appid": "wxd678efh567hg6787", "mchid": s.MchID,
			"transaction_id": "4200000001" + time.Now().Format("20060102") + "12345678",
			"out_trade_no":   "1217752501201407033233368018",
			"trade_type":     "NATIVE", "trade_state": "SUCCESS", "trade_state_desc": "支付成功",
			"success_time": time.Now().Format(time.RFC3339),
			"amount":       map[string]any{"total": 100, "payer_total": 100, "currency": "CNY", "payer_currency": "CNY"},
		}
		if id := r.PathValue("transaction_id"); id != "" {
			tx["transaction_id"] = id
		}
		if no := r.PathValue("out_trade_no"); no != "" {
			tx["out_trade_no"] = no
		}
		JSON(w, http.StatusOK, tx)
	}
	mux.HandleFunc("GET /v3/pay/transactions/id/{transaction_id}", transaction)
	mux.HandleFunc("GET /v3/pay/transactions/out-trade-no/{out_trade_no}", transaction)
	mux.HandleFunc("POST /v3/pay/transactions/out-trade-no/{out_trade_no}/close", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			MchID string `json:"mchid"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.MchID != s.MchID {
			Error(w, http.StatusBadRequest, "PARAM_ERROR", "mchid is missing or is not the merchant's")
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /v3/refund/domestic/refunds", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			OutRefundNo string `json:"out_refund_no"`
			Amount      struct {
				Refund int `json:"refund"`
				Total  int `json:"total"`
			} `json:"amount"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.OutRefundNo == "" || req.Amount.Refund <= 0 {
			Error(w, http.StatusBadRequest, "PARAM_ERROR", "out_refund_no and amount.refund are required")
			return
		}
		JSON(w, http.StatusOK, map[string]any{
			"refund_id": "50000000382019052709732678859", "out_refund_no": req.OutRefundNo,
			"status": "PROCESSING", "create_time": time.Now().Format(time.RFC3339),
			"amount": map[string]any{"refund": req.Amount.Refund, "total": req.Amount.Total, "currency": "CNY"},
		})
	})
	return mux
}

// checkOrder validates an order body and answers 400 PARAM_ERROR like WeChat
// when it is incomplete; it reports whether the order is good.
func (s *Server) checkOrder(w http.ResponseWriter, r *http.Request) bool {
	var order struct {
		AppID       string `json:"appid"`
		MchID       string `json:"mchid"`
		Description string `json:"description"`
		OutTradeNo  string `json:"out_trade_no"`
		NotifyURL   string `json:"notify_url"`
		Amount      *struct {
			Total int `json:"total"`
		} `json:"amount"`
	}
	if err := json.NewDecoder(r.Body).Decode(&order); err != nil {
		Error(w, http.StatusBadRequest, "PARAM_ERROR", "the body is not JSON: "+err.Error())
		return false
	}
	missing := ""
	switch {
	case order.AppID == "":
		missing = "appid"
	case order.MchID == "":
		missing = "mchid"
	case order.Description == "":
		missing = "description"
	case order.OutTradeNo == "":
		missing = "out_trade_no"
	case order.NotifyURL == "":
		missing = "notify_url"
	case order.Amount == nil || order.Amount.Total <= 0:
		missing = "amount.total"
	}
	if missing != "" {
		JSON(w, http.StatusBadRequest, map[string]any{"code": "PARAM_ERROR", "message": "缺少参数 " + missing,
			"detail": map[string]any{"field": "/" + missing, "location": "body", "issue": "required"}})
		return false
	}
	if order.MchID != s.MchID {
		Error(w, http.StatusBadRequest, "PARAM_ERROR", fmt.Sprintf("mchid %s does not match the merchant %s of the request signature", order.MchID, s.MchID))
		return false
	}
	return true
}
