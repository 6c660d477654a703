package wechatpaytest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

// preSign is a pre-entrust-sign body for the simulation's merchant.
func preSign(code, notifyURL string) map[string]any {
	return map[string]any{
		"appid": "wxd678efh567hg6787", "plan_id": 123, "out_contract_code": code,
		"user_display_name": "张三", "success_notify_url": notifyURL,
		"openid": "ouFhd5X9s9WteC3eWRjXV3lea123", "return_url": "https://shop.example/back",
		"expired_time": "2027-03-14T10:00:00+08:00",
	}
}

// apiErr returns the *wechatpay.APIError in err.
func apiErr(t *testing.T, err error) *wechatpay.APIError {
	t.Helper()
	var ae *wechatpay.APIError
	require.True(t, errors.As(err, &ae), "want an *APIError, got %v", err)
	return ae
}

// simErr returns the *wechatpaytest.SimError in err.
func simErr(t *testing.T, err error) *wechatpaytest.SimError {
	t.Helper()
	var se *wechatpaytest.SimError
	require.True(t, errors.As(err, &se), "want a *SimError, got %v", err)
	return se
}

// queryContract queries the contract pre-signed with code, plan 123.
func queryContract(b *wechatpay.Builder, code string) (*wechatpay.Response, error) {
	return b.Chain("v3/global/papay/contracts/out-contract-code/{out_contract_code}").Get(context.Background(), wechatpay.Options{
		Path:  map[string]string{"out_contract_code": code},
		Query: url.Values{"appid": {"wxd678efh567hg6787"}, "plan_id": {"123"}},
	})
}

