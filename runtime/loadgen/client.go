package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/apronlab/apron/runtime/api"
)

// client is an HTTP client for many long-lived streams to one master: it
// speaks unencrypted HTTP/2, so thousands of streams share a few
// connections (the master allows 1,000 per connection).
var client = func() *http.Client {
	t := &http.Transport{IdleConnTimeout: time.Minute}
	t.Protocols = new(http.Protocols)
	t.Protocols.SetUnencryptedHTTP2(true)
	return &http.Client{Transport: t}
}()

// post sends a JSON call and returns the HTTP status.
func post(ctx context.Context, url string, body any, header map[string]string) (int, error) {
	data, err := json.Marshal(body)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(data))
	if err != nil {
		return 0, err
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var e api.ErrorBody
	if resp.StatusCode >= 300 && json.NewDecoder(resp.Body).Decode(&e) == nil {
		return resp.StatusCode, fmt.Errorf("%s: %s", resp.Status, e.Error)
	}
	return resp.StatusCode, nil
}

// stream posts a subscription and returns its response, whose body is the
// event stream.
func stream(ctx context.Context, url string, body any) (*http.Response, error) {
	data, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("subscribe: %s", resp.Status)
	}
	return resp, nil
}
