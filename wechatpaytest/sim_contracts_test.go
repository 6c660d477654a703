package wechatpaytest_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