// TestSimContractLifecycle: a JSAPI pre-sign opens a PENDING contract
// (again the same answer for the same out_contract_code), the user signs
// it and PAPAY.SIGN reaches the merchant's handler, the query answers it
// SIGNED, the merchant terminates it and PAPAY.TERMINATE follows; every
// step in the wrong state is refused with WeChat Pay's code.
func TestSimContractLifecycle(t *testing.T) {
	t.Parallel()
	sim, b := newSimulator(t)
	rc := newReceiver(t, sim, b, nil)
	ctx := context.Background()
	const code = "contract-lifecycle-0001"

	resp, err := b.V3().Global().Papay().Contracts().JsapiPreEntrustSign().Post(ctx, wechatpay.Options{JSON: preSign(code, rc.URL)})
	require.NoError(t, err)
	signURL := resp.Get("sign_url").String()
	assert.Contains(t, signURL, "https://")
	again, err := b.V3().Global().Papay().Contracts().JsapiPreEntrustSign().Post(ctx, wechatpay.Options{JSON: preSign(code, rc.URL)})
	require.NoError(t, err)
	assert.Equal(t, signURL, again.Get("sign_url").String(), "the same pending contract, the same answer")
	c, ok := sim.Contract(code)
	require.True(t, ok)
	assert.Equal(t, "PENDING", c.State)
	assert.Equal(t, "jsapi", c.Kind)
	assert.Empty(t, c.ContractID)
	assert.Len(t, sim.Contracts(), 1, "a pending contract is listed")

	_, err = queryContract(b, code)
	ae := apiErr(t, err)
	assert.Equal(t, http.StatusNotFound, ae.StatusCode)
	assert.Equal(t, "RESOURCE_NOT_EXISTS", ae.Code, "no contract exists before the user signs")

	sim.Advance(5 * time.Minute)
	require.NoError(t, sim.SignContract(code))
	got := rc.Got()
	require.Len(t, got, 1, "the first attempt is done when SignContract returns")
	assert.Equal(t, "PAPAY.SIGN", got[0].EventType)
	c, _ = sim.Contract(code)
	require.NotEmpty(t, c.ContractID)
	assert.Equal(t, c.ContractID, got[0].Get("contract_id").String())
	assert.Equal(t, code, got[0].Get("out_contract_code").String())
	assert.EqualValues(t, 123, got[0].Get("plan_id").Int())
	assert.Equal(t, sim.MchID, got[0].Get("mchid").String())
	assert.Equal(t, "ouFhd5X9s9WteC3eWRjXV3lea123", got[0].Get("openid").String())
	assert.Equal(t, "2026-03-14T10:05:00+08:00", got[0].Get("operate_time").String())
	assert.Equal(t, "2027-03-14T10:00:00+08:00", got[0].Get("contract_expired_time").String())
	assert.False(t, got[0].Get("contract_termination_mode").Exists())

	resp, err = queryContract(b, code)
	require.NoError(t, err)
	assert.Equal(t, "SIGNED", resp.Get("state").String())
	assert.Equal(t, c.ContractID, resp.Get("contract_id").String())
	assert.Equal(t, "2026-03-14T10:05:00+08:00", resp.Get("signed_time").String())
	assert.Equal(t, "张三", resp.Get("user_display_name").String())

	err = sim.SignContract(code)
	assert.Equal(t, "INVALID_REQUEST", simErr(t, err).Code, "a signed contract cannot be signed again")
	_, err = b.V3().Global().Papay().Contracts().JsapiPreEntrustSign().Post(ctx, wechatpay.Options{JSON: preSign(code, rc.URL)})
	assert.Equal(t, "INVALID_REQUEST", apiErr(t, err).Code, "a signed contract's code cannot be pre-signed again")

	sim.Advance(time.Hour)
	terminate := func() error {
		_, err := b.Chain("v3/global/papay/contracts/{contract_id}/terminate").Post(ctx, wechatpay.Options{
			Path: map[string]string{"contract_id": c.ContractID},
			JSON: map[string]string{"appid": "wxd678efh567hg6787", "termination_note": "用户退订会员"},
		})
		return err
	}
	require.NoError(t, terminate())
	// A handler only schedules the notification: the virtual clock
	// delivers what is due when it runs.
	sim.Advance(0)
	got = rc.Got()
	require.Len(t, got, 2)
	assert.Equal(t, "PAPAY.TERMINATE", got[1].EventType)
	assert.Equal(t, "MERCHANT", got[1].Get("contract_termination_mode").String())
	assert.Equal(t, c.ContractID, got[1].Get("contract_id").String())
	assert.Equal(t, "2026-03-14T11:05:00+08:00", got[1].Get("operate_time").String())

	resp, err = queryContract(b, code)
	require.NoError(t, err)
	assert.Equal(t, "TERMINATED", resp.Get("state").String())
	assert.Equal(t, "MERCHANT", resp.Get("termination_mode").String())
	assert.Equal(t, "用户退订会员", resp.Get("termination_note").String())
	assert.Equal(t, "2026-03-14T11:05:00+08:00", resp.Get("terminated_time").String())

	ae = apiErr(t, terminate())
	assert.Equal(t, http.StatusBadRequest, ae.StatusCode)
	assert.Equal(t, "INVALID_REQUEST", ae.Code, "a terminated contract cannot be terminated again")
	assert.Equal(t, "INVALID_REQUEST", simErr(t, sim.TerminateContract(code)).Code)
	assert.Len(t, rc.Got(), 2, "no notification for a refusal")
}

// TestSimContractPreSignForms: each pre-sign form answers what WeChat
// Pay's does: a sign_url to open (jsapi, h5, web) or a session_id for the
// signing SDK (app, miniprogram).
func TestSimContractPreSignForms(t *testing.T) {
	t.Parallel()
	sim, b := newSimulator(t)
	tests := []struct {
		chain *wechatpay.Chain
		kind  string
		field string
	}{
		{b.V3().Global().Papay().Contracts().JsapiPreEntrustSign(), "jsapi", "sign_url"},
		{b.V3().Global().Papay().Contracts().H5PreEntrustSign(), "h5", "sign_url"},
		{b.V3().Global().Papay().Contracts().WebPreEntrustSign(), "web", "sign_url"},
		{b.V3().Global().Papay().Contracts().AppPreEntrustSign(), "app", "session_id"},
		{b.V3().Global().Papay().Contracts().MiniprogramPreEntrustSign(), "miniprogram", "session_id"},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			code := "contract-form-" + tt.kind
			resp, err := tt.chain.Post(context.Background(), wechatpay.Options{JSON: preSign(code, "https://shop.example/notify")})
			require.NoError(t, err)
			var answer map[string]string
			require.NoError(t, json.Unmarshal(resp.Body(), &answer))
			require.Len(t, answer, 1, "%s", resp.Body())
			assert.NotEmpty(t, answer[tt.field])
			c, ok := sim.Contract(code)
			require.True(t, ok)
			assert.Equal(t, tt.kind, c.Kind)
			assert.Equal(t, "PENDING", c.State)
			last, _ := sim.LastRequest()
			assert.Equal(t, "apihk.mch.weixin.qq.com", last.Host, "the global papay endpoints are on the Hong Kong host")
		})
	}
}

