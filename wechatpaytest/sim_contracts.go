package wechatpaytest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"time"
)

// The papay (auto-debit) contracts of the global API, on the Hong Kong
// host: a pre-sign opens a PENDING contract, the user signs it
// (SignContract, the dashboard), the merchant queries it and terminates it,
// or the user does (TerminateContract). Signing sends PAPAY.SIGN to the
// success_notify_url, terminating PAPAY.TERMINATE. WeChat Pay sends the
// termination to the termination callback address configured with the
// contract template in the merchant platform; the simulation has no such
// setting and sends it to the contract's success_notify_url too.
//
// A pre-sign is checked as WeChat Pay documents it: out_contract_code 1 to
// 32 characters of [0-9A-Za-z_-|*@], success_notify_url an http(s) URL as
// an order's notify_url, expired_time after now. A PENDING contract
// pre-signed again with the same content (as an order's, see canonical)
// answers the same; with any field other, or a contract no longer PENDING,
// it is 400 INVALID_REQUEST.

// contractKinds are the pre-sign forms and what each answers: a sign_url
// to open (jsapi in WeChat, h5 in a mobile browser, web on a computer) or
// a session_id for the app or Mini Program signing SDK.
var contractKinds = map[string]string{
	"jsapi":       "sign_url",
	"h5":          "sign_url",
	"web":         "sign_url",
	"app":         "session_id",
	"miniprogram": "session_id",
}

// outContractCodePattern is what WeChat Pay accepts as out_contract_code.
var outContractCodePattern = regexp.MustCompile(`^[0-9A-Za-z_\-|*@]{1,32}$`)

// contractPreSign is the body of a pre-entrust-sign request.
type contractPreSign struct {
	AppID            string          `json:"appid"`
	SubMchID         string          `json:"sub_mchid"`
	SpAppID          string          `json:"sp_appid"`
	PlanID           json.RawMessage `json:"plan_id"`
	OutContractCode  string          `json:"out_contract_code"`
	UserDisplayName  string          `json:"user_display_name"`
	SuccessNotifyURL string          `json:"success_notify_url"`
	OpenID           string          `json:"openid"`
	ExpiredTime      string          `json:"expired_time"`
}

// routeContracts serves the papay contract endpoints on the simulation's
// state.
func (s *Simulator) routeContracts() {
	for kind := range contractKinds {
		s.Handle("POST /v3/global/papay/contracts/"+kind+"-pre-entrust-sign", func(w http.ResponseWriter, r *http.Request) {
			answer, err := s.preSignContract(kind, r)
			if err != nil {
				writeSimError(w, err)
				return
			}
			JSON(w, http.StatusOK, answer)
		})
	}
	s.Handle("GET /v3/global/papay/contracts/out-contract-code/{out_contract_code}", s.queryContract)
	s.Handle("POST /v3/global/papay/contracts/{contract_id}/terminate", s.terminateContractAPI)
}

