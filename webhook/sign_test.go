package webhook

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// TestSignAgreesWithTheSpecification checks Sign against the example of
// the Standard Webhooks specification's libraries and against their
// verifier.
func TestSignAgreesWithTheSpecification(t *testing.T) {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	const id = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	ts := time.Unix(1614265330, 0)
	body := []byte(`{"test": 2432232314}`)
	got, err := Sign(secret, id, ts, body)
	if err != nil {
		t.Fatal(err)
	}
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
	v, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(HeaderSignature, got)
	if err := v.VerifyIgnoringTimestamp(body, h); err != nil {
		t.Errorf("the reference verifier refuses the signature: %v", err)
	}
	if _, err := Sign("whsec_not base64!", id, ts, body); err == nil {
		t.Error("a secret that is not base64 was used")
	}
}

// TestDeliveriesReachNoPrivateAddress: without AllowPrivate, a delivery
// refuses to connect to a loopback address, whatever name led to it.
func TestDeliveriesReachNoPrivateAddress(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	for _, allow := range []bool{false, true} {
		w := NewWorker(nil, Options{AllowPrivate: allow, Timeout: 2 * time.Second})
		for _, u := range []string{srv.URL, strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)} {
			resp, err := w.client.Post(u, "application/json", strings.NewReader("{}"))
			if resp != nil {
				resp.Body.Close()
			}
			if allow && err != nil {
				t.Errorf("AllowPrivate: %s: %v", u, err)
			}
			if !allow && (err == nil || !strings.Contains(err.Error(), "not public")) {
				t.Errorf("%s: got %v, want a refusal of the private address", u, err)
			}
		}
	}
}