// TestSimContractPreSignValidation: a pre-sign without one of the
// required fields is refused 400 PARAM_ERROR naming it, and opens nothing.
func TestSimContractPreSignValidation(t *testing.T) {
	t.Parallel()
	sim, b := newSimulator(t)
	for _, field := range []string{"plan_id", "out_contract_code", "user_display_name", "success_notify_url", "appid", "openid"} {
		t.Run(field, func(t *testing.T) {
			body := preSign("contract-missing-"+field, "https://shop.example/notify")
			delete(body, field)
			_, err := b.V3().Global().Papay().Contracts().JsapiPreEntrustSign().Post(context.Background(), wechatpay.Options{JSON: body})
			ae := apiErr(t, err)
			assert.Equal(t, http.StatusBadRequest, ae.StatusCode)
			assert.Equal(t, "PARAM_ERROR", ae.Code)
			assert.JSONEq(t, `{"field":"/`+field+`","location":"body","issue":"required"}`, string(ae.Detail))
			_, ok := sim.Contract("contract-missing-" + field)
			assert.False(t, ok)
		})
	}
	body := preSign("contract-bad-plan", "https://shop.example/notify")
	body["plan_id"] = "abc"
	_, err := b.V3().Global().Papay().Contracts().JsapiPreEntrustSign().Post(context.Background(), wechatpay.Options{JSON: body})
	assert.Equal(t, "PARAM_ERROR", apiErr(t, err).Code, "plan_id is an integer")
}

// TestSimContractPreSignChecks: a pre-sign's fields are checked as WeChat
// Pay documents them: out_contract_code 1 to 32 characters of
// [0-9A-Za-z_-|*@], success_notify_url an http(s) URL without parameters,
// expired_time after now. Each refusal is 400 PARAM_ERROR naming the field,
// and opens nothing.
func TestSimContractPreSignChecks(t *testing.T) {
	t.Parallel()
	sim, b := newSimulator(t)
	for i, tc := range []struct {
		name   string
		change func(m map[string]any)
		field  string // "" when taken
	}{
		{"code ..", func(m map[string]any) { m["out_contract_code"] = ".." }, "/out_contract_code"},
		{"code a/b", func(m map[string]any) { m["out_contract_code"] = "a/b" }, "/out_contract_code"},
		{"code with spaces", func(m map[string]any) { m["out_contract_code"] = " sp ace" }, "/out_contract_code"},
		{"code x?y#z", func(m map[string]any) { m["out_contract_code"] = "x?y#z" }, "/out_contract_code"},
		{"code 合同", func(m map[string]any) { m["out_contract_code"] = "合同" }, "/out_contract_code"},
		{"code 33 characters", func(m map[string]any) { m["out_contract_code"] = strings.Repeat("c", 33) }, "/out_contract_code"},
		{"code a number", func(m map[string]any) { m["out_contract_code"] = 12345 }, "/out_contract_code"},
		{"code every allowed character", func(m map[string]any) { m["out_contract_code"] = "09azAZ_-|*@" }, ""},
		{"code 32 characters", func(m map[string]any) { m["out_contract_code"] = strings.Repeat("C", 32) }, ""},
		{"notify not a URL", func(m map[string]any) { m["success_notify_url"] = "shop.example/notify" }, "/success_notify_url"},
		{"notify ftp", func(m map[string]any) { m["success_notify_url"] = "ftp://shop.example/notify" }, "/success_notify_url"},
		{"notify with a query", func(m map[string]any) { m["success_notify_url"] = "https://shop.example/notify?c=1" }, "/success_notify_url"},
		{"expired_time past", func(m map[string]any) { m["expired_time"] = "2026-03-14T09:59:59+08:00" }, "/expired_time"},
		{"expired_time now", func(m map[string]any) { m["expired_time"] = "2026-03-14T10:00:00+08:00" }, "/expired_time"},
		{"expired_time a second ahead", func(m map[string]any) { m["expired_time"] = "2026-03-14T02:00:01Z" }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := preSign(fmt.Sprintf("contract-check-%02d", i), "https://shop.example/notify")
			tc.change(body)
			before := len(sim.Contracts())
			_, err := b.V3().Global().Papay().Contracts().JsapiPreEntrustSign().Post(context.Background(), wechatpay.Options{JSON: body})
			if tc.field == "" {
				require.NoError(t, err)
				_, ok := sim.Contract(body["out_contract_code"].(string))
				assert.True(t, ok)
				return
			}
			ae := apiErr(t, err)
			assert.Equal(t, http.StatusBadRequest, ae.StatusCode)
			assert.Equal(t, "PARAM_ERROR", ae.Code)
			assert.Equal(t, tc.field, gjson.GetBytes(ae.Detail, "field").String(), "detail %s", ae.Detail)
			assert.Equal(t, "body", gjson.GetBytes(ae.Detail, "location").String())
			assert.NotEmpty(t, gjson.GetBytes(ae.Detail, "issue").String())
			assert.Len(t, sim.Contracts(), before, "a refused pre-sign opens nothing")
		})
	}
}