// preSignContract opens a PENDING contract of kind from r's body, or
// answers the same for a pending contract pre-signed with the same
// out_contract_code.
func (s *Simulator) preSignContract(kind string, r *http.Request) (map[string]string, error) {
	var req contractPreSign
	body, err := readJSON(r, &req)
	if err != nil {
		return nil, err
	}
	required := []struct{ name, value string }{
		{"plan_id", string(req.PlanID)},
		{"out_contract_code", req.OutContractCode},
		{"user_display_name", req.UserDisplayName},
		{"success_notify_url", req.SuccessNotifyURL},
	}
	// Common mode names the appid; institutional mode the sub-merchant and
	// the institution's appid.
	if req.SubMchID == "" {
		required = append([]struct{ name, value string }{{"appid", req.AppID}}, required...)
	} else {
		required = append([]struct{ name, value string }{{"sp_appid", req.SpAppID}}, required...)
	}
	if kind == "jsapi" || kind == "miniprogram" {
		required = append(required, struct{ name, value string }{"openid", req.OpenID})
	}
	for _, f := range required {
		if f.value == "" || f.value == "null" {
			return nil, &badField{"body", "/" + f.name, "required"}
		}
	}
	plan, err := strconv.ParseInt(string(req.PlanID), 10, 64)
	if err != nil || plan <= 0 {
		return nil, &badField{"body", "/plan_id", "plan_id is " + string(req.PlanID) + ": expected the template id, a positive integer"}
	}
	if !outContractCodePattern.MatchString(req.OutContractCode) {
		return nil, &badField{"body", "/out_contract_code", fmt.Sprintf("%q is not 1 to 32 characters of [0-9A-Za-z_-|*@]", req.OutContractCode)}
	}
	if err := checkURL("/success_notify_url", req.SuccessNotifyURL); err != nil {
		return nil, err
	}
	var expires time.Time
	if req.ExpiredTime != "" {
		if expires, err = time.Parse(time.RFC3339, req.ExpiredTime); err != nil {
			return nil, &badField{"body", "/expired_time", "expected RFC 3339 (2021-11-20T13:29:35+08:00)"}
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if now := s.now(); !expires.IsZero() && !expires.After(now) {
		return nil, &badField{"body", "/expired_time", fmt.Sprintf("%s is not after the current time %s", req.ExpiredTime, wxTime(now))}
	}
	content := canonical(body, nil)
	if c, ok := s.byCode[req.OutContractCode]; ok {
		if c.State != "PENDING" {
			return nil, refuse(http.StatusBadRequest, "INVALID_REQUEST", "out_contract_code %s is already used by a %s contract: a new contract needs a new out_contract_code", c.OutContractCode, c.State)
		}
		if c.Kind != kind || !bytes.Equal(c.body, content) {
			return nil, refuse(http.StatusBadRequest, "INVALID_REQUEST", "out_contract_code %s was pre-signed (%s) with other content; a repeated pre-sign must be identical", c.OutContractCode, c.Kind)
		}
		return contractAnswer(c), nil
	}
	appID := req.AppID
	if appID == "" {
		appID = req.SpAppID
	}
	c := &Contract{
		OutContractCode: req.OutContractCode, PlanID: plan, AppID: appID, MchID: s.MchID,
		OpenID: req.OpenID, UserDisplayName: req.UserDisplayName, NotifyURL: req.SuccessNotifyURL,
		Kind: kind, State: "PENDING", Created: s.now(), Expires: expires, body: content,
	}
	s.byCode[c.OutContractCode] = c
	return contractAnswer(c), nil
}

// contractSession is the signing session of a pending contract, the same
// on every pre-sign of it.
func contractSession(c *Contract) string {
	sum := sha256.Sum256([]byte(c.MchID + "\x00" + c.Kind + "\x00" + c.OutContractCode))
	return "sim" + hex.EncodeToString(sum[:12])
}

// contractAnswer is what a pre-sign answers for c.
func contractAnswer(c *Contract) map[string]string {
	session := contractSession(c)
	if contractKinds[c.Kind] == "session_id" {
		return map[string]string{"session_id": session}
	}
	return map[string]string{"sign_url": "https://payapp.weixin.qq.com/papay/entrustweb?session_id=" + session}
}

// contractView is a contract as the query answers it.
func contractView(c *Contract) map[string]any {
	v := map[string]any{
		"mchid": c.MchID, "appid": c.AppID, "contract_id": c.ContractID, "plan_id": c.PlanID,
		"out_contract_code": c.OutContractCode, "user_display_name": c.UserDisplayName,
		"openid": c.OpenID, "state": c.State, "signed_time": wxTime(c.Signed),
	}
	if c.State == "TERMINATED" {
		v["terminated_time"] = wxTime(c.Terminated)
		v["termination_mode"] = c.TerminationMode
		v["termination_note"] = c.TerminationNote
	}
	return v
}

// queryContract answers GET out-contract-code/{out_contract_code}: the
// signed (or terminated) contract. The query names the appid (common mode;
// sub_mchid in institutional mode) and the plan_id, as documented. A
// contract that is still PENDING does not exist yet for WeChat Pay: it has
// no contract_id until the user signs. A contract of another appid is not
// found, as an unknown one.
func (s *Simulator) queryContract(w http.ResponseWriter, r *http.Request) {
	q := query(r)
	switch {
	case q.Get("appid") == "" && q.Get("sub_mchid") == "":
		writeSimError(w, &badField{"query", "appid", "required"})
		return
	case q.Get("plan_id") == "":
		writeSimError(w, &badField{"query", "plan_id", "required"})
		return
	}
	code := r.PathValue("out_contract_code")
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.byCode[code]
	switch {
	case !ok || strconv.FormatInt(c.PlanID, 10) != q.Get("plan_id") || (q.Get("appid") != "" && q.Get("appid") != c.AppID):
		Error(w, http.StatusNotFound, "RESOURCE_NOT_EXISTS", "no contract with out_contract_code "+code+" and plan_id "+q.Get("plan_id"))
	case c.State == "PENDING":
		Error(w, http.StatusNotFound, "RESOURCE_NOT_EXISTS", "the contract with out_contract_code "+code+" is not signed yet")
	default:
		JSON(w, http.StatusOK, contractView(c))
	}
}

// terminateContractAPI answers POST {contract_id}/terminate: the merchant
// ends a SIGNED contract (204), and the termination is notified.
func (s *Simulator) terminateContractAPI(w http.ResponseWriter, r *http.Request) {
	var req struct {
		AppID           string `json:"appid"`
		SubMchID        string `json:"sub_mchid"`
		TerminationNote string `json:"termination_note"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeRefusal(w, refuse(http.StatusBadRequest, "PARAM_ERROR", "the body is not JSON: %v", err))
		return
	}
	switch {
	case req.AppID == "" && req.SubMchID == "":
		writeSimError(w, &badField{"body", "/appid", "required"})
		return
	case req.TerminationNote == "":
		writeSimError(w, &badField{"body", "/termination_note", "required"})
		return
	}
	id := r.PathValue("contract_id")
	s.mu.Lock()
	c, ok := s.contract[id]
	var err error
	if !ok {
		err = refuse(http.StatusForbidden, "CONTRACT_NOT_EXIST", "no contract with contract_id %s", id)
	} else {
		err = s.terminate(c, "MERCHANT", req.TerminationNote)
	}
	s.mu.Unlock()
	if err != nil {
		writeRefusal(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// terminate ends the SIGNED contract c and notifies it; the caller holds
// s.mu.
func (s *Simulator) terminate(c *Contract, mode, note string) error {
	if c.State != "SIGNED" {
		return refuse(http.StatusBadRequest, "INVALID_REQUEST", "the contract %s is %s: only a SIGNED contract can be terminated", c.OutContractCode, c.State)
	}
	c.State, c.Terminated, c.TerminationMode, c.TerminationNote = "TERMINATED", s.now(), mode, note
	s.notify(c.NotifyURL, "PAPAY.TERMINATE", "papay", "解约成功", contractResource(c, c.Terminated))
	return nil
}

// contractResource is the plaintext of a PAPAY.SIGN or PAPAY.TERMINATE
// notification about c, made at operated.
func contractResource(c *Contract, operated time.Time) map[string]any {
	v := map[string]any{
		"mchid": c.MchID, "appid": c.AppID, "out_contract_code": c.OutContractCode,
		"openid": c.OpenID, "contract_id": c.ContractID, "plan_id": c.PlanID,
		"operate_time": wxTime(operated),
	}
	if !c.Expires.IsZero() {
		v["contract_expired_time"] = wxTime(c.Expires)
	}
	if c.State == "TERMINATED" {
		v["contract_termination_mode"] = c.TerminationMode
	}
	return v
}

// SignContract has the user sign the PENDING contract pre-signed with
// outContractCode: it becomes SIGNED with a contract_id, and PAPAY.SIGN is
// sent to its success_notify_url; it returns when the first attempt to
// deliver it is done. A contract already signed or terminated is refused
// (INVALID_REQUEST), an unknown one too (RESOURCE_NOT_EXISTS).
func (s *Simulator) SignContract(outContractCode string) error {
	return s.act(func() error {
		c, ok := s.byCode[outContractCode]
		switch {
		case !ok:
			return refuse(http.StatusNotFound, "RESOURCE_NOT_EXISTS", "no contract pre-signed with out_contract_code %s", outContractCode)
		case c.State != "PENDING":
			return refuse(http.StatusBadRequest, "INVALID_REQUEST", "the contract %s is already %s", outContractCode, c.State)
		}
		if c.OpenID == "" {
			// h5 and web pre-signs name no user: the simulated one signs.
			c.OpenID = s.nextID("oSim", 28)
		}
		c.ContractID = s.nextID("", 22)
		c.State, c.Signed = "SIGNED", s.now()
		s.contract[c.ContractID] = c
		s.notify(c.NotifyURL, "PAPAY.SIGN", "papay", "签约成功", contractResource(c, c.Signed))
		return nil
	})
}

// TerminateContract ends the SIGNED contract pre-signed with
// outContractCode, as the user would in WeChat (termination mode USER),
// and sends PAPAY.TERMINATE to the contract's success_notify_url (where
// WeChat Pay sends it to the termination address of the merchant
// platform, which the simulation does not have); it returns when the first
// attempt to deliver it is done. A contract that is PENDING or already
// TERMINATED is refused (INVALID_REQUEST).
func (s *Simulator) TerminateContract(outContractCode string) error {
	return s.act(func() error {
		c, ok := s.byCode[outContractCode]
		if !ok {
			return refuse(http.StatusNotFound, "RESOURCE_NOT_EXISTS", "no contract pre-signed with out_contract_code %s", outContractCode)
		}
		return s.terminate(c, "USER", "")
	})
}