// TestSimContractPreSignRepeated: a pending contract pre-signed again with
// the same content answers the same; with any field changed it is
// INVALID_REQUEST and the contract stays as it was.
func TestSimContractPreSignRepeated(t *testing.T) {
	t.Parallel()
	sim, b := newSimulator(t)
	const code = "contract-repeated-0001"
	first, err := b.V3().Global().Papay().Contracts().JsapiPreEntrustSign().Post(context.Background(), wechatpay.Options{JSON: preSign(code, "https://shop.example/notify")})
	require.NoError(t, err)
	for _, tc := range []struct {
		name   string
		change func(m map[string]any)
		same   bool
	}{
		{"the same", func(map[string]any) {}, true},
		{"return_url omitted", func(m map[string]any) { delete(m, "return_url") }, false},
		{"appid", func(m map[string]any) { m["appid"] = "wx-other-appid-5d1e" }, false},
		{"openid", func(m map[string]any) { m["openid"] = "o-other-openid-sentinel-77" }, false},
		{"user_display_name", func(m map[string]any) { m["user_display_name"] = "李四" }, false},
		{"success_notify_url", func(m map[string]any) { m["success_notify_url"] = "https://shop.example/other-notify" }, false},
		{"return_url", func(m map[string]any) { m["return_url"] = "https://shop.example/other-back" }, false},
		{"expired_time", func(m map[string]any) { m["expired_time"] = "2027-03-15T10:00:00+08:00" }, false},
		{"plan_id", func(m map[string]any) { m["plan_id"] = 124 }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := preSign(code, "https://shop.example/notify")
			tc.change(body)
			again, err := b.V3().Global().Papay().Contracts().JsapiPreEntrustSign().Post(context.Background(), wechatpay.Options{JSON: body})
			if tc.same {
				require.NoError(t, err)
				assert.Equal(t, first.Get("sign_url").String(), again.Get("sign_url").String())
				return
			}
			ae := apiErr(t, err)
			assert.Equal(t, http.StatusBadRequest, ae.StatusCode)
			assert.Equal(t, "INVALID_REQUEST", ae.Code, ae.Message)
		})
	}
	c, ok := sim.Contract(code)
	require.True(t, ok)
	assert.Equal(t, "wxd678efh567hg6787", c.AppID)
	assert.Equal(t, "ouFhd5X9s9WteC3eWRjXV3lea123", c.OpenID)
	assert.Equal(t, "张三", c.UserDisplayName)
	assert.Equal(t, "https://shop.example/notify", c.NotifyURL)
	assert.EqualValues(t, 123, c.PlanID)
}

// TestSimContractQueryAppID: a signed contract queried with an appid other
// than its own is not found, as an unknown one is.
func TestSimContractQueryAppID(t *testing.T) {
	t.Parallel()
	sim, b := newSimulator(t)
	const code = "contract-query-appid-01"
	_, err := b.V3().Global().Papay().Contracts().AppPreEntrustSign().Post(context.Background(), wechatpay.Options{JSON: preSign(code, "https://shop.example/notify")})
	require.NoError(t, err)
	require.NoError(t, sim.SignContract(code))
	query := func(appid string) (*wechatpay.Response, error) {
		return b.Chain("v3/global/papay/contracts/out-contract-code/{out_contract_code}").Get(context.Background(), wechatpay.Options{
			Path:  map[string]string{"out_contract_code": code},
			Query: url.Values{"appid": {appid}, "plan_id": {"123"}},
		})
	}
	resp, err := query("wxd678efh567hg6787")
	require.NoError(t, err)
	assert.Equal(t, "SIGNED", resp.Get("state").String())
	_, err = query("wx-other-appid-5d1e")
	ae := apiErr(t, err)
	assert.Equal(t, http.StatusNotFound, ae.StatusCode)
	assert.Equal(t, "RESOURCE_NOT_EXISTS", ae.Code)
}

// TestSimContractUserTermination: the user ends a signed contract in
// WeChat; the termination (mode USER) is sent to the success_notify_url,
// the simulation having no termination address. Terminating a pending or
// unknown contract is refused.
func TestSimContractUserTermination(t *testing.T) {
	t.Parallel()
	sim, b := newSimulator(t)
	rc := newReceiver(t, sim, b, nil)
	ctx := context.Background()
	const code = "contract-user-ends-0001"
	_, err := b.V3().Global().Papay().Contracts().AppPreEntrustSign().Post(ctx, wechatpay.Options{JSON: preSign(code, rc.URL)})
	require.NoError(t, err)

	se := simErr(t, sim.TerminateContract(code))
	assert.Equal(t, "INVALID_REQUEST", se.Code, "a pending contract cannot be terminated")
	assert.Equal(t, "RESOURCE_NOT_EXISTS", simErr(t, sim.TerminateContract("contract-never-presigned")).Code)
	assert.Equal(t, "RESOURCE_NOT_EXISTS", simErr(t, sim.SignContract("contract-never-presigned")).Code)
	_, err = b.Chain("v3/global/papay/contracts/{contract_id}/terminate").Post(ctx, wechatpay.Options{
		Path: map[string]string{"contract_id": "9999999999999999999999"},
		JSON: map[string]string{"appid": "wxd678efh567hg6787", "termination_note": "x"},
	})
	ae := apiErr(t, err)
	assert.Equal(t, http.StatusForbidden, ae.StatusCode)
	assert.Equal(t, "CONTRACT_NOT_EXIST", ae.Code)

	require.NoError(t, sim.SignContract(code))
	require.NoError(t, sim.TerminateContract(code))
	got := rc.Got()
	require.Len(t, got, 2)
	assert.Equal(t, []string{"PAPAY.SIGN", "PAPAY.TERMINATE"}, []string{got[0].EventType, got[1].EventType})
	assert.Equal(t, "USER", got[1].Get("contract_termination_mode").String())
	c, _ := sim.Contract(code)
	assert.Equal(t, "TERMINATED", c.State)
	assert.Equal(t, "USER", c.TerminationMode)
}

// TestSimContractAndBillActionsNotStarted: the contract and bill methods
// of a Simulator that NewSimulator did not make say so instead of
// panicking.
func TestSimContractAndBillActionsNotStarted(t *testing.T) {
	t.Parallel()
	for name, s := range map[string]*wechatpaytest.Simulator{"nil": nil, "zero": {}} {
		for action, do := range map[string]func() error{
			"SignContract":      func() error { return s.SignContract("C1") },
			"TerminateContract": func() error { return s.TerminateContract("C1") },
			"TradeBill":         func() error { _, err := s.TradeBill("2026-03-14", "ALL"); return err },
			"FundFlowBill":      func() error { _, err := s.FundFlowBill("2026-03-14"); return err },
		} {
			err := do()
			require.Error(t, err, "%s %s", name, action)
			assert.Equal(t, "wechatpaytest: the Simulator is not running: create it with NewSimulator", err.Error(), "%s %s", name, action)
		}
	}
}
